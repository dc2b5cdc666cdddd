-- Evaluation's own tables (schema ``evaluation``). Other services learn about decisions from
-- ``case.decided`` events, never from these tables.

-- The latest submission of each case, as intake sent it: re-evaluation (a counter-proposal)
-- runs on the same facts the last decision saw.
create table if not exists cases (
    case_id             text primary key,
    borrower_id         text not null,
    opened_on           date not null,
    latest_submission   integer not null,
    submitted           jsonb not null,          -- the case.submitted payload
    submitted_on        date not null,           -- business date of that submission
    first_decided_on    date,                    -- first approve/decline: time to first decision
    updated_at          timestamptz not null default now()
);

-- Every decision ever made, by the rules or by a supervisor; never updated.
create table if not exists decisions (
    decision_id         text primary key,
    case_id             text not null references cases (case_id),
    borrower_id         text not null,
    submission          integer not null,
    trigger             text not null check (trigger in ('submission', 'counter_proposal', 'supervisor_review')),
    outcome             text not null check (outcome in ('approve', 'needs_supervisor', 'need_more_evidence', 'decline')),
    decided_by          text not null check (decided_by in ('rules', 'supervisor')),
    decided_by_subject  text,                    -- the supervisor's subject when decided_by = supervisor
    override_reason     text,
    reasons             jsonb not null,          -- [{code, detail}]
    offers              jsonb not null,          -- [OfferTerms] with full schedules
    assessment          jsonb not null default '{}'::jsonb,  -- affordability, priority band, missing evidence
    policy_version      text not null,
    decided_on          date not null,           -- business date
    supersedes_decision_id text references decisions (decision_id),
    event_id            uuid not null,           -- the case.decided event recorded in the outbox
    created_at          timestamptz not null default now()
);
create index if not exists decisions_by_case on decisions (case_id, created_at);

-- Offers that agreement made from our decisions (projection of offer.made), so that a
-- counter-proposal can be traced to the decision it answers.
create table if not exists offers_made (
    offer_id            text primary key,
    case_id             text not null,
    decision_id         text not null,
    rank                integer not null
);

-- The supervisor review queue.
create table if not exists reviews (
    review_id           text primary key,
    case_id             text not null references cases (case_id),
    borrower_id         text not null,
    decision_id         text not null references decisions (decision_id),  -- the rules' needs_supervisor decision
    status              text not null check (status in ('open', 'decided', 'superseded')),
    opened_on           date not null,
    closed_on           date,
    outcome_decision_id text references decisions (decision_id),
    created_at          timestamptz not null default now()
);
create index if not exists reviews_by_status on reviews (status, created_at);
create unique index if not exists one_open_review_per_case on reviews (case_id) where status = 'open';

-- Append-only audit of everything done to a review: who, when, why, before and after.
create table if not exists review_audit (
    id                  bigserial primary key,
    review_id           text not null references reviews (review_id),
    case_id             text not null,
    action              text not null,           -- opened, approved, declined, superseded
    actor_subject       text not null,
    actor_role          text not null,
    reason              text,
    before              jsonb,
    after               jsonb not null,
    business_date       date not null,
    at                  timestamptz not null default now()
);

create or replace function review_audit_is_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'review_audit is append-only';
end $$;
drop trigger if exists review_audit_append_only on review_audit;
create trigger review_audit_append_only before update or delete on review_audit
    for each row execute function review_audit_is_append_only();

-- idempotency_keys: the shared table of forbear_shared.idempotency (shared migration 0003)

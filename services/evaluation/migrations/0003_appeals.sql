-- Appeals of a decline (申诉 / 复议): lodged by the borrower or an authorised representative
-- within the policy's window, reviewed by a supervisor other than the decider.
alter table decisions drop constraint if exists decisions_trigger_check;
alter table decisions add constraint decisions_trigger_check
    check (trigger in ('submission', 'counter_proposal', 'supervisor_review', 'appeal'));
-- the last day to appeal, stated on a decline (null on other outcomes and before appeals existed)
alter table decisions add column if not exists appeal_deadline date;

create table if not exists appeals (
    appeal_id           text primary key,
    case_id             text not null references cases (case_id),
    borrower_id         text not null,
    decision_id         text not null references decisions (decision_id),  -- the decline appealed
    status              text not null check (status in ('pending', 'upheld', 'overturned')),
    lodged_on           date not null,
    deadline            date not null,           -- the window's last day, as it stood when lodged
    lodged_by           text not null check (lodged_by in ('borrower', 'representative')),
    representative_id   text,
    recorded_by_subject text not null,           -- who typed it: the borrower, or the agent who took it
    recorded_by_role    text not null,
    statement           text,                    -- the borrower's grounds (erased with the case's personal data)
    evidence            jsonb not null,          -- [{document_type, description}]
    decided_on          date,
    decided_by_subject  text,                    -- the reviewing supervisor
    decision_reason     text,
    outcome_decision_id text references decisions (decision_id),  -- overturned: the decision that reopens the case
    created_at          timestamptz not null default now()
);
create index if not exists appeals_by_status on appeals (status, created_at);
create index if not exists appeals_by_decision on appeals (decision_id);
create index if not exists appeals_by_case on appeals (case_id);

-- The representatives intake recorded for each case (from representative.authorised / revoked and
-- the review of the authorisation document): who may appeal for a borrower.
create table if not exists representatives (
    case_id             text not null,
    representative_id   text not null,
    kind                text not null,
    scopes              text[] not null,
    starts_on           date not null,
    ends_on             date not null,
    revoked_on          date,
    document_id         text not null,
    document_rejected   boolean not null default false,
    primary key (case_id, representative_id)
);
create index if not exists representatives_by_document on representatives (document_id);

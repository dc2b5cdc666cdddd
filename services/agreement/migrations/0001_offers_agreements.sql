-- The agreement service's own tables (schema "agreement").

-- What this service knows of each case, from evaluation's decisions.
create table cases (
    case_id                   text primary key,
    borrower_id               text not null,
    latest_decision_id        text not null,
    latest_outcome            text not null,
    latest_decided_on         date not null,
    renegotiates_agreement_id text,
    updated_at                timestamptz not null default now()
);
create index cases_borrower on cases (borrower_id);

create table offers (
    offer_id                  text primary key,
    case_id                   text not null references cases (case_id),
    decision_id               text not null,
    borrower_id               text not null,
    rank                      integer not null check (rank >= 1),
    option                    text not null,
    -- the whole OfferTerms as evaluation sent it, schedule included (amounts as decimal strings)
    terms                     jsonb not null,
    new_instalment            numeric(18, 2) not null,
    term_months               integer not null,
    policy_version            text not null,
    renegotiates_agreement_id text,
    decided_on                date not null,
    expires_on                date not null,
    status                    text not null default 'open'
                              check (status in ('open', 'accepted', 'countered', 'expired', 'withdrawn')),
    -- business date of the last status change, and why (e.g. superseded_by_decision)
    status_on                 date,
    status_reason             text,
    counter_proposal          jsonb,
    created_at                timestamptz not null default now(),
    updated_at                timestamptz not null default now(),
    unique (decision_id, rank)
);
create index offers_case on offers (case_id);
create index offers_open_by_expiry on offers (expires_on) where status = 'open';
create index offers_status on offers (status, expires_on);

create table agreements (
    agreement_id              text primary key,
    case_id                   text not null references cases (case_id),
    offer_id                  text not null unique references offers (offer_id),
    borrower_id               text not null,
    status                    text not null default 'awaiting_signatures'
                              check (status in ('awaiting_signatures', 'active', 'superseded')),
    option                    text not null,
    loan_ids                  jsonb not null,
    schedule                  jsonb not null,
    policy_version            text not null,
    payment_method            text not null,
    supersedes_agreement_id   text,
    document_canonical        text not null,
    document_rendered         text not null,
    document_sha256           text not null,
    accepted_on               date not null,
    activated_on              date,
    created_at                timestamptz not null default now(),
    updated_at                timestamptz not null default now()
);
create index agreements_case on agreements (case_id);
create index agreements_status on agreements (status, accepted_on);

create table signatures (
    agreement_id              text not null references agreements (agreement_id),
    party                     text not null check (party in ('borrower', 'lender')),
    signed_by                 text not null,
    signed_role               text not null,
    on_behalf_of_borrower     boolean not null,
    document_sha256           text not null,
    signed_on                 date not null,
    signed_at                 timestamptz not null,
    primary key (agreement_id, party)
);

-- Append-only record of every change: who, what, when (business date and clock), why.
create table audit_log (
    id                        bigserial primary key,
    case_id                   text not null,
    subject_kind              text not null,
    subject_id                text not null,
    action                    text not null,
    actor                     text not null,
    actor_role                text not null,
    business_date             date not null,
    at                        timestamptz not null default now(),
    detail                    jsonb not null default '{}'::jsonb
);
create index audit_case on audit_log (case_id, id);

-- idempotency_keys: the shared table of forbear_shared.idempotency (shared migration 0003)

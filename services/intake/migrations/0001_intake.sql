-- Intake owns borrowers' personal data, the loans projection, cases, evidence, statements,
-- contacts and the append-only case audit. Personal data lives only here.

create table borrowers (
    borrower_id   text primary key,
    name          text,
    national_id   text,
    phone         text,
    updated_at    timestamptz not null default now()
);

-- Loans as core banking last told us (corebanking.loans) or as given with a case.
create table loans (
    loan_id       text primary key,
    borrower_id   text not null,
    as_of         date not null,
    snapshot      jsonb not null,
    source        text not null check (source in ('corebanking', 'case')),
    updated_at    timestamptz not null default now()
);
create index loans_borrower on loans (borrower_id);

create table cases (
    case_id                    text primary key,
    borrower_id                text not null,
    hardship_category          text not null,
    story                      text not null default '',
    channel                    text not null,
    dpd_at_first_contact       integer not null check (dpd_at_first_contact >= 0),
    opened_on                  date not null,
    status                     text not null,
    evidence_deadline          date not null,
    history                    jsonb not null,
    statement                  jsonb,
    renegotiates_agreement_id  text,
    submissions                integer not null default 0,
    -- evaluation asked for more evidence: a review completing it re-submits the case
    awaiting_more_evidence     boolean not null default false,
    -- the case was submitted once because its evidence deadline passed (never twice)
    deadline_submitted         boolean not null default false,
    last_outcome               text,
    created_by                 text not null,
    created_at                 timestamptz not null default now(),
    updated_at                 timestamptz not null default now()
);
create index cases_borrower on cases (borrower_id);
create index cases_status on cases (status);
create index cases_deadline on cases (evidence_deadline) where not deadline_submitted;

create table case_loans (
    case_id   text not null references cases (case_id),
    loan_id   text not null,
    primary key (case_id, loan_id)
);

create table evidence_documents (
    document_id        text primary key,
    case_id            text not null references cases (case_id),
    document_type      text not null,
    media_type         text not null,
    size_bytes         bigint not null,
    sha256             text not null,
    original_filename  text,
    status             text not null default 'pending' check (status in ('pending', 'accepted', 'rejected')),
    rejection_reason   text,
    found_false        boolean not null default false,
    uploaded_by        text not null,
    uploaded_on        date not null,
    uploaded_at        timestamptz not null default now(),
    reviewed_by        text,
    reviewed_on        date,
    reviewed_at        timestamptz
);
create index evidence_case on evidence_documents (case_id);

create table contacts (
    contact_id       text primary key,
    case_id          text not null references cases (case_id),
    party            text not null,
    channel          text not null,
    direction        text not null,
    on_date          date not null,
    local_time       time not null,
    outcome          text not null check (outcome in ('allowed', 'refused')),
    refusal_reasons  text[] not null default '{}',
    note             text,
    recorded_by      text not null,
    recorded_at      timestamptz not null default now()
);
create index contacts_case on contacts (case_id, on_date);

-- Decisions heard from evaluation (for the timeline and the status).
create table decisions (
    decision_id   text primary key,
    case_id       text not null references cases (case_id),
    outcome       text not null,
    submission    integer not null,
    decided_by    text not null,
    decided_on    date not null,
    reasons       jsonb not null,
    received_at   timestamptz not null default now()
);

-- Agreements heard from the agreement service: who owns them, for renegotiation checks.
create table agreements (
    agreement_id  text primary key,
    case_id       text not null,
    borrower_id   text not null,
    activated_on  date not null
);

-- Renegotiation requests per agreement (at most policy.renegotiation.max_per_agreement per window).
create table renegotiations (
    case_id        text primary key references cases (case_id),
    agreement_id   text not null,
    requested_on   date not null
);
create index renegotiations_agreement on renegotiations (agreement_id, requested_on);

-- idempotency_keys: the shared table of forbear_shared.idempotency (shared migration 0003)

-- Everything that changes a case: who, what, when (technical and business), why.
create table case_events (
    id             bigserial primary key,
    case_id        text not null,
    at             timestamptz not null default now(),
    business_date  date not null,
    actor          text not null,
    actor_role     text not null,
    action         text not null,
    reason         text,
    detail         jsonb not null default '{}'
);
create index case_events_case on case_events (case_id, id);

create function case_events_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'case_events is append-only';
end $$;
create trigger case_events_no_update before update or delete on case_events
    for each row execute function case_events_append_only();

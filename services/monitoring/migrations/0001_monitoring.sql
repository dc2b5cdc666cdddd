-- Monitoring's own tables. It learns agreements, renegotiations, contacts and evidence from
-- events (never from another service's schema) and owns payments, missed instalments,
-- escalation, notices and referrals.

create table agreements (
    agreement_id            text primary key,
    case_id                 text not null,
    borrower_id             text not null,
    loan_ids                text[] not null,
    option                  text not null,
    document_sha256         text not null,
    activated_on            date not null,
    policy_version          text not null,
    currency                text not null,
    schedule                jsonb not null,
    supersedes_agreement_id text,
    status                  text not null default 'active'
                            check (status in ('active', 'completed', 'referred', 'superseded')),
    level                   text not null default 'current',
    level_since             date not null,
    remedy_deadline         date,
    breached                boolean not null default false,
    referral_blocked_since  date,
    unapplied               numeric(18, 2) not null default 0,
    closed_on               date,
    superseded_by           text,
    created_at              timestamptz not null default now()
);
create index agreements_at_risk on agreements (level) where status = 'active';
create index agreements_borrower on agreements (borrower_id);

-- which agreement covers a loan (the latest activated one wins)
create table agreement_loans (
    loan_id      text not null,
    agreement_id text not null references agreements,
    activated_on date not null,
    primary key (loan_id, agreement_id)
);

-- the schedule's instalments and what has been paid of each (the ledger, one row each)
create table instalments (
    agreement_id            text not null references agreements,
    number                  int not null,
    due_date                date not null,
    grace_cutoff            date not null,   -- due date + the policy's grace days at activation
    kind                    text not null,
    principal               numeric(18, 2) not null,
    interest                numeric(18, 2) not null,
    fee                     numeric(18, 2) not null,
    total                   numeric(18, 2) not null,
    fee_paid                numeric(18, 2) not null default 0,
    penalty_charged         numeric(18, 2) not null default 0,
    penalty_paid            numeric(18, 2) not null default 0,
    interest_paid           numeric(18, 2) not null default 0,
    principal_paid          numeric(18, 2) not null default 0,
    penalty_accrued_through date,
    settled_on              date,
    missed_on               date,
    closed                  boolean not null default false,  -- its agreement is no longer monitored
    primary key (agreement_id, number)
);
-- the COB sweep's candidates: not yet missed, not paid on time, agreement still monitored
create index instalments_sweep on instalments (grace_cutoff)
    where missed_on is null and not closed and (settled_on is null or settled_on > grace_cutoff);
-- delinquency candidates: unpaid instalments of monitored agreements
create index instalments_unpaid on instalments (grace_cutoff, agreement_id)
    where settled_on is null and not closed;

-- each missed instalment is detected exactly once: the primary key makes a second impossible
create table missed_instalments (
    agreement_id       text not null,
    number             int not null,
    due_date           date not null,
    detected_on        date not null,
    amount_outstanding numeric(18, 2) not null,
    primary key (agreement_id, number),
    foreign key (agreement_id, number) references instalments
);

-- every payment ever received, matched or not: a repeated reference is the same payment
create table payments (
    seq            bigserial not null unique,
    reference      text primary key,
    loan_id        text,
    agreement_id   text references agreements,
    amount         numeric(18, 2) not null check (amount > 0),
    currency       text not null,
    received_on    date not null,
    source         text not null check (source in ('corebanking', 'manual')),
    status         text not null default 'pending' check (status in ('pending', 'applied', 'unmatched')),
    unmatched_reason text,
    allocation     jsonb,
    unallocated    numeric(18, 2),
    entered_by     text,
    received_at    timestamptz not null default now(),
    applied_on     date
);
create index payments_pending on payments (seq) where status = 'pending';
create index payments_agreement on payments (agreement_id, seq);
create index payments_unmatched_loan on payments (loan_id) where status = 'unmatched';

create table escalation_steps (
    id           bigserial primary key,
    agreement_id text not null references agreements,
    from_level   text not null,
    to_level     text not null,
    on_date      date not null,
    reason       text not null
);
create index escalation_steps_agreement on escalation_steps (agreement_id, id);

create table notices (
    notice_id       uuid primary key,
    agreement_id    text not null references agreements,
    level           text not null,
    on_date         date not null,
    days_past_due   int not null,
    amount_overdue  numeric(18, 2) not null,
    remedy_deadline date
);
create index notices_agreement on notices (agreement_id, on_date);

create table referrals (
    referral_id  uuid primary key,
    agreement_id text not null unique references agreements,
    borrower_id  text not null,
    route        text not null,
    reasons      jsonb not null,
    referred_on  date not null,
    dossier      jsonb not null
);

-- projections for the legal dossier (from intake events, keyed by case)
create table contacts (
    contact_id text primary key,
    case_id    text not null,
    party      text not null,
    channel    text not null,
    direction  text not null,
    outcome    text not null,
    on_date    date not null
);
create index contacts_case on contacts (case_id, on_date);

create table evidence (
    case_id       text not null,
    document_id   text not null,
    document_type text not null,
    status        text not null,
    sha256        text not null default '',
    primary key (case_id, document_id)
);

-- the dual-tracking guard's view of renegotiations (one row per renegotiation case)
create table renegotiations (
    case_id       text primary key,
    agreement_id  text not null,
    requested_on  date not null,
    state         text not null check (state in ('requested', 'evaluating', 'offered', 'accepted', 'ended', 'over_limit')),
    ended_on      date,
    ended_reason  text
);
create index renegotiations_agreement on renegotiations (agreement_id) where state not in ('ended', 'over_limit');

create table offers (
    offer_id   text primary key,
    case_id    text not null,
    expires_on date not null,
    state      text not null check (state in ('open', 'accepted', 'expired'))
);
create index offers_case on offers (case_id);

-- idempotency_keys: the shared table of forbear_shared.idempotency (shared migration 0003)

-- The operations read model: the console's own projection of every topic (forbear_console.readmodel).
-- Every row is derived from events; `python -m forbear_console.readmodel rebuild` recreates it from offset 0.

create table rm_case (
    case_id text primary key,
    hardship_category text,
    channel text,
    dpd_at_first_contact int,
    opened_on date,
    -- the queue the case is in now, and the occurred_at of the event that put it there
    -- (a later-occurred event wins: order-safe across topics)
    queue text not null default 'unknown',
    queue_at timestamptz not null default '-infinity',
    queue_on date,
    submissions int not null default 0,
    first_decided_on date,
    last_outcome text,
    last_outcome_at timestamptz not null default '-infinity',
    ever_approved boolean not null default false,
    offer_accepted boolean not null default false,
    agreement_id text,
    last_event_at timestamptz
);
create index rm_case_queue on rm_case (queue, queue_on, case_id);

create table rm_timeline (
    event_id uuid primary key,
    case_id text not null,
    occurred_at timestamptz not null,
    business_date date not null,
    type text not null,
    producer text not null,
    summary text not null
);
create index rm_timeline_case on rm_timeline (case_id, occurred_at, event_id);

create table rm_offer (
    offer_id text primary key,
    case_id text not null,
    rank int,
    option text,
    new_instalment numeric(18, 2),
    term_months int,
    expires_on date,
    made_on date,
    status text not null default 'open',
    status_on date
);
create index rm_offer_open on rm_offer (status, expires_on) ;
create index rm_offer_case on rm_offer (case_id);

create table rm_agreement (
    agreement_id text primary key,
    case_id text not null,
    option text,
    -- awaiting_signatures -> active -> completed | referred | superseded
    status text not null default 'awaiting_signatures',
    accepted_on date,
    borrower_signed_on date,
    lender_signed_on date,
    activated_on date,
    supersedes_agreement_id text,
    level text not null default 'current',
    level_since date,
    level_at timestamptz not null default '-infinity',
    remedy_deadline date,
    referral_blocked_since date,
    ever_delinquent boolean not null default false,
    first_breach_on date,
    closed_on date,
    referral_route text,
    referred_on date
);
create index rm_agreement_status on rm_agreement (status, level);
create index rm_agreement_case on rm_agreement (case_id);

create table rm_instalment (
    agreement_id text not null,
    number int not null,
    due_date date,
    total numeric(18, 2),
    paid numeric(18, 2) not null default 0,
    settled_on date,
    missed_on date,
    primary key (agreement_id, number)
);

create table rm_payment (
    reference text primary key,
    agreement_id text not null,
    case_id text not null,
    amount numeric(18, 2) not null,
    source text not null,
    received_on date not null
);
create index rm_payment_agreement on rm_payment (agreement_id);

-- what each payment paid of each instalment (paid and settled_on are recomputed from these,
-- so that they do not depend on the order payments and activations are read in)
create table rm_allocation (
    reference text not null,
    instalment int not null,
    agreement_id text not null,
    amount numeric(18, 2) not null,
    received_on date not null,
    primary key (reference, instalment)
);
create index rm_allocation_agreement on rm_allocation (agreement_id, instalment);

create table rm_notice (
    notice_id text primary key,
    agreement_id text not null,
    level text not null,
    on_date date not null
);

-- DPD of every agreement on plan at each month end of the business calendar (roll rates)
create table rm_month_end_dpd (
    agreement_id text not null,
    month_end date not null,
    dpd int not null,
    primary key (agreement_id, month_end)
);

-- one row: the lender's business date and the newest event projected
create table rm_progress (
    id int primary key default 1 check (id = 1),
    business_date date,
    last_event_id uuid,
    last_event_type text,
    last_occurred_at timestamptz,
    last_projected_at timestamptz,
    events_projected bigint not null default 0
);
insert into rm_progress (id) values (1);

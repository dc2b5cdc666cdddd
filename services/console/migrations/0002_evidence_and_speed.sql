-- The evidence queues from the read model (awaiting evidence, evidence to review, ready to submit)
-- and the indexes of the set-based projection (forbear_console.readmodel.projector).

-- where a case gathering evidence stands: intake's rule (forbear_intake.domain.case_status)
-- applied to the documents the events told of; recomputed for the cases a batch touched
alter table rm_case add column evidence_deadline date,
    add column evidence_state text not null default 'awaiting_evidence';
create index rm_case_gathering on rm_case (evidence_state, queue_on, case_id) where queue = 'gathering_evidence';

-- the document types a case was asked for (evidence.requested)
create table rm_required_document (
    case_id text not null,
    document_type text not null,
    primary key (case_id, document_type)
);

-- every document a case brought (evidence.received) and its review (evidence.reviewed)
create table rm_document (
    document_id text primary key,
    case_id text not null,
    document_type text not null,
    -- pending -> accepted | rejected (a review is never undone by a late "received")
    status text not null default 'pending',
    received_on date,
    reviewed_on date
);
create index rm_document_case on rm_document (case_id);

-- the active-agreements queue page, in its order, without a sort of every active agreement
create index rm_agreement_active on rm_agreement (activated_on, agreement_id) where status = 'active';
-- the month-end DPD of the agreements on plan, by month end (roll rates join consecutive ones)
create index rm_month_end_dpd_month on rm_month_end_dpd (month_end, agreement_id);

-- the KPIs as the console worker last computed them (forbear_console.kpis.compute), with the
-- number of events they are of: /kpis reads this one row, the forbear_kpi_* gauges are set from
-- the same computation (a book of 100,000 cases takes about a second to aggregate)
create table rm_kpi_snapshot (
    id int primary key default 1 check (id = 1),
    computed_at timestamptz not null,
    events_projected bigint not null,
    kpis jsonb not null
);

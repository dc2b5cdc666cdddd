-- Appeals of a decline (evaluation's appeal.lodged / appeal.decided): one row per appeal, for the
-- supervisors' "appeals to review" queue and the appeals KPI. Order-safe: the lodging and the
-- decision each set their own columns, so either may arrive first.
create table rm_appeal (
    appeal_id           text primary key,
    case_id             text not null,
    decision_id         text not null,
    lodged_on           date,
    deadline            date,
    lodged_by           text,
    status              text not null default 'pending',
    decided_on          date,
    outcome_decision_id text
);
create index rm_appeal_to_review on rm_appeal (lodged_on, appeal_id) where status = 'pending';
create index rm_appeal_case on rm_appeal (case_id);

-- Early warning (monitoring's agreement.near_breach / agreement.near_breach_cleared): one row per
-- instalment flagged near breach at its checkpoint. Order-safe: the flag and the clearing each
-- set their own columns, so either may arrive first. A near breach is open while it is flagged,
-- not cleared, its instalment not missed (rm_instalment.missed_on: the missed instalment
-- supersedes it) and its agreement active.
create table rm_near_breach (
    agreement_id   text not null,
    instalment     int not null,
    case_id        text not null,
    due_date       date,
    checkpoint     date,
    amount_due     numeric(18, 2),
    amount_paid    numeric(18, 2),
    required_share numeric,
    flagged_on     date,
    cleared_on     date,
    primary key (agreement_id, instalment)
);
create index rm_near_breach_open on rm_near_breach (flagged_on, agreement_id) where cleared_on is null;
create index rm_near_breach_case on rm_near_breach (case_id);

-- Early warning (policy early_warning): one row per instalment flagged near breach at its
-- checkpoint, written by close of business. The primary key makes a second flag of the same
-- instalment impossible (a catch-up over days down flags it once); the row then follows the
-- near breach to cleared (paid up to the share) or superseded (the instalment was missed).
create table if not exists near_breaches (
    agreement_id   text not null,
    number         int not null,
    due_date       date not null,
    checkpoint     date not null,
    amount_due     numeric(18, 2) not null,
    amount_paid    numeric(18, 2) not null,
    required_share numeric not null check (required_share > 0 and required_share <= 1),  -- as the policy wrote it
    flagged_on     date not null,
    state          text not null default 'near_breach' check (state in ('near_breach', 'cleared', 'superseded')),
    resolved_on    date,
    primary key (agreement_id, number),
    foreign key (agreement_id, number) references instalments
);
-- the sweep's second candidate set: near breaches still open
create index if not exists near_breaches_open on near_breaches (agreement_id) where state = 'near_breach';
-- the sweep's first candidate set: unpaid instalments of monitored agreements by due date
-- (those whose checkpoint has come and whose grace has not passed)
create index if not exists instalments_watch on instalments (due_date)
    where settled_on is null and missed_on is null and not closed;

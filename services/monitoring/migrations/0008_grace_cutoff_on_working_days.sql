-- Grace counts in the lender's working days (policy calendar.units.grace), and China's public
-- holidays are published one year at a time: an instalment of a plan whose year the holiday
-- table does not know yet has no grace cutoff at activation. Close of business fixes it
-- (with that year's table) before the instalment falls due; until then it is no candidate of
-- the sweep (a null cutoff is never "< day").
alter table instalments alter column grace_cutoff drop not null;

-- the instalments close of business must still fix, by due date
create index if not exists instalments_cutoff_unfixed on instalments (due_date)
    where grace_cutoff is null and not closed;

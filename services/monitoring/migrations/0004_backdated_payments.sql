-- A manual payment dated before the business date it was entered on is backdated: the entry
-- keeps that business date and how many days back it was dated (who entered it: entered_by).
alter table payments add column if not exists entered_on date;
alter table payments add column if not exists backdated_days integer check (backdated_days > 0);

-- One row per business day that close of business swept, written in that day's transaction.
-- Replicas of the API serialise on the COB advisory lock and re-read the date under it; the
-- primary key makes a second sweep of the same day fail loudly should that ever be bypassed,
-- and the table is the record of which day was swept when and what it found.
create table if not exists close_of_business_days (
    day                 date primary key,
    previous            date not null,
    instalments_missed  integer not null,
    swept_at            timestamptz not null default now()
);

-- Promises to pay (policy promises): an amount by a business date, recorded by an agent or the
-- borrower on a monitored agreement; judged kept or broken by close of business, once (the
-- sweep only updates rows still open). The recorder's subject is kept for the audit; events
-- carry only the role.
create table if not exists promises (
    promise_id    text primary key,
    agreement_id  text not null references agreements,
    case_id       text not null,
    amount        numeric(18, 2) not null check (amount > 0),
    currency      text not null,
    made_on       date not null,
    due_date      date not null check (due_date >= made_on),
    channel       text not null check (channel in ('phone', 'email', 'branch', 'portal')),
    recorded_by   text not null check (recorded_by in ('agent', 'borrower')),
    recorded_subject text not null,
    status        text not null default 'open' check (status in ('open', 'kept', 'broken')),
    paid          numeric(18, 2),
    judged_on     date
);
create index if not exists promises_agreement on promises (agreement_id, made_on);
-- the sweep's candidates: promises still open
create index if not exists promises_open on promises (agreement_id) where status = 'open';

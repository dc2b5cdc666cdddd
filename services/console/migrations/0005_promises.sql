-- Promises to pay (monitoring's promise.recorded / promise.kept / promise.broken): one row per
-- promise. Order-safe: the recording and the judgement each set their own columns, so either may
-- arrive first (a row with a judgement and no recording yet has no amount). A promise counts in
-- the promise-kept rate once judged: kept / (kept + broken).
create table rm_promise (
    promise_id   text primary key,
    agreement_id text not null,
    case_id      text not null,
    amount       numeric(18, 2),
    due_date     date,
    channel      text,
    recorded_by  text,
    made_on      date,
    status       text,
    paid         numeric(18, 2),
    judged_on    date
);
create index rm_promise_agreement on rm_promise (agreement_id);

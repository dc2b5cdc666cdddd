-- Personal data retention (policy [retention]): a case records the business date it closed on
-- and the one its personal data was erased on; an erased document keeps its row (type,
-- status, hash) without its file or file name.
alter table cases add column if not exists closed_on date;
alter table cases add column if not exists personal_data_erased_on date;
alter table evidence_documents add column if not exists erased_on date;

-- cases closed before this migration: the business date of the status change that closed them
update cases c set closed_on = e.closed_on
from (select case_id, max(business_date) as closed_on from case_events
      where action = 'status_changed' and detail->>'to' in ('declined', 'completed', 'legal_referral')
      group by case_id) e
where c.case_id = e.case_id and c.status in ('declined', 'completed', 'legal_referral') and c.closed_on is null;

-- the erasure job's candidates: closed, not yet erased
create index if not exists cases_erasure_due on cases (closed_on)
    where closed_on is not null and personal_data_erased_on is null;
create index if not exists evidence_sha256 on evidence_documents (sha256) where erased_on is null;

-- What was erased, when, under which policy version and rule: never the personal data itself.
create table if not exists personal_data_erasures (
    id              bigserial primary key,
    case_id         text not null,
    borrower_id     text not null,
    subject         text not null check (subject in ('case', 'contact', 'evidence_document', 'borrower')),
    subject_id      text not null,
    -- names of the erased fields (e.g. {name, national_id, phone}); a kept file says why
    fields          text[] not null,
    detail          jsonb not null default '{}',
    policy_version  text not null,
    rule            text not null,
    closed_on       date not null,
    business_date   date not null,
    at              timestamptz not null default now()
);
create index if not exists personal_data_erasures_case on personal_data_erasures (case_id, id);

create or replace function personal_data_erasures_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'personal_data_erasures is append-only';
end $$;
drop trigger if exists personal_data_erasures_no_update on personal_data_erasures;
create trigger personal_data_erasures_no_update before update or delete on personal_data_erasures
    for each row execute function personal_data_erasures_append_only();

-- Professional help: the representatives a borrower authorises (domain.representatives). The
-- name is personal data (shown masked, erased with the case's other personal data, never in an
-- event or a log); the authorisation document is an evidence document of the same case.
create table if not exists representatives (
    representative_id  text primary key,
    case_id            text not null references cases (case_id),
    kind               text not null,
    name               text,
    channel            text not null,
    scopes             text[] not null check (cardinality(scopes) >= 1),
    starts_on          date not null,
    ends_on            date not null check (ends_on >= starts_on),
    document_id        text not null references evidence_documents (document_id),
    authorised_by      text not null,
    authorised_role    text not null,
    authorised_on      date not null,
    authorised_at      timestamptz not null default now(),
    revoked_on         date,
    revoked_by         text,
    revoked_at         timestamptz
);
create index if not exists representatives_case on representatives (case_id, authorised_at);

-- every contact records the representative it went through (party 'representative')
alter table contacts add column if not exists representative_id text references representatives (representative_id);

-- the retention job erases a representative's name with the case's other personal data
alter table personal_data_erasures drop constraint if exists personal_data_erasures_subject_check;
alter table personal_data_erasures add constraint personal_data_erasures_subject_check
    check (subject in ('case', 'contact', 'evidence_document', 'borrower', 'representative'));

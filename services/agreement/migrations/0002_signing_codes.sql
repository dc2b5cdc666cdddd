-- The borrower's one-time signing codes, and the consent evidence on each signature.

-- Only the code's keyed hash is kept (HMAC-SHA256 under the service's secret over the agreement,
-- the document's sha256 and the code): never the code itself.
create table signing_codes (
    code_id                   text primary key,
    agreement_id              text not null references agreements (agreement_id),
    document_sha256           text not null,
    code_hmac                 text not null,
    channel                   text not null check (channel in ('sms', 'email')),
    requested_by              text not null,
    requested_role            text not null,
    -- business date of the request (the record); the code's life is on the technical clock
    issued_on                 date not null,
    issued_at                 timestamptz not null,
    expires_at                timestamptz not null,
    attempts                  integer not null default 0 check (attempts >= 0),
    max_attempts              integer not null check (max_attempts >= 1),
    status                    text not null default 'live'
                              check (status in ('live', 'used', 'exhausted', 'superseded')),
    used_at                   timestamptz
);
create index signing_codes_agreement on signing_codes (agreement_id, issued_at);

-- How the borrower's consent was proved: the channel the verified code went to. Signatures made
-- before codes existed, and the lender's, carry no channel and otp_verified = false.
alter table signatures
    add column channel        text check (channel in ('sms', 'email')),
    add column otp_verified   boolean not null default false,
    add column signing_code_id text references signing_codes (code_id);

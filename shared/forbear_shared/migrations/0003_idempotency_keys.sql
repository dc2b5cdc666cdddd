-- Idempotency keys of creating POSTs (forbear_shared.idempotency), in every service schema.
create table if not exists idempotency_keys (
    scope         text not null,
    key           text not null,
    request_hash  text not null,
    status_code   integer,
    response      jsonb,
    created_at    timestamptz not null default now(),
    primary key (scope, key)
);

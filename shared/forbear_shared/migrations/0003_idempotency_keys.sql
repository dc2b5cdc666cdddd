-- Idempotency keys of creating POSTs (forbear_shared.idempotency), in every service schema.
-- Installations from before this shared table kept a service-specific one; those without a
-- scope column are replaced (the rows only replay recent responses, nothing else reads them).
do $$
begin
    if exists (select 1 from information_schema.tables
               where table_schema = current_schema() and table_name = 'idempotency_keys')
       and not exists (select 1 from information_schema.columns
                       where table_schema = current_schema() and table_name = 'idempotency_keys'
                         and column_name = 'scope') then
        drop table idempotency_keys;
    end if;
end $$;

create table if not exists idempotency_keys (
    scope         text not null,
    key           text not null,
    request_hash  text not null,
    status_code   integer,
    response      jsonb,
    created_at    timestamptz not null default now(),
    primary key (scope, key)
);

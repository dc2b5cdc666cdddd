-- Every service schema gets the same delivery tables: the transactional outbox, the inbox
-- of consumed events, and the projection of the lender's business date.
create table if not exists outbox (
    id            bigserial primary key,
    event_id      uuid not null unique,
    topic         text not null,
    key           text not null,
    event_type    text not null,
    body          text not null,
    created_at    timestamptz not null default now(),
    published_at  timestamptz
);
create index if not exists outbox_pending on outbox (id) where published_at is null;

create table if not exists inbox (
    consumer     text not null,
    event_id     uuid not null,
    event_type   text not null,
    topic        text not null,
    received_at  timestamptz not null default now(),
    primary key (consumer, event_id)
);

create table if not exists business_date (
    singleton   boolean primary key default true check (singleton),
    current     date not null,
    updated_at  timestamptz not null default now()
);

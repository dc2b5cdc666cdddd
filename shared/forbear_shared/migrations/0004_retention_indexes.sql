-- What the purge (forbear_shared.retention) looks for, found by index: published outbox rows
-- by publication time, inbox rows and idempotency keys by age. A purge that finds nothing to
-- delete then reads a few index pages instead of the whole table.
create index if not exists outbox_published_at on outbox (published_at) where published_at is not null;
create index if not exists inbox_received_at on inbox (received_at);
create index if not exists idempotency_keys_created_at on idempotency_keys (created_at);

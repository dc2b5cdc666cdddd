-- An outbox row's created_at is the moment the row was written, not its transaction's start
-- (now()): a use case that decides for a while before it emits shows that time between the
-- inbox's received_at and the outbox's created_at, and the relay's own delay as
-- published_at - created_at (make bench prints both).
alter table outbox alter column created_at set default clock_timestamp();

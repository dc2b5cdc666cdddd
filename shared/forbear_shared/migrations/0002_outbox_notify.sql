-- Wake the outbox relay as soon as an event is committed instead of at its next poll:
-- one notification per inserting statement on the channel forbear_outbox_<schema>,
-- delivered at commit (and not at all on rollback).  The relay still polls, less often,
-- in case a notification is missed (e.g. while its listening connection reconnects).
create or replace function outbox_notify() returns trigger language plpgsql as $$
begin
    perform pg_notify('forbear_outbox_' || tg_table_schema, '');
    return null;
end;
$$;

drop trigger if exists outbox_notify on outbox;
create trigger outbox_notify after insert on outbox for each statement execute function outbox_notify();

-- Fewer writes per projected event.
--
-- The timeline is written once per event and read by case (the case page): one index, keyed
-- the way it is read, instead of a primary key on the random event id beside it. The event id
-- stays in the key, so an event's line is still unique (the projector's "on conflict").
alter table rm_timeline drop constraint rm_timeline_pkey;
drop index rm_timeline_case;
alter table rm_timeline add primary key (case_id, occurred_at, event_id);

-- A batch updates a case's or an agreement's row several times (its queue, its decision, its
-- signatures...). With room left on the page, an update that changes no indexed column is a
-- heap-only tuple: no new index entries, and the old version pruned in place.
alter table rm_case set (fillfactor = 70);
alter table rm_agreement set (fillfactor = 70);
alter table rm_offer set (fillfactor = 80);
alter table rm_instalment set (fillfactor = 80);

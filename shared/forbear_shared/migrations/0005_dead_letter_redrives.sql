-- Dead letters redriven into this schema's consumer: one row per dead-letter record, so that a
-- record replayed twice is replayed once, and the audit of who replayed what, when, and how
-- it ended.
create table if not exists dead_letter_redrives (
    consumer          text not null,
    dlq_topic         text not null,
    dlq_partition     int not null,
    dlq_offset        bigint not null,
    event_id          uuid,
    event_type        text,
    origin_topic      text not null,
    origin_partition  int not null,
    origin_offset     bigint not null,
    reason            text not null,
    outcome           text not null check (outcome in ('applied', 'already_applied', 'dead_lettered', 'not_handled')),
    error             text,
    redriven_by       text not null,
    redriven_at       timestamptz not null default now(),
    primary key (consumer, dlq_topic, dlq_partition, dlq_offset)
);

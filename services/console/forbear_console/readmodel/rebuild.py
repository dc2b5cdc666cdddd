"""Rebuild the read model from offset 0: empty its tables and its inbox, read every topic from
its first offset to the end it had when the rebuild began, project, then hand the worker's
consumer group those end offsets so that it carries on from there.

Stop the console worker first: its group must have no member while the offsets are set. The
topics keep events for ``EVENTS_RETENTION_MS`` (a week); a rebuild reaches what they still hold
(forbear_shared.topics). Events that fail again are logged and counted, not dead-lettered a
second time (the first dead letter is still on ``console.dlq``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from forbear_shared.db import transaction
from forbear_shared.inbox import InboxProcessor, RawRecord
from forbear_shared.settings import Settings
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
from psycopg_pool import ConnectionPool

from forbear_console.readmodel import SERVICE, TABLES, TOPICS
from forbear_console.readmodel.projector import apply

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rebuilt:
    records: int
    seconds: float
    failed: int


def reset(pool: ConnectionPool, consumer: str = SERVICE) -> None:
    with transaction(pool) as conn:
        conn.execute(f"truncate {', '.join(TABLES)}, rm_kpi_snapshot")
        conn.execute("update rm_progress set business_date = null, last_event_id = null, last_event_type = null,"
                     " last_occurred_at = null, last_projected_at = null, events_projected = 0")
        conn.execute("delete from inbox where consumer = %s", (consumer,))


def rebuild(settings: Settings, pool: ConnectionPool, *, group: str | None = None, batch: int = 10000) -> Rebuilt:
    started = time.monotonic()
    failed: list[int] = []

    def not_again(record: RawRecord, reason: str, _detail: str) -> None:
        failed.append(1)
        log.warning("event failed again during the rebuild",
                    extra={"reason": reason, "topic": record.topic, "offset": record.offset})

    processor = InboxProcessor(pool, SERVICE, {}, not_again, max_retries=1, projection=apply)
    reader = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False,
                           max_poll_records=batch, max_partition_fetch_bytes=8 * 1024 * 1024)
    try:
        partitions = [TopicPartition(settings.topic(t), p) for t in TOPICS
                      for p in sorted(reader.partitions_for_topic(settings.topic(t)) or ())]
        reader.assign(partitions)
        ends = reader.end_offsets(partitions)
        reset(pool)
        reader.seek_to_beginning(*partitions)
        records = 0
        remaining = {tp for tp, end in ends.items() if end > 0}
        for tp in list(remaining):
            if reader.position(tp) >= ends[tp]:
                remaining.discard(tp)
        while remaining:
            polled = reader.poll(timeout_ms=1000)
            chunk: list[RawRecord] = []
            for tp, messages in sorted(polled.items(), key=lambda kv: (kv[0].topic, kv[0].partition)):
                kept = [m for m in messages if m.offset < ends[tp]]
                chunk.extend(RawRecord(m.topic, m.partition, m.offset, m.key, m.value, tuple(m.headers or ()))
                             for m in kept)
                if kept and kept[-1].offset + 1 >= ends[tp] or reader.position(tp) >= ends[tp]:
                    remaining.discard(tp)
                    reader.pause(tp)
            processor.process(chunk)
            records += len(chunk)
    finally:
        reader.close()
    _hand_over(settings, group or settings.group(SERVICE), ends)
    return Rebuilt(records, time.monotonic() - started, len(failed))


def _hand_over(settings: Settings, group: str, ends: dict[TopicPartition, int]) -> None:
    """The worker's group resumes where the rebuild stopped."""
    committer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=group, enable_auto_commit=False)
    try:
        committer.assign(list(ends))
        committer.commit({tp: OffsetAndMetadata(end, "", -1) for tp, end in ends.items()})
    finally:
        committer.close()

"""Idempotent consumers: the inbox, the dead-letter path and the Kafka consumer loop.

A consumed event is recorded as ``(consumer, event_id)`` in the same transaction as its
effect; the primary key makes a second effect impossible. Offsets are committed to Kafka
only after that transaction committed, so a crash re-delivers rather than skips.

Batches are applied in one transaction for throughput; if any event of the batch fails,
the batch is rolled back and replayed one event per transaction, so only the poison event
is retried and then dead-lettered, and the partition keeps flowing. A database outage is
not an event's fault: it stops the loop short of committing offsets and the batch is read
again once the database is back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import psycopg
import psycopg_pool
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from psycopg_pool import ConnectionPool

from forbear_shared import metrics
from forbear_shared.db import transaction
from forbear_shared.events import DecodedEvent, EventError, decode
from forbear_shared.logs import event_context

log = logging.getLogger(__name__)

Handler = Callable[[psycopg.Connection, DecodedEvent], None]

#: failures that are the infrastructure's, not the event's: never dead-letter for these
TRANSIENT = (psycopg.OperationalError, psycopg_pool.PoolTimeout)


@dataclass(frozen=True)
class RawRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = field(default=())


DeadLetter = Callable[[RawRecord, str, str], None]


class InboxProcessor:
    def __init__(
        self,
        pool: ConnectionPool,
        consumer: str,
        handlers: dict[str, Handler],
        dead_letter: DeadLetter,
        max_retries: int = 3,
    ) -> None:
        self.pool = pool
        self.consumer = consumer
        self.handlers = handlers
        self.dead_letter = dead_letter
        self.max_retries = max_retries

    def process(self, records: Iterable[RawRecord]) -> None:
        wanted: list[tuple[RawRecord, DecodedEvent]] = []
        for record in records:
            try:
                event = decode(record.value)
            except EventError as exc:
                self._dead_letter(record, exc.reason, str(exc))
                continue
            if event.envelope.type not in self.handlers:
                metrics.CONSUMER_EVENTS.labels(self.consumer, record.topic, "ignored").inc()
                continue
            wanted.append((record, event))
        if not wanted:
            return
        try:
            with transaction(self.pool) as conn:
                outcomes = [self._apply(conn, record, event) for record, event in wanted]
        except TRANSIENT:
            raise
        except Exception:
            log.warning("batch failed; replaying its %d events one by one", len(wanted), exc_info=True)
            for record, event in wanted:
                self._apply_alone(record, event)
            return
        for (record, _), outcome in zip(wanted, outcomes):
            metrics.CONSUMER_EVENTS.labels(self.consumer, record.topic, outcome).inc()

    def _apply(self, conn: psycopg.Connection, record: RawRecord, event: DecodedEvent) -> str:
        env = event.envelope
        fresh = conn.execute(
            "insert into inbox (consumer, event_id, event_type, topic) values (%s, %s, %s, %s) "
            "on conflict do nothing returning event_id",
            (self.consumer, env.event_id, env.type, record.topic),
        ).fetchone()
        if fresh is None:
            return "duplicate"
        with event_context(case_id=env.case_id, event_id=str(env.event_id), correlation_id=str(env.correlation_id)):
            self.handlers[env.type](conn, event)
        return "handled"

    def _apply_alone(self, record: RawRecord, event: DecodedEvent) -> None:
        error: Exception | None = None
        for _attempt in range(self.max_retries):
            try:
                with transaction(self.pool) as conn:
                    outcome = self._apply(conn, record, event)
                metrics.CONSUMER_EVENTS.labels(self.consumer, record.topic, outcome).inc()
                return
            except TRANSIENT:
                raise
            except Exception as exc:
                error = exc
                metrics.CONSUMER_ERRORS.labels(self.consumer, record.topic).inc()
        assert error is not None
        self._dead_letter(record, "handler_failed", f"{type(error).__name__}: {error}")

    def _dead_letter(self, record: RawRecord, reason: str, detail: str) -> None:
        log.warning(
            "event dead-lettered",
            extra={"reason": reason, "topic": record.topic, "partition": record.partition, "offset": record.offset},
        )
        self.dead_letter(record, reason, detail)
        metrics.DLQ_EVENTS.labels(self.consumer, reason).inc()
        metrics.CONSUMER_EVENTS.labels(self.consumer, record.topic, "dead_lettered").inc()


class KafkaDeadLetter:
    """Publishes the original bytes with the error and the origin in headers, synchronously."""

    def __init__(self, producer: KafkaProducer, topic: str, consumer: str) -> None:
        self.producer = producer
        self.topic = topic
        self.consumer = consumer

    def __call__(self, record: RawRecord, reason: str, detail: str) -> None:
        headers = [
            ("dlq.reason", reason.encode()),
            ("dlq.error", detail[:2000].encode()),
            ("dlq.consumer", self.consumer.encode()),
            ("dlq.origin.topic", record.topic.encode()),
            ("dlq.origin.partition", str(record.partition).encode()),
            ("dlq.origin.offset", str(record.offset).encode()),
        ]
        self.producer.send(self.topic, key=record.key, value=record.value or b"", headers=headers).get(timeout=30)


class KafkaInboxLoop:
    """A plain consumer with explicit commits after the database commit."""

    def __init__(
        self,
        processor: InboxProcessor,
        bootstrap: str,
        group_id: str,
        topics: list[str],
        max_poll_records: int = 1000,
    ) -> None:
        self.processor = processor
        self.topics = topics
        self.consumer = KafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap,
            group_id=group_id,
            client_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=max_poll_records,
            fetch_max_wait_ms=100,
            session_timeout_ms=15000,
            heartbeat_interval_ms=3000,
        )
        self.name = processor.consumer

    def poll_once(self, timeout_ms: int = 200) -> int:
        batch = self.consumer.poll(timeout_ms=timeout_ms)
        if not batch:
            self._observe_lag()
            return 0
        records = [
            RawRecord(m.topic, m.partition, m.offset, m.key, m.value, tuple(m.headers or ()))
            for tp in sorted(batch, key=lambda t: (t.topic, t.partition))
            for m in batch[tp]
        ]
        with metrics.CONSUMER_DURATION.labels(self.name).time():
            try:
                self.processor.process(records)
            except TRANSIENT:
                for tp, messages in batch.items():
                    self.consumer.seek(tp, messages[0].offset)
                raise
        self.consumer.commit()
        self._observe_lag()
        return len(records)

    def _observe_lag(self) -> None:
        for tp in self.consumer.assignment():
            high = self.consumer.highwater(tp)
            if high is None:
                continue
            position = self.consumer.position(tp)
            metrics.CONSUMER_LAG.labels(self.name, tp.topic, str(tp.partition)).set(max(0, high - position))

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except TRANSIENT:
                log.warning("database unavailable; will re-read the batch", exc_info=True)
                stop.wait(1.0)
            except Exception:
                log.exception("consumer loop error")
                stop.wait(1.0)
        self.consumer.close()

    def assigned(self) -> set[TopicPartition]:
        return set(self.consumer.assignment())

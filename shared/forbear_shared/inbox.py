"""Idempotent consumers: the inbox, the dead-letter path and the Kafka consumer loop.

A consumed event is recorded as ``(consumer, event_id)`` in the same transaction as its
effect; the primary key makes a second effect impossible. Offsets are committed to Kafka
only after that transaction committed, so a crash re-delivers rather than skips.

Batches are applied in one transaction for throughput; if any event of the batch fails,
the batch is rolled back and replayed one event per transaction, so only the poison event
is retried and then dead-lettered, and the partition keeps flowing. A database outage is
not an event's fault: it stops the loop short of committing offsets and the batch is read
again once the database is back.

The broker need not be there either: the loop joins its group when it can, and every failure
of a turn (broker, database, dead-letter topic) waits with backoff (forbear_shared.retry) and
tries again; the loop never ends but by its ``stop``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

import psycopg
import psycopg_pool
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool

from forbear_shared import metrics
from forbear_shared.db import transaction
from forbear_shared.events import DecodedEvent, EventError, decode
from forbear_shared.logs import event_context, redact
from forbear_shared.outbox import BOOTSTRAP_TIMEOUT_MS, EVENT_TYPE_HEADER, ProducerSlot
from forbear_shared.retry import Retrying, kafka_unavailable, postgres_unavailable

log = logging.getLogger(__name__)

Handler = Callable[[psycopg.Connection, DecodedEvent], None]
#: handles a run of consecutive fresh events of one type in one call (set-based SQL)
BatchHandler = Callable[[psycopg.Connection, list[DecodedEvent]], None]

#: failures that are the infrastructure's, not the event's: never dead-letter for these
TRANSIENT = (psycopg.OperationalError, psycopg_pool.PoolTimeout)


class RawRecord(NamedTuple):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


DeadLetter = Callable[[RawRecord, str, str], None]


class InboxProcessor:
    def __init__(
        self,
        pool: ConnectionPool,
        consumer: str,
        handlers: dict[str, Handler],
        dead_letter: DeadLetter,
        max_retries: int = 3,
        batch_handlers: dict[str, BatchHandler] | None = None,
        projection: BatchHandler | None = None,
    ) -> None:
        self.pool = pool
        #: a projection takes every fresh event of a batch, in order, in one call (set-based
        #: SQL for a read model); it then handles every event type
        self.projection = projection
        self.consumer = consumer
        self.handlers = handlers
        self.batch_handlers = batch_handlers or {}
        self.dead_letter = dead_letter
        self.max_retries = max_retries

    def process(self, records: Iterable[RawRecord]) -> None:
        self.apply(self.prepare(records))

    def prepare(self, records: Iterable[RawRecord]) -> list[tuple[RawRecord, DecodedEvent]]:
        """Decode the records this consumer handles; dead-letter the malformed ones. No database."""
        wanted: list[tuple[RawRecord, DecodedEvent]] = []
        ignored: Counter[str] = Counter()
        handled = self.handlers.keys() | self.batch_handlers.keys()
        for record in records:
            declared = _declared_type(record)
            if self.projection is None and declared is not None and declared not in handled:
                ignored[record.topic] += 1  # another consumer's event, announced by our relay: not parsed
                continue
            try:
                event = decode(record.value)
            except EventError as exc:
                self._dead_letter(record, exc.reason, str(exc))
                continue
            if self.projection is None and event.envelope.type not in handled:
                ignored[record.topic] += 1
                continue
            wanted.append((record, event))
        for topic, n in ignored.items():
            metrics.CONSUMER_EVENTS.labels(self.consumer, topic, "ignored").inc(n)
        return wanted

    def apply(self, wanted: list[tuple[RawRecord, DecodedEvent]]) -> None:
        """Apply prepared events in one transaction (one by one if that fails)."""
        if not wanted:
            return
        try:
            with transaction(self.pool) as conn:
                outcomes = self._apply_all(conn, wanted)
        except TRANSIENT:
            raise
        except Exception:
            log.warning("batch failed; replaying its %d events one by one", len(wanted), exc_info=True)
            for record, event in wanted:
                self._apply_alone(record, event)
            return
        counts = Counter((record.topic, outcome) for (record, _), outcome in zip(wanted, outcomes, strict=True))
        for (topic, outcome), n in counts.items():
            metrics.CONSUMER_EVENTS.labels(self.consumer, topic, outcome).inc(n)

    def _apply_all(self, conn: psycopg.Connection, items: list[tuple[RawRecord, DecodedEvent]]) -> list[str]:
        """Record every event in the inbox with one statement, then hand the fresh ones over in order."""
        with conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(
                "insert into inbox (consumer, event_id, event_type, topic) "
                "select %s, e, t, p from unnest(%b::uuid[], %b::text[], %b::text[]) as x(e, t, p) "
                "on conflict do nothing returning event_id",
                (
                    self.consumer,
                    [event.envelope.event_id for _, event in items],
                    [event.envelope.type for _, event in items],
                    [record.topic for record, _ in items],
                ),
            )
            fresh = {row[0] for row in cur}
        outcomes: list[str] = []
        run: list[DecodedEvent] = []
        projected: list[DecodedEvent] = []
        for _, event in items:
            env = event.envelope
            if env.event_id not in fresh:
                outcomes.append("duplicate")
                continue
            fresh.discard(env.event_id)  # the same event twice in one batch has one effect too
            outcomes.append("handled")
            if self.projection is not None:
                projected.append(event)
                continue
            if run and run[0].envelope.type != env.type:
                self._flush(conn, run)
            if env.type in self.batch_handlers:
                run.append(event)
                continue
            self._flush(conn, run)
            with event_context(case_id=env.case_id, event_id=str(env.event_id), correlation_id=str(env.correlation_id)):
                self.handlers[env.type](conn, event)
        self._flush(conn, run)
        if self.projection is not None and projected:
            self.projection(conn, projected)
        return outcomes

    def _flush(self, conn: psycopg.Connection, run: list[DecodedEvent]) -> None:
        if run:
            self.batch_handlers[run[0].envelope.type](conn, list(run))
            run.clear()

    def _apply_alone(self, record: RawRecord, event: DecodedEvent) -> None:
        error: Exception | None = None
        for _attempt in range(self.max_retries):
            try:
                with transaction(self.pool) as conn:
                    (outcome,) = self._apply_all(conn, [(record, event)])
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


def _declared_type(record: RawRecord) -> str | None:
    """The ``event_type`` header our outbox relay sets (None for records from elsewhere)."""
    for key, value in record.headers:
        if key == EVENT_TYPE_HEADER:
            return value.decode("utf-8", "replace")
    return None


def safe_detail(detail: str, limit: int = 2000) -> str:
    """An error as a dead letter carries it: its first line only, long digit runs masked.

    Handler errors are exceptions of any kind; a database error's DETAIL line quotes the row's
    values (``Key (phone)=(...)``), and operators read dead letters with ordinary tools.
    """
    first = detail.strip().splitlines()[0] if detail.strip() else ""
    return redact(first)[:limit]


class KafkaDeadLetter:
    """Publishes the original bytes with the error and the origin in headers, synchronously."""

    def __init__(self, producer: KafkaProducer | ProducerSlot, topic: str, consumer: str) -> None:
        self.producers = ProducerSlot.of(producer)
        self.topic = topic
        self.consumer = consumer

    def __call__(self, record: RawRecord, reason: str, detail: str) -> None:
        headers = [
            ("dlq.reason", reason.encode()),
            ("dlq.error", safe_detail(detail).encode()),
            ("dlq.consumer", self.consumer.encode()),
            ("dlq.origin.topic", record.topic.encode()),
            ("dlq.origin.partition", str(record.partition).encode()),
            ("dlq.origin.offset", str(record.offset).encode()),
        ]
        try:
            self.producers.get().send(self.topic, key=record.key, value=record.value or b"",
                                      headers=headers).get(timeout=30)
        except Exception as exc:
            if kafka_unavailable(exc):
                self.producers.discard()
            raise

    def close(self) -> None:
        self.producers.close()


class KafkaInboxLoop:
    """A plain consumer with explicit commits after the database commit.

    ``run`` overlaps two batches: while one batch's transaction runs (in a thread of its own,
    mostly waiting for Postgres), the next is polled and decoded. Offsets of a batch are
    committed only after its transaction committed; if it failed for want of the database,
    both batches are read again. If the group refuses the commit (it rebalanced, or dropped
    this member), the consumer is replaced by a new member that reads on from the offsets last
    committed. The Kafka consumer itself is only ever used from ``run``'s
    thread.
    """

    def __init__(
        self,
        processor: InboxProcessor,
        bootstrap: str,
        group_id: str,
        topics: list[str],
        max_poll_records: int = 10000,
    ) -> None:
        self.processor = processor
        self.topics = topics
        self._config = dict(
            bootstrap_servers=bootstrap,
            group_id=group_id,
            client_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=max_poll_records,
            # the broker answers a parked fetch as soon as a record arrives; this only bounds an
            # empty one (shorter waits cost CPU and bought no latency: make bench)
            fetch_max_wait_ms=500,
            max_partition_fetch_bytes=8 * 1024 * 1024,
            session_timeout_ms=15000,
            heartbeat_interval_ms=3000,
            # a broker that is away is retried by ``run`` with backoff, not inside the client
            bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
        )
        self.name = processor.consumer
        self.consumer: KafkaConsumer | None = None
        self._joined = False
        try:
            self.consumer = self._join()
            self._joined = True
        except KafkaError as exc:  # the broker is away: ``run`` joins once it is back
            log.warning("consumer cannot join its group yet", extra={"error": type(exc).__name__})
        self._applier = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.name}-apply")
        self._inflight: _Batch | None = None

    def _join(self) -> KafkaConsumer:
        """A consumer subscribed to the topics, once their partitions are known: a member that
        joins first can be assigned nothing of a topic whose metadata had not arrived yet."""
        consumer = KafkaConsumer(**self._config)
        deadline = time.monotonic() + 30
        for topic in self.topics:
            while consumer.partitions_for_topic(topic) is None and time.monotonic() < deadline:
                time.sleep(0.2)
        consumer.subscribe(self.topics)
        return consumer

    def _rejoin(self) -> None:
        """Replace the consumer by a fresh member of the group, which reads on from the offsets
        last committed (the inbox recognises what was applied since)."""
        self._leave()
        self.consumer = self._join()  # if the broker is away, ``_step`` tries again
        self._joined = True

    def _leave(self) -> None:
        consumer, self.consumer = self.consumer, None
        self._joined = False
        if consumer is not None:
            try:
                consumer.close()
            except Exception:
                log.debug("closing the replaced consumer failed", exc_info=True)

    def _poll(self, timeout_ms: int) -> _Batch | None:
        assert self.consumer is not None
        polled = self.consumer.poll(timeout_ms=timeout_ms)
        if not polled:
            return None
        records: list[RawRecord] = []
        first: dict[TopicPartition, int] = {}
        after: dict[TopicPartition, int] = {}
        for tp in sorted(polled, key=lambda t: (t.topic, t.partition)):
            messages = polled[tp]
            first[tp] = messages[0].offset
            after[tp] = messages[-1].offset + 1
            records.extend(
                RawRecord(m.topic, m.partition, m.offset, m.key, m.value, tuple(m.headers or ())) for m in messages
            )
        return _Batch(records, first, after)

    def _submit(self, batch: _Batch, prepared: list[tuple[RawRecord, DecodedEvent]]) -> None:
        batch.future = self._applier.submit(self._timed_apply, prepared)
        self._inflight = batch

    def _timed_apply(self, prepared: list[tuple[RawRecord, DecodedEvent]]) -> None:
        with metrics.CONSUMER_DURATION.labels(self.name).time():
            self.processor.apply(prepared)

    def _settle(self, also_unapplied: _Batch | None = None) -> bool:
        """Wait for the batch in flight; commit its offsets, or rewind (with ``also_unapplied``).

        False when the group no longer took this member's commit (a rebalance, an expired
        membership): the consumer was replaced and ``also_unapplied`` must be dropped, the new
        member reads it again.
        """
        batch, self._inflight = self._inflight, None
        if batch is None:
            return True
        assert batch.future is not None
        try:
            batch.future.result()
        except BaseException:
            self._rewind(also_unapplied, batch)
            raise
        assert self.consumer is not None
        try:
            self.consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in batch.after.items()})
        except KafkaError as exc:
            # the consumer's position is in doubt (and one left in that state was seen to stop
            # fetching for good): start over as a new member from the committed offsets
            log.warning("offsets not committed; rejoining the group to read on from the last committed ones",
                        extra={"error": type(exc).__name__})
            metrics.CONSUMER_REJOINS.labels(self.name).inc()
            self._rejoin()
            return False
        return True

    def _rewind(self, *batches: _Batch | None) -> None:
        """Read these batches again (the earliest offset of a partition wins: last given).
        Partitions a rebalance took away are left to their new owner."""
        if self.consumer is None:
            return  # a new member reads from the committed offsets anyway
        assigned = self.consumer.assignment()
        for batch in batches:
            if batch is not None:
                for tp, offset in batch.first.items():
                    if tp in assigned:
                        self.consumer.seek(tp, offset)

    def _take(self, batch: _Batch) -> list[tuple[RawRecord, DecodedEvent]]:
        try:
            return self.processor.prepare(batch.records)
        except BaseException:  # e.g. the dead-letter topic unreachable: read the batch again
            self._rewind(batch)
            raise

    def _step(self) -> None:
        """One turn of ``run``: the next batch is polled and decoded while the previous one is
        applied; it is handed over once the previous one committed."""
        if not self._joined:
            self.consumer = self._join()
            self._joined = True
        batch = self._poll(100 if self._inflight is not None else 200)
        if batch is None:
            self._settle()
            self._observe_lag()
            return
        prepared = self._take(batch)
        if self._settle(also_unapplied=batch):
            self._submit(batch, prepared)
        self._observe_lag()

    def _observe_lag(self) -> None:
        if self.consumer is None:
            return
        for tp in self.consumer.assignment():
            high = self.consumer.highwater(tp)
            if high is None:
                continue
            position = self.consumer.position(tp)
            metrics.CONSUMER_LAG.labels(self.name, tp.topic, str(tp.partition)).set(max(0, high - position))

    def run(self, stop: threading.Event) -> None:
        retrying = Retrying(self.name, "consumer")
        while not stop.is_set():
            try:
                self._step()
            except Exception as exc:
                self._failed(exc, retrying.attempt)
                retrying.failed(stop)
                continue
            retrying.succeeded()
        try:
            self._settle()
        except Exception:
            log.warning("last batch not committed; it will be read again", exc_info=True)
        self._applier.shutdown(wait=True)
        if self.consumer is not None:
            self.consumer.close()

    def _failed(self, exc: Exception, attempt: int) -> None:
        """What failed is read again after the backoff. A member left in doubt by the broker's
        absence is replaced; only an error that is neither the broker's nor the database's is
        logged with its traceback."""
        if postgres_unavailable(exc):
            if attempt == 0:
                log.warning("database unavailable; will re-read the batch", extra={"error": type(exc).__name__})
        elif kafka_unavailable(exc):
            if attempt == 0:
                log.warning("broker unavailable; the consumer will rejoin", extra={"error": type(exc).__name__})
            if self._inflight is None:
                self._leave()
        else:
            log.exception("consumer loop error")

    def assigned(self) -> set[TopicPartition]:
        return set(self.consumer.assignment()) if self.consumer is not None else set()


@dataclass
class _Batch:
    records: list[RawRecord]
    #: first offset read and offset after the last one, per partition
    first: dict[TopicPartition, int]
    after: dict[TopicPartition, int]
    future: Future[None] | None = None

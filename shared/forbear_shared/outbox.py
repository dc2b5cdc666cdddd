"""Transactional outbox: events are rows written in the same transaction as the state change.

The relay publishes pending rows in id order with an idempotent, acks=all producer and marks
them published only after the broker acknowledged them. A relay that dies between the
broker's acknowledgement and the mark re-publishes on restart: delivery is at least once,
and every consumer's inbox makes the repeat harmless. One relay per service holds an
advisory lock while publishing, which keeps each case's events in order. Each record
carries the event type in the ``event_type`` header as well as in its envelope.

Neither the broker nor the database has to be there when the relay starts: its producer is
made on first use (``ProducerSlot``) and remade after a failed batch, and every failure is
retried with backoff (forbear_shared.retry); rows wait in the outbox meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

import psycopg
from kafka import KafkaProducer
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool

from forbear_shared import metrics
from forbear_shared.events import Envelope, encode
from forbear_shared.retry import Retrying, kafka_unavailable, transient

log = logging.getLogger(__name__)

EVENT_TYPE_HEADER = "event_type"
"""Every published event carries its type in this Kafka header (as in the envelope), so a
consumer can pass over the types it does not handle without parsing them."""


def add(conn: psycopg.Connection, envelope: Envelope, topic: str) -> None:
    """Record an event to publish; call inside the transaction that makes the change."""
    conn.execute(
        "insert into outbox (event_id, topic, key, event_type, body) values (%s, %s, %s, %s, %s)",
        (envelope.event_id, topic, envelope.case_id, envelope.type, encode(envelope).decode()),
    )


def add_many(conn: psycopg.Connection, events: Sequence[tuple[Envelope, str]]) -> None:
    """Record many ``(envelope, topic)`` events in one statement, in the order given: the
    outbox ids (the relay's publishing order) follow the sequence, as ``add`` one by one would."""
    add_rows(conn, [(str(e.event_id), t, e.case_id, e.type, encode(e).decode()) for e, t in events])


def add_rows(conn: psycopg.Connection, rows: Sequence[tuple[str, str, str, str, str]]) -> None:
    """Record events already serialised, ``(event_id, topic, key, event_type, body)``, in order.

    One COPY: rows are formatted by the driver's C code and ids are given in the order of the
    stream. (An ``insert ... select from unnest(...)`` of the same rows spends most of its time
    building the arrays, client side.) Not in pipeline mode, where COPY is not available.
    """
    if not rows:
        return
    with conn.cursor().copy("copy outbox (event_id, topic, key, event_type, body) from stdin") as copy:
        for row in rows:
            copy.write_row(row)


def observe_backlog(pool: ConnectionPool, service: str) -> None:
    """Set the outbox backlog gauges: rows not yet published and the age of the oldest."""
    with pool.connection() as conn:
        row = conn.execute(
            "select count(*) as n, extract(epoch from now() - min(created_at)) as age "
            "from outbox where published_at is null"
        ).fetchone()
    assert row is not None
    metrics.OUTBOX_BACKLOG.labels(service).set(row["n"])
    metrics.OUTBOX_OLDEST_AGE.labels(service).set(float(row["age"] or 0))


#: a Kafka client gives up reaching an absent broker after this; the caller retries with backoff
BOOTSTRAP_TIMEOUT_MS = 10000


def make_producer(bootstrap: str, client_id: str) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        max_in_flight_requests_per_connection=5,
        retries=2147483647,
        linger_ms=5,
        # a relay batch of small events fits a few record batches instead of dozens: the
        # producer's per-batch work is pure Python (about half its cost per event at 16 KiB)
        batch_size=512 * 1024,
        compression_type=None,
        request_timeout_ms=30000,
        bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
        # a send waits at most this for the topic's metadata (the broker away): the batch fails
        # and is retried, rather than holding the relay's transaction for a minute
        max_block_ms=30000,
    )


class ProducerSlot:
    """A Kafka producer made when first needed and made again after ``discard``: a client built
    at start-up while the broker is away would fail the whole process; one that saw its batch
    time out is in doubt (its sequence numbers, its buffered records) and is replaced."""

    def __init__(self, factory: Callable[[], KafkaProducer]) -> None:
        self.factory = factory
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()
        #: False for a producer given from outside: its owner closes it, and it is never replaced
        self._owned = True

    @classmethod
    def of(cls, producer: KafkaProducer | ProducerSlot) -> ProducerSlot:
        if isinstance(producer, ProducerSlot):
            return producer
        slot = cls(lambda: producer)
        slot._producer = producer
        slot._owned = False
        return slot

    def get(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                self._producer = self.factory()
            return self._producer

    def discard(self) -> None:
        """Drop the producer after a failure (what it still buffers is abandoned: those rows are
        still pending in the outbox, or the event is still unsettled, and go again)."""
        if not self._owned:
            return
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=0)
            except Exception:
                log.debug("closing a discarded producer failed", exc_info=True)

    def close(self, timeout: float = 10.0) -> None:
        if not self._owned:
            return
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=timeout)


def lazy_producer(bootstrap: str, client_id: str) -> ProducerSlot:
    """The system's producer (``make_producer``), made on first use and after each failure."""
    return ProducerSlot(lambda: make_producer(bootstrap, client_id))


class OutboxRelay:
    def __init__(self, pool: ConnectionPool, producer: KafkaProducer | ProducerSlot, service: str,
                 batch_size: int = 500, on_published: Callable[[int], None] | None = None) -> None:
        self.pool = pool
        self.producers = ProducerSlot.of(producer)
        self.service = service
        self.batch_size = batch_size
        #: told how many rows each batch published, after its commit (e.g. a parent process's counter)
        self.on_published = on_published

    def publish_pending(self) -> int:
        """Publish one batch; return how many rows were published (0 when idle or locked)."""
        with self.pool.connection() as conn, conn.transaction():
            locked = conn.execute(
                "select pg_try_advisory_xact_lock(hashtext('forbear-outbox-relay:' || current_schema())) as ok"
            ).fetchone()
            if not locked or not locked["ok"]:
                return 0
            with conn.cursor(row_factory=tuple_row) as cur:
                cur.execute(
                    "select id, topic, key, event_type, body from outbox where published_at is null "
                    "order by id limit %s",
                    (self.batch_size,),
                )
                rows = cur.fetchall()
            if not rows:
                return 0
            producer = self.producers.get()
            send = producer.send
            futures = [
                send(topic, key=key.encode(), value=body.encode(), headers=[(EVENT_TYPE_HEADER, event_type.encode())])
                for _, topic, key, event_type, body in rows
            ]
            producer.flush(timeout=30)
            for future in futures:
                future.get(timeout=30)  # raises: the transaction rolls back, rows stay pending
            conn.execute("update outbox set published_at = now() where id = any(%b)", ([r[0] for r in rows],))
        metrics.OUTBOX_PUBLISHED.labels(self.service).inc(len(rows))
        if self.on_published is not None:
            self.on_published(len(rows))
        return len(rows)

    def observe_backlog(self) -> None:
        observe_backlog(self.pool, self.service)

    def run(self, stop: threading.Event, idle_seconds: float = 0.05, notified_idle_seconds: float = 0.5,
            observe: bool = True) -> None:
        """Publish until ``stop``; between batches, wait for the outbox trigger's notification.

        A committed outbox insert notifies ``forbear_outbox_<schema>`` (migration 0002), which
        wakes the relay at once; without a listening connection it polls every ``idle_seconds``,
        with one it still polls every ``notified_idle_seconds`` in case a notification is missed.
        """
        last_observed = 0.0
        listener: psycopg.Connection | None = None
        retrying = Retrying(self.service, "outbox_relay")
        while not stop.is_set():
            try:
                published = self.publish_pending()
                if observe and time.monotonic() - last_observed > 1.0:
                    self.observe_backlog()
                    last_observed = time.monotonic()
            except Exception as exc:
                self._failed(exc, retrying.attempt)
                retrying.failed(stop)
                continue
            retrying.succeeded()
            if published == 0:
                if listener is None or listener.closed:
                    listener = self._listen()
                if listener is None:
                    stop.wait(idle_seconds)
                    continue
                try:
                    for _ in listener.notifies(timeout=notified_idle_seconds, stop_after=1):
                        pass
                    self._drain(listener)
                except Exception:
                    log.warning("outbox notifications lost; polling until they are back", exc_info=True)
                    listener.close()
                    listener = None
                    stop.wait(idle_seconds)
        if listener is not None:
            listener.close()
        self.producers.close()

    def _failed(self, exc: Exception, attempt: int) -> None:
        """A failed batch stays pending. The broker's failure replaces the producer; only an
        error that is neither the broker's nor the database's is logged with its traceback."""
        if kafka_unavailable(exc):
            self.producers.discard()
        if transient(exc):
            if attempt == 0:
                log.warning("outbox relay cannot publish; retrying with backoff", extra={"error": type(exc).__name__})
        else:
            log.exception("outbox relay failed; retrying with backoff")

    def _listen(self) -> psycopg.Connection | None:
        """A dedicated autocommit connection listening on this schema's outbox channel."""
        try:
            conn = psycopg.connect(self.pool.conninfo, autocommit=True, **(self.pool.kwargs or {}))
            row = conn.execute("select current_schema() as s").fetchone()
            schema = row["s"] if isinstance(row, dict) else row[0]  # type: ignore[index,call-overload]
            conn.execute(f'listen "forbear_outbox_{schema}"')
            return conn
        except Exception:
            log.warning("cannot listen for outbox notifications; polling", exc_info=True)
            return None

    @staticmethod
    def _drain(listener: psycopg.Connection) -> None:
        """Drop notifications that are already queued: one publish pass covers them all."""
        for _ in listener.notifies(timeout=0):
            pass

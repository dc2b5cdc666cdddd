"""Transactional outbox: events are rows written in the same transaction as the state change.

The relay publishes pending rows in id order with an idempotent, acks=all producer and marks
them published only after the broker acknowledged them. A relay that dies between the
broker's acknowledgement and the mark re-publishes on restart: delivery is at least once,
and every consumer's inbox makes the repeat harmless. One relay per service holds an
advisory lock while publishing, which keeps each case's events in order. Each record
carries the event type in the ``event_type`` header as well as in its envelope.
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
    )


class OutboxRelay:
    def __init__(self, pool: ConnectionPool, producer: KafkaProducer, service: str, batch_size: int = 500,
                 on_published: Callable[[int], None] | None = None) -> None:
        self.pool = pool
        self.producer = producer
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
            send = self.producer.send
            futures = [
                send(topic, key=key.encode(), value=body.encode(), headers=[(EVENT_TYPE_HEADER, event_type.encode())])
                for _, topic, key, event_type, body in rows
            ]
            self.producer.flush()
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
        while not stop.is_set():
            try:
                published = self.publish_pending()
                if observe and time.monotonic() - last_observed > 1.0:
                    self.observe_backlog()
                    last_observed = time.monotonic()
            except Exception:
                log.exception("outbox relay failed; retrying")
                published = 0
                stop.wait(1.0)
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

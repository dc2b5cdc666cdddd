"""Retention of the delivery tables every service schema holds: what is deleted, and when.

* ``outbox``: a published row, ``outbox_retention_hours`` after its publication. An unpublished
  row is never deleted (``published_at`` is null until the broker acknowledged it).
* ``inbox``: a row ``inbox_retention_hours`` after it was written; settings refuse a retention
  shorter than the longest redelivery the topics allow plus a margin, so an event delivered
  again is still recognised.
* ``idempotency_keys``: a key ``idempotency_key_hours`` after it was first used; a forgotten key
  is new again.

Each worker runs ``purge_loop``. A run takes a session advisory lock of its schema, so of
several replicas one purges at a time, and deletes in batches of ``retention_batch_rows``,
each batch a statement and a transaction of its own: no long transaction holds back
vacuum, and the relay and the consumers, which touch only recent rows, never wait on it.
The ages are measured by the database's clock (``now()``), the clock that wrote the rows.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg_pool import ConnectionPool

from forbear_shared import metrics
from forbear_shared.settings import Settings

log = logging.getLogger(__name__)

#: table -> the column its age is counted from
AGE_COLUMNS: dict[str, str] = {
    "outbox": "published_at",
    "inbox": "received_at",
    "idempotency_keys": "created_at",
}


@dataclass(frozen=True)
class Retention:
    """How long each delivery table keeps a row, and how many rows one statement deletes."""

    outbox: dt.timedelta
    inbox: dt.timedelta
    idempotency_keys: dt.timedelta
    batch_rows: int = 5000
    #: rest between two full batches
    pause_seconds: float = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Retention:
        return cls(
            outbox=dt.timedelta(hours=settings.outbox_retention_hours),
            inbox=dt.timedelta(hours=settings.inbox_retention_hours),
            idempotency_keys=dt.timedelta(hours=settings.idempotency_key_hours),
            batch_rows=settings.retention_batch_rows,
            pause_seconds=settings.retention_batch_pause_seconds,
        )

    def of(self, table: str) -> dt.timedelta:
        age: dt.timedelta = getattr(self, table)
        return age


def purge_table(conn: psycopg.Connection, service: str, table: str, older_than: dt.timedelta, batch_rows: int,
                stop: threading.Event | None = None, pause_seconds: float = 0.0) -> int:
    """Delete ``table``'s rows older than ``older_than``, ``batch_rows`` per statement, on an
    autocommit connection (each statement its own transaction), resting ``pause_seconds``
    between full batches; return how many."""
    stop = stop or threading.Event()
    column = AGE_COLUMNS[table]
    # ctid = any(array(...)): a TID scan of just the rows the index found, not a join over the table
    sql = (f"delete from {table} where ctid = any(array("
           f"select ctid from {table} where {column} < now() - %s::interval limit %s))")
    total = 0
    while True:
        deleted = conn.execute(sql, (older_than, batch_rows)).rowcount
        total += deleted
        if deleted:
            metrics.RETENTION_PURGED.labels(service, table).inc(deleted)
        if deleted < batch_rows or stop.wait(pause_seconds):
            return total


def purge(pool: ConnectionPool, service: str, retention: Retention,
          stop: threading.Event | None = None) -> dict[str, int] | None:
    """One purge run over the delivery tables; None when another replica is purging."""
    with psycopg.connect(pool.conninfo, autocommit=True, **(pool.kwargs or {})) as conn:
        conn.execute("set lock_timeout = '5s'")
        row = conn.execute(
            "select pg_try_advisory_lock(hashtext('forbear-retention:' || current_schema())) as ok"
        ).fetchone()
        if not row or not row["ok"]:  # type: ignore[call-overload]
            metrics.RETENTION_RUNS.labels(service, "locked").inc()
            return None
        counts = {table: purge_table(conn, service, table, retention.of(table), retention.batch_rows, stop,
                                     retention.pause_seconds)
                  for table in AGE_COLUMNS}
        # closing the connection releases the lock too; unlocking says so
        conn.execute("select pg_advisory_unlock(hashtext('forbear-retention:' || current_schema()))")
    metrics.RETENTION_RUNS.labels(service, "done").inc()
    metrics.RETENTION_LAST_PURGE.labels(service).set(time.time())
    if any(counts.values()):
        log.info("retention purge", extra={f"purged_{table}": n for table, n in counts.items()})
    return counts


def purge_loop(settings: Settings, pool: ConnectionPool) -> Callable[[threading.Event], None]:
    """A worker loop (``WorkerSpec.loops``): purge at start, then every ``retention_purge_interval_seconds``."""
    retention = Retention.from_settings(settings)
    service = settings.service_name

    def run(stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                purge(pool, service, retention, stop)
            except Exception:  # the next run tries again; a purge must never stop the worker
                metrics.RETENTION_RUNS.labels(service, "failed").inc()
                log.exception("retention purge failed")
            stop.wait(settings.retention_purge_interval_seconds)

    return run

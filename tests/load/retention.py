"""Does purging a large table slow the relay or the consumers? Figures with and without.

A schema of its own holds the shared delivery tables with a large history (``BENCH_RETENTION_ROWS``
published outbox rows and as many inbox rows, a month old). The outbox relay publishes
``BENCH_RETENTION_EVENTS`` new events to a topic of this run, and an inbox consumer applies as
many from another: once with nothing else running, once while the retention purge deletes the
old rows of the same table, in its batches of 5,000: as the workers run it (resting between
batches) and flat out. The purge is started just before each measured run; the figures say
whether it was still running when the run ended. A first, uncounted pass of each warms
connections and caches.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
import uuid
from collections.abc import Callable
from functools import partial

import psycopg
from forbear_shared.db import make_pool, migrate
from forbear_shared.events import encode, new_event
from forbear_shared.events.schemas.intake import CaseOpened
from forbear_shared.inbox import InboxProcessor, KafkaInboxLoop
from forbear_shared.outbox import OutboxRelay, make_producer
from forbear_shared.retention import purge_table
from forbear_shared.settings import Settings
from psycopg_pool import ConnectionPool

from tests.support.infra import TestInfra

SERVICE = "bench"
BATCH_ROWS = 5000
OLD = dt.timedelta(days=30)
RETENTION = dt.timedelta(days=7)
#: the purge's rest between batches in the workers (the default setting)
PAUSE: float = Settings.model_fields["retention_batch_pause_seconds"].default


def line(label: str, value: str) -> None:
    print(f"  {label:<58} {value}", flush=True)


def _event(i: int) -> bytes:
    payload = CaseOpened(borrower_id=f"B{i}", hardship_category="unemployment", channel="phone",
                         dpd_at_first_contact=30, opened_on=dt.date(2026, 1, 5), loan_ids=[f"L{i}"])
    return encode(new_event(type="case.opened", payload=payload, case_id=f"C{i}", business_date=dt.date(2026, 1, 5),
                            producer="bench", occurred_at=dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)))


def _fill_history(conn: psycopg.Connection, rows: int, tables: tuple[str, ...] = ("outbox", "inbox")) -> float:
    started = time.perf_counter()
    if "outbox" in tables:
        conn.execute(
            "insert into outbox (event_id, topic, key, event_type, body, created_at, published_at) "
            "select gen_random_uuid(), 'old', 'C' || i, 'case.opened', repeat('x', 600), now() - %s, now() - %s "
            "from generate_series(1, %s) i", (OLD, OLD, rows))
    if "inbox" in tables:
        conn.execute(
            "insert into inbox (consumer, event_id, event_type, topic, received_at) "
            "select 'history', gen_random_uuid(), 'case.opened', 'old', now() - %s from generate_series(1, %s)",
            (OLD, rows))
    for table in tables:
        conn.execute(f"vacuum analyze {table}")
    return time.perf_counter() - started


class _Purge:
    """The purge of one table, in a thread, as the worker's loop runs it."""

    def __init__(self, pool: ConnectionPool, table: str, pause: float) -> None:
        self.deleted = 0
        self.seconds = 0.0
        self.ended: float | None = None

        def run() -> None:
            started = time.perf_counter()
            with psycopg.connect(pool.conninfo, autocommit=True, **(pool.kwargs or {})) as conn:
                self.deleted = purge_table(conn, SERVICE, table, RETENTION, BATCH_ROWS, pause_seconds=pause)
            self.ended = time.perf_counter()
            self.seconds = self.ended - started

        self.thread = threading.Thread(target=run, name=f"purge-{table}")
        self.thread.start()

    def still_running_at(self, moment: float) -> bool:
        return self.ended is None or self.ended >= moment


def _relay_rate(pool: ConnectionPool, bootstrap: str, topic: str, events: int, body: str) -> tuple[float, float]:
    """Events/s of the relay over ``events`` pending rows; and when it finished."""
    with pool.connection() as conn:
        conn.execute(
            "insert into outbox (event_id, topic, key, event_type, body) "
            "select gen_random_uuid(), %s, 'C' || (i %% 5000), 'case.opened', %s from generate_series(1, %s) i",
            (topic, body, events))
    published = 0
    done = threading.Event()

    def count(n: int) -> None:
        nonlocal published
        published += n
        if published >= events:
            done.set()

    producer = make_producer(bootstrap, "bench-relay")
    relay = OutboxRelay(pool, producer, SERVICE, batch_size=2000, on_published=count)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), kwargs={"observe": False})
    started = time.perf_counter()
    thread.start()
    done.wait(600)
    finished = time.perf_counter()
    stop.set()
    thread.join()
    producer.close()
    return published / (finished - started), finished


def _consume_rate(pool: ConnectionPool, bootstrap: str, topic: str, events: int, group: str) -> tuple[float, float]:
    """Events/s of an inbox consumer (one transaction per polled batch) over ``events``."""
    first: list[float] = []

    def handled(_conn: psycopg.Connection, _event: object) -> None:
        if not first:
            first.append(time.perf_counter())  # from the first event on: the group's join is not counted

    done = threading.Event()
    processor = InboxProcessor(pool, group, {"case.opened": handled}, lambda *_: None)
    loop = KafkaInboxLoop(processor, bootstrap, group, [topic])
    stop = threading.Event()
    committed: list[float] = []

    def watch() -> None:
        while not stop.is_set():
            with pool.connection() as conn:
                row = conn.execute("select count(*) as n from inbox where consumer = %s", (group,)).fetchone()
            if row and row["n"] >= events:
                committed.append(time.perf_counter())
                done.set()
                return
            time.sleep(0.05)

    thread = threading.Thread(target=loop.run, args=(stop,))
    watcher = threading.Thread(target=watch)
    thread.start()
    watcher.start()
    done.wait(600)
    stop.set()
    thread.join()
    watcher.join()
    finished = committed[0] if committed else time.perf_counter()
    return events / (finished - first[0]), finished


def bench_retention(infra: TestInfra) -> None:
    rows = int(os.environ.get("BENCH_RETENTION_ROWS", "1000000"))
    events = int(os.environ.get("BENCH_RETENTION_EVENTS", "50000"))
    print(f"\n4. retention: relay and consumer beside a purge of {rows:,} old rows ({events:,} events per run)")
    schema = f"bench_retention_{uuid.uuid4().hex[:6]}"
    migrate(infra.database_url, schema, None)
    pool = make_pool(infra.database_url, schema, max_size=4)
    try:
        with infra.connect(schema) as conn:
            filled = _fill_history(conn, rows)
        line("history loaded (outbox published + inbox rows)", f"{2 * rows:,} rows in {filled:.0f} s")
        body = _event(0).decode()
        from tests.load.bench import produce_all

        source = infra.topic("intake.events")
        produce_all(infra.bootstrap, source, [(f"C{i}".encode(), _event(i)) for i in range(events)])
        target = infra.topic("notifications.requested")

        def measured(label: str, run: Callable[[], tuple[float, float]], purging: str | None = None,
                     pause: float = 0.0) -> None:
            purge = _Purge(pool, purging, pause) if purging else None
            rate, finished = run()
            if purge is None:
                line(f"{label}, no purge", f"{rate:,.0f} events/s")
                return
            running = purge.still_running_at(finished)
            purge.thread.join()
            line(f"{label}, purging {purging} (rest {pause:g} s)", f"{rate:,.0f} events/s  (purge "
                 f"{'still running at the end' if running else 'ended before the run'})")
            line(f"  purge of {purging}", f"{purge.deleted:,} rows in {purge.seconds:.1f} s "
                 f"({purge.deleted / max(purge.seconds, 1e-9):,.0f} rows/s)")

        def refill(table: str) -> None:
            with infra.connect(schema) as conn:
                _fill_history(conn, rows, (table,))

        # a first pass of each, not counted: connections, caches and the broker's metadata warm up
        _relay_rate(pool, infra.bootstrap, target, min(events, 5000), body)
        _consume_rate(pool, infra.bootstrap, source, events, f"{infra.group_prefix}warm-up")
        relay = partial(_relay_rate, pool, infra.bootstrap, target, events, body)
        runs = iter(range(100))

        def consume() -> tuple[float, float]:
            return _consume_rate(pool, infra.bootstrap, source, events, f"{infra.group_prefix}c{next(runs)}")

        for label, run, table in (("relay publish rate", relay, "outbox"),
                                  ("consumer apply rate (inbox)", consume, "inbox")):
            # quiet runs between the purging ones show the drift of a shared machine; the purge
            # with rests ran through the history, so it is loaded again for the one flat out
            measured(label, run)
            measured(label, run, table, PAUSE)
            measured(label, run)
            refill(table)
            measured(label, run, table, 0.0)
            measured(label, run)
    finally:
        pool.close()
        with infra.connect() as conn:
            conn.execute(f"drop schema {schema} cascade")

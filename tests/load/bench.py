"""``make bench``: throughput and latency figures on this machine, against real Kafka and Postgres.

Prints, for the issue's targets:
1. monitoring throughput on ``corebanking.payments`` (one worker, or ``BENCH_MONITORING_MEMBERS``
   members of its group), beside the raw consume rate of the same broker on the same run (the
   ceiling);
2. intake-to-offers latency p50/p99/max and hop medians at 20 and at 50 cases/s (``BENCH_CASES_RATES``);
3. close-of-business sweep over 1,000,000 and 5,000,000 scheduled instalments (``BENCH_SWEEP_INSTALMENTS``, a list);
4. the outbox relay's and an inbox consumer's rates with and without a concurrent purge of
   1,000,000 old rows of the same table;
5. the console's read model (``readmodel``): projection throughput, ``/kpis`` and queue-page
   p95 and the rebuild time on a book of 100,000 cases and 20,000 agreements
   (tests/load/readmodel.py; ``BENCH_RM_CASES``, ``BENCH_RM_AGREEMENTS``);
6. the policy lab (``policylab``): 10,000 borrowers x 2 policies, the pure domain on every core,
   no broker or database (tests/load/policylab.py; ``BENCH_LAB_BORROWERS``, ``BENCH_LAB_REPLICATIONS``).

Each run gets its own database and topic prefix (like the test suite) and removes them.
Sizes can be lowered for a quick look: ``BENCH_PAYMENTS``, ``BENCH_CASES_SECONDS``,
``BENCH_SWEEP_INSTALMENTS``, ``BENCH_RETENTION_ROWS``, ``BENCH_RETENTION_EVENTS``.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from forbear_shared.devstack import Stack, replica_name
from forbear_shared.events import encode, new_event
from forbear_shared.events.schemas.corebanking import PaymentReceived
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from tests.load.procstat import backend_pids, cpu_seconds, peak_rss_mb
from tests.support import infra as test_infra

PORT_OFFSET = int(os.environ.get("BENCH_PORT_OFFSET", "20000"))
START = dt.date(2026, 1, 5)
#: the other services' consumers of monitoring.events (every payment.applied reaches them): stopped
#: while the monitoring worker is measured, as in a deployment they run on machines of their own;
#: ``BENCH_DOWNSTREAM=run`` keeps them running on the same cores
DOWNSTREAM_WORKERS = (
    () if os.environ.get("BENCH_DOWNSTREAM") == "run" else ("intake-worker", "evaluation-worker", "agreement-worker")
)
NOW = dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)
#: the payments section's books (active agreements) and worker counts (members of monitoring's
#: consumer group), each book run with each count
PAYMENT_BOOKS = [int(n) for n in os.environ.get("BENCH_PAYMENT_BOOKS", "2000,20000,200000").split(",") if n.strip()]
MEMBER_COUNTS = [int(n) for n in os.environ.get("BENCH_MONITORING_MEMBERS", "1,2").split(",") if n.strip()]
MONITORING_MEMBERS = max(MEMBER_COUNTS)
MONITORING_WORKERS = [replica_name("monitoring-worker", n) for n in range(1, MONITORING_MEMBERS + 1)]
#: the workers' ledger cache, as a deployment sets it (``FORBEAR_LEDGER_CACHE_SIZE``)
LEDGER_CACHE_SIZE = int(os.environ.get("FORBEAR_LEDGER_CACHE_SIZE", "40000"))


def line(label: str, value: str) -> None:
    print(f"  {label:<58} {value}", flush=True)


def produce_all(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> float:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, batch_size=256 * 1024)
    started = time.perf_counter()
    for key, value in messages:
        producer.send(topic, key=key, value=value)
    producer.flush()
    producer.close()
    return time.perf_counter() - started


def raw_consume_rate(bootstrap: str, topic: str, expected: int,
                     start: dict[TopicPartition, int] | None = None) -> float:
    """Events/s a bare consumer reads from the same topic (from ``start``, or its beginning):
    the ceiling for any handler."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                             max_poll_records=1000, fetch_max_bytes=64 * 1024 * 1024)
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
    consumer.assign(partitions)
    if start is None:
        consumer.seek_to_beginning(*partitions)
    else:
        for tp in partitions:
            consumer.seek(tp, start.get(tp, 0))
    seen = 0
    started = time.perf_counter()
    while seen < expected:
        for batch in consumer.poll(timeout_ms=500).values():
            seen += len(batch)
    elapsed = time.perf_counter() - started
    consumer.close()
    return seen / elapsed


def payment(reference: str, loan_id: str, amount: str, received_on: dt.date = START) -> bytes:
    payload = PaymentReceived(reference=reference, loan_id=loan_id, amount=Decimal(amount), received_on=received_on)
    return encode(new_event(type="payment.received", payload=payload, case_id=loan_id,
                            business_date=received_on, producer="corebanking", occurred_at=NOW))


def wait_count(infra: test_infra.TestInfra, sql: str, target: int, timeout: float) -> None:
    """Poll a count (a query of one column ``n``) until it reaches ``target``."""
    deadline = time.perf_counter() + timeout
    with infra.connect("monitoring") as conn:
        while time.perf_counter() < deadline:
            if conn.execute(sql).fetchone()["n"] >= target:
                return
            time.sleep(0.25)


def _rate(samples: list[tuple[float, int]], total: int) -> float:
    """Events/s from the first sample at 5 % of ``total`` to the first at 100 % (or the last)."""
    first = next((t, c) for t, c in samples if c >= total * 0.05)
    last = next(((t, c) for t, c in samples if c >= total), samples[-1])
    return (last[1] - first[1]) / max(last[0] - first[0], 1e-9)


@dataclass
class PaymentRow:
    agreements: int
    workers: int
    payments: int
    rate: float
    ceiling: float
    worker_cpu: float
    postgres_cpu: float
    window: int
    peak_rss_mb: float
    cached: int
    load: tuple[float, float, float]


def bench_payments(infra: test_infra.TestInfra, stack: Stack, port_offset: int) -> None:
    """Payments/s of one monitoring worker, then of ``MONITORING_MEMBERS`` workers of one group,
    on books of ``PAYMENT_BOOKS`` active agreements; each run's worker starts afresh (its caches
    empty), and every agreement of the book is paid at least twice."""
    from forbear_simulator.client import Forbear

    from tests.load.sweep import load_book
    from tests.support.identity import IssuedTokens

    n_payments = int(os.environ.get("BENCH_PAYMENTS", "100000"))
    print(f"\n1. monitoring on corebanking.payments: books of {', '.join(f'{n:,}' for n in PAYMENT_BOOKS)} "
          f"active agreements, {' then '.join(str(m) for m in MEMBER_COUNTS)} worker(s) of one group")
    print(f"  {'other services workers during the run':<58} {'stopped' if DOWNSTREAM_WORKERS else 'running'}")
    print(f"  {'ledger cache (FORBEAR_LEDGER_CACHE_SIZE)':<58} {LEDGER_CACHE_SIZE:,} ledgers per worker")
    for worker in DOWNSTREAM_WORKERS:
        stack.stop(worker)
    today = Forbear(IssuedTokens("bench-payments", "supervisor"), port_offset=port_offset).business_date()
    topic = infra.topic("corebanking.payments")
    rows: list[PaymentRow] = []
    for k, agreements in enumerate(PAYMENT_BOOKS):
        prefix = f"PB{k}-"
        started = time.perf_counter()
        # nothing due yet: every payment is allocated to the first instalment and none finishes it
        load_book(infra, agreements, today + dt.timedelta(days=20), prefix, first_paid=False)
        line(f"book of {agreements:,} agreements loaded", f"in {time.perf_counter() - started:.1f} s")
        for members in MEMBER_COUNTS:
            rows.append(payments_run(infra, stack, topic, prefix, agreements, members,
                                     max(n_payments, 2 * agreements), today, k))
        with infra.connect("monitoring") as conn:  # this book is no longer monitored
            conn.execute("update agreements set status = 'completed' where agreement_id like %s", (f"{prefix}%",))
    print(f"  {'agreements':>10} {'workers':>7} {'payments':>9} {'payments/s':>10} {'ceiling/s':>9} "
          f"{'worker CPU-s':>12} {'PG CPU-s':>8} {'CPU ms/payment':>14} {'peak MiB':>8} {'cached':>7}  load average")
    for r in rows:
        per_payment = (r.worker_cpu + r.postgres_cpu) / max(r.window, 1) * 1000
        print(f"  {r.agreements:>10,} {r.workers:>7} {r.payments:>9,} {r.rate:>10,.0f} {r.ceiling:>9,.0f} "
              f"{r.worker_cpu:>12.1f} {r.postgres_cpu:>8.1f} {per_payment:>14.3f} {r.peak_rss_mb:>8.0f} "
              f"{r.cached:>7,}  {' '.join(f'{x:.1f}' for x in r.load)}")
    print(f"  {'targets':<58} >= 15,000 payments/s, one worker, 20,000 agreements; "
          f"<= 1,024 MiB at 200,000; {os.cpu_count()} cores on this machine")


def payments_run(infra: test_infra.TestInfra, stack: Stack, topic: str, prefix: str, agreements: int,
                 members: int, n: int, received_on: dt.date, book: int) -> PaymentRow:
    """``n`` payments of 1.00 for the book's loans in turn, applied by ``members`` fresh workers."""
    workers = MONITORING_WORKERS[:members]
    for worker in MONITORING_WORKERS:
        stack.stop(worker)
    base = committed_now(infra, "monitoring", "corebanking.payments")
    start_offsets = end_offsets(infra, topic)
    messages = [(f"L-{prefix}{i % agreements + 1}".encode(),
                 payment(f"P{book}-{members}-{i}", f"L-{prefix}{i % agreements + 1}", "1.00", received_on))
                for i in range(n)]
    produce_all(infra.bootstrap, topic, messages)
    ceiling = raw_consume_rate(infra.bootstrap, topic, n, start_offsets)
    for worker in workers:
        stack.start(worker)
    stack.wait_ready(workers)
    pids = [pid for w in workers if (pid := stack.pid(w)) is not None]
    # CPU and rate from 5 % done on, so start-up and the group join are not counted
    first = wait_committed(infra, "monitoring", "corebanking.payments", base + n // 20, 900)
    with infra.connect("monitoring") as conn:
        backends = backend_pids(conn)
    worker_before, postgres_before = cpu_seconds(pids), cpu_seconds(backends)
    samples = first + wait_committed(infra, "monitoring", "corebanking.payments", base + n, 900)
    worker_cpu, postgres_cpu = cpu_seconds(pids) - worker_before, cpu_seconds(backends) - postgres_before
    load = os.getloadavg()
    window = samples[-1][1] - first[-1][1]
    rate = _rate([(t, c - base) for t, c in samples], n)
    with infra.connect("monitoring") as conn:
        processed = conn.execute(
            "select count(*) as n from payments where status = 'applied' and reference like %s",
            (f"P{book}-{members}-%",),
        ).fetchone()["n"]
    if processed != n:
        print(f"  !! {processed:,} of {n:,} payments applied", flush=True)
    peak = max(peak_rss_mb(pid) for pid in pids)
    row = PaymentRow(agreements, members, n, rate, ceiling, worker_cpu, postgres_cpu, window, peak,
                     min(agreements, LEDGER_CACHE_SIZE), load)
    line(f"{agreements:,} agreements, {members} worker(s)", f"{rate:,.0f} payments/s, peak {peak:,.0f} MiB")
    return row


def committed_now(infra: test_infra.TestInfra, service: str, topic: str) -> int:
    """What ``service``'s group has committed on ``topic`` so far (0 for a new group)."""
    return wait_committed(infra, service, topic, 0, 10)[-1][1]


def end_offsets(infra: test_infra.TestInfra, topic: str) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=infra.bootstrap)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        return dict(consumer.end_offsets(partitions))
    finally:
        consumer.close()


def wait_committed(infra: test_infra.TestInfra, service: str, topic: str, target: int,
                   timeout: float) -> list[tuple[float, int]]:
    """Poll the offsets ``service``'s consumer group committed on ``topic`` (a topic of this run,
    so they count its records) until they reach ``target``; return (time, committed) samples."""
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=infra.bootstrap)
    name = infra.topic(topic)
    group = f"{infra.group_prefix}{service}"
    samples: list[tuple[float, int]] = []
    deadline = time.perf_counter() + timeout
    try:
        while time.perf_counter() < deadline:
            offsets = admin.list_group_offsets({group: None}).get(group, {})
            committed = sum(max(o.offset, 0) for tp, o in offsets.items() if tp.topic == name)
            samples.append((time.perf_counter(), committed))
            if committed >= target:
                break
            time.sleep(0.25)
    finally:
        admin.close()
    return samples


def wait_caught_up(infra: test_infra.TestInfra, services: list[str], topic: str, timeout: float) -> float:
    """Seconds until every service's consumer group has committed the end of ``topic``."""
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=infra.bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=infra.bootstrap)
    name = infra.topic(topic)
    partitions = [TopicPartition(name, p) for p in sorted(consumer.partitions_for_topic(name) or [])]
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < timeout:
            end = consumer.end_offsets(partitions)
            groups = admin.list_group_offsets({f"{infra.group_prefix}{s}": partitions for s in services})
            behind = 0
            for committed in groups.values():
                behind += sum(end[tp] - max(committed[tp].offset, 0) if tp in committed else end[tp]
                              for tp in partitions)
            if behind <= 0:
                break
            time.sleep(1.0)
    finally:
        consumer.close()
        admin.close()
    return time.perf_counter() - started


def main() -> int:
    sections = sys.argv[1:] or ["payments", "latency", "sweep", "retention", "readmodel", "policylab"]
    if "policylab" in sections:  # the pure domain only: no stack, no broker, no database
        from tests.load.policylab import bench_policylab

        print(f"Forbear benchmark — {os.cpu_count()} cores")
        bench_policylab()
        sections = [s for s in sections if s != "policylab"]
        if not sections:
            return 0
    infra = test_infra.start_test_infra()
    run_dir = Path(tempfile.mkdtemp(prefix="forbear-bench-"))
    stack = Stack(run_dir, infra.service_env(), port_offset=PORT_OFFSET,
                  replicas={"monitoring-worker": MONITORING_MEMBERS})
    print(f"Forbear benchmark — {os.cpu_count()} cores, Kafka {infra.bootstrap}, database {infra.database}")
    try:
        if set(sections) - {"retention", "readmodel"}:  # these two run their own consumers
            stack.up()
        if "payments" in sections:
            bench_payments(infra, stack, PORT_OFFSET)
        if "latency" in sections:
            from tests.load.latency import bench_latency

            bench_latency(infra, PORT_OFFSET, {n: p for n, p in stack.status().items() if p})
        if "sweep" in sections:
            from tests.load.sweep import bench_sweep

            bench_sweep(infra, stack, PORT_OFFSET)
        if "retention" in sections:
            from tests.load.retention import bench_retention

            bench_retention(infra)
        if "readmodel" in sections:
            from tests.load.readmodel import bench_readmodel

            bench_readmodel(infra)
    finally:
        stack.down()
        test_infra.stop_test_infra(infra)
    return 0


if __name__ == "__main__":
    sys.exit(main())

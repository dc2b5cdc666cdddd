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
from decimal import Decimal
from pathlib import Path

from forbear_shared.devstack import Stack, replica_name
from forbear_shared.domain.money import Money
from forbear_shared.domain.schedule import equal_instalment_schedule
from forbear_shared.events import encode, new_event
from forbear_shared.events.schemas.agreement import AgreementActivated
from forbear_shared.events.schemas.common import ScheduleDoc
from forbear_shared.events.schemas.corebanking import PaymentReceived
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

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
#: members of monitoring's consumer group in the payments section (``BENCH_MONITORING_MEMBERS=2``)
MONITORING_MEMBERS = int(os.environ.get("BENCH_MONITORING_MEMBERS", "1"))
MONITORING_WORKERS = [replica_name("monitoring-worker", n) for n in range(1, MONITORING_MEMBERS + 1)]


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


def raw_consume_rate(bootstrap: str, topic: str, expected: int) -> float:
    """Events/s a bare consumer reads from the same topic: the ceiling for any handler."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                             max_poll_records=1000, fetch_max_bytes=64 * 1024 * 1024)
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    seen = 0
    started = time.perf_counter()
    while seen < expected:
        for batch in consumer.poll(timeout_ms=500).values():
            seen += len(batch)
    elapsed = time.perf_counter() - started
    consumer.close()
    return seen / elapsed


def activation(agreement_id: str, loan_id: str, borrower: str) -> bytes:
    schedule = equal_instalment_schedule(
        Money.of("12000.00"), Decimal("0.08"), instalments=12, first_due_date=dt.date(2026, 2, 5)
    )
    payload = AgreementActivated(
        agreement_id=agreement_id,
        borrower_id=borrower,
        loan_ids=[loan_id],
        option="term_extension",
        schedule=ScheduleDoc.model_validate(schedule.to_dict()),
        document_sha256="0" * 64,
        activated_on=START,
        policy_version="demo-lender-2026.1",
    )
    event = new_event(type="agreement.activated", payload=payload, case_id=f"case-{agreement_id}",
                      business_date=START, producer="bench", occurred_at=NOW)
    return encode(event)


def payment(reference: str, loan_id: str, amount: str) -> bytes:
    payload = PaymentReceived(reference=reference, loan_id=loan_id, amount=Decimal(amount), received_on=START)
    return encode(new_event(type="payment.received", payload=payload, case_id=loan_id,
                            business_date=START, producer="corebanking", occurred_at=NOW))


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


def bench_payments(infra: test_infra.TestInfra, stack: Stack) -> None:
    n_payments = int(os.environ.get("BENCH_PAYMENTS", "100000"))
    n_agreements = 2000
    members = "one worker" if MONITORING_MEMBERS == 1 else f"{MONITORING_MEMBERS} members of its group"
    print(f"\n1. monitoring on corebanking.payments ({n_payments:,} events, {n_agreements:,} agreements, {members})")
    print(f"  {'other services workers during the run':<58} {'stopped' if DOWNSTREAM_WORKERS else 'running'}")
    activations = [
        (f"case-A{i}".encode(), activation(f"A{i}", f"L{i}", f"B{i}")) for i in range(n_agreements)
    ]
    produce_all(infra.bootstrap, infra.topic("agreement.events"), activations)
    wait_count(infra, "select count(*) as n from agreements", n_agreements, 300)
    for worker in MONITORING_WORKERS:
        stack.stop(worker)
    for worker in DOWNSTREAM_WORKERS:
        stack.stop(worker)
    # small amounts: every payment is applied to the ledger, none finishes a schedule
    messages = [(f"L{i % n_agreements}".encode(), payment(f"P{i}", f"L{i % n_agreements}", "1.00"))
                for i in range(n_payments)]
    produce_seconds = produce_all(infra.bootstrap, infra.topic("corebanking.payments"), messages)
    ceiling = raw_consume_rate(infra.bootstrap, infra.topic("corebanking.payments"), n_payments)
    for worker in MONITORING_WORKERS:
        stack.start(worker)
    # progress from the offsets the worker commits after each batch's transaction (asking the
    # broker, not scanning the payments table while the worker writes it)
    samples = wait_committed(infra, "monitoring", "corebanking.payments", n_payments, 900)
    # rate between 5 % and 100 % done, so start-up and group join are not counted
    rate = _rate(samples, n_payments)
    with infra.connect("monitoring") as conn:
        processed = conn.execute("select count(*) as n from payments where status <> 'pending'").fetchone()["n"]
    line("produce rate (acks=all)", f"{n_payments / produce_seconds:,.0f} events/s")
    line("raw consume rate of the same topic (ceiling)", f"{ceiling:,.0f} events/s")
    line("monitoring worker, payments allocated, recorded, offsets committed", f"{rate:,.0f} events/s  (target >= 5,000)")
    line("payments processed", f"{processed:,} of {n_payments:,}")
    if not DOWNSTREAM_WORKERS:
        return
    for worker in DOWNSTREAM_WORKERS:
        stack.start(worker)
    stack.wait_ready(list(DOWNSTREAM_WORKERS))
    waited = wait_caught_up(infra, ["intake", "evaluation", "agreement"], "monitoring.events", 600)
    line("other services' workers restarted, caught up on monitoring.events", f"in {waited:.0f} s")


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
            bench_payments(infra, stack)
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

"""Payment throughput of ONE monitoring worker on ``corebanking.payments`` (issue 4's benchmark).

Creates a throw-away database and topic prefix, starts one monitoring worker process,
activates ``--agreements`` agreements, produces ``--payments`` payment events, and prints
the sustained rate (first event consumed -> last payment applied) beside the raw consume
rate of the same broker and topic, read by a bare consumer (the ceiling).

    .venv/bin/python -m services.monitoring.bench.bench_payments --payments 50000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from decimal import Decimal

from forbear_shared.domain.money import Money
from forbear_shared.domain.schedule import equal_instalment_schedule
from forbear_shared.events import encode, new_event
from forbear_shared.events.schemas.agreement import AgreementActivated
from forbear_shared.events.schemas.common import ScheduleDoc
from forbear_shared.events.schemas.corebanking import PaymentReceived
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from tests.support.infra import start_test_infra, stop_test_infra

NOW = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
START = dt.date(2026, 1, 5)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agreements", type=int, default=2000)
    parser.add_argument("--payments", type=int, default=50000)
    args = parser.parse_args()
    infra = start_test_infra()
    worker = None
    try:
        env = {**os.environ, **infra.service_env(), "FORBEAR_METRICS_PORT": str(free_port()), "FORBEAR_LOG_LEVEL": "WARNING"}
        producer = KafkaProducer(bootstrap_servers=infra.bootstrap, acks=1, linger_ms=20, batch_size=256 * 1024)
        schedule = equal_instalment_schedule(Money.of("12000.00"), Decimal("0.12"), 12, START + dt.timedelta(days=10))
        doc = ScheduleDoc.model_validate(schedule.to_dict())
        for n in range(args.agreements):
            payload = AgreementActivated(agreement_id=f"A{n}", borrower_id=f"B{n}", loan_ids=[f"L{n}"],
                                         option="term_extension", schedule=doc, document_sha256="0" * 64,
                                         activated_on=START, policy_version="bench")
            event = new_event(type="agreement.activated", payload=payload, case_id=f"C{n}", business_date=START,
                              producer="bench", occurred_at=NOW)
            producer.send(infra.topic("agreement.events"), key=f"C{n}".encode(), value=encode(event))
        instalment = schedule.instalments[0].total
        payments = []
        for n in range(args.payments):
            loan = f"L{n % args.agreements}"
            payload = PaymentReceived(reference=f"P{n}", loan_id=loan, amount=Decimal("50.00"), received_on=START)
            payments.append((loan, encode(new_event(type="payment.received", payload=payload, case_id=loan,
                                                    business_date=START, producer="bench", occurred_at=NOW))))
        del instalment
        producer.flush()
        worker = subprocess.Popen([sys.executable, "-m", "forbear_monitoring.entrypoints.worker"], env=env)
        import psycopg

        with psycopg.connect(infra.database_url, autocommit=True, options="-c search_path=monitoring") as conn:
            while True:
                try:
                    n = conn.execute("select count(*) from agreements").fetchone()[0]
                except psycopg.errors.UndefinedTable:
                    n = 0
                if n >= args.agreements:
                    break
                time.sleep(0.2)
            for loan, value in payments:
                producer.send(infra.topic("corebanking.payments"), key=loan.encode(), value=value)
            producer.flush()
            t0 = time.monotonic()
            staged_at = None
            while True:
                row = conn.execute("select count(*) filter (where status <> 'pending'), count(*) from payments").fetchone()
                if staged_at is None and row[1] >= args.payments:
                    staged_at = time.monotonic()
                if row[0] >= args.payments:
                    break
                time.sleep(0.05)
            elapsed = time.monotonic() - t0
            applied = conn.execute("select count(*) from payments where status = 'applied'").fetchone()[0]
        consumer = KafkaConsumer(bootstrap_servers=infra.bootstrap, enable_auto_commit=False, group_id=None,
                                 max_poll_records=1000)
        topic = infra.topic("corebanking.payments")
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        got, c0 = 0, time.monotonic()
        while got < args.payments:
            for batch in consumer.poll(timeout_ms=500).values():
                got += len(batch)
        raw = time.monotonic() - c0
        print(f"payments: {args.payments} over {args.agreements} agreements, {applied} applied")
        print(f"monitoring worker: {args.payments / elapsed:,.0f} payments/s applied end to end "
              f"(consumed+staged in {staged_at - t0:.1f}s, all applied in {elapsed:.1f}s)")
        print(f"raw consume of the same topic: {args.payments / raw:,.0f} events/s (the ceiling)")
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        stop_test_infra(infra)


if __name__ == "__main__":
    main()

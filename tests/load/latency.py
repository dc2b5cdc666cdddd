"""Intake-to-offers latency: from a complete case's submission to its first offer on Kafka."""

from __future__ import annotations

import statistics
import threading
import time
import uuid

from forbear_shared.events import decode
from forbear_simulator.client import Forbear, tiny_pdf
from kafka import KafkaConsumer

from tests.support.identity import IssuedTokens
from tests.support.infra import TestInfra

RATE = 20.0  # cases per second


def ready_case(agent: Forbear, n: int) -> str:
    """A case with its statement and every required document accepted: only submission is left."""
    borrower = f"LB{n}-{uuid.uuid4().hex[:6]}"
    case = agent.open_case({
        "borrower": {"borrower_id": borrower},
        "loans": [{
            "loan_id": f"LL{n}-{uuid.uuid4().hex[:6]}", "borrower_id": borrower,
            "original_principal": "60000.00", "outstanding_principal": "42000.00", "annual_rate": "0.0960",
            "original_term_months": 36, "remaining_term_months": 22, "contractual_instalment": "2566.38",
            "overdue_principal": "4200.00", "overdue_interest": "900.00", "penalty_interest": "38.20",
            "days_past_due": 19, "as_of": "2026-01-05",
        }],
        "hardship_category": "unemployment",
        "channel": "phone",
    })
    agent.put_statement(case["case_id"], {
        "income": [{"category": "unemployment_benefit", "monthly_amount": "4500.00"}],
        "essential_expenditure": [{"category": "rent", "monthly_amount": "1800.00"},
                                  {"category": "food", "monthly_amount": "800.00"}],
        "dependants": 1,
    })
    for doc_type in ("termination_letter", "unemployment_registration"):
        doc = agent.upload(case["case_id"], doc_type, tiny_pdf(f"{doc_type}-{n}"), f"{doc_type}.pdf",
                           "application/pdf")
        agent.review(case["case_id"], doc["document_id"], "accept")
    return str(case["case_id"])


def bench_latency(infra: TestInfra, port_offset: int) -> None:
    import os

    seconds = float(os.environ.get("BENCH_CASES_SECONDS", "30"))
    total = int(seconds * RATE)
    print(f"\n2. intake-to-offers latency at a steady {RATE:.0f} cases/s ({total} cases)")
    agent = Forbear(IssuedTokens("bench-agent", "agent"), port_offset=port_offset)
    cases = [ready_case(agent, i) for i in range(total)]
    offered: dict[str, float] = {}
    stop = threading.Event()

    def watch_offers() -> None:
        consumer = KafkaConsumer(infra.topic("agreement.events"), bootstrap_servers=infra.bootstrap,
                                 group_id=f"{infra.group_prefix}bench-watch", auto_offset_reset="latest")
        consumer.poll(timeout_ms=1000)
        ready.set()
        while not stop.is_set():
            for batch in consumer.poll(timeout_ms=100).values():
                arrived = time.perf_counter()
                for message in batch:
                    event = decode(message.value)
                    if event.envelope.type == "offer.made":
                        offered.setdefault(event.envelope.case_id, arrived)
        consumer.close()

    ready = threading.Event()
    watcher = threading.Thread(target=watch_offers)
    watcher.start()
    ready.wait(30)
    submitted: dict[str, float] = {}
    started = time.perf_counter()
    for i, case_id in enumerate(cases):
        due = started + i / RATE
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        submitted[case_id] = time.perf_counter()
        agent.submit(case_id)
    deadline = time.perf_counter() + 60
    while len(offered.keys() & submitted.keys()) < len(submitted) and time.perf_counter() < deadline:
        time.sleep(0.2)
    stop.set()
    watcher.join()
    latencies = sorted((offered[c] - submitted[c]) * 1000 for c in submitted if c in offered)
    if not latencies:
        print("  no offers observed")
        return
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    achieved = len(submitted) / (max(submitted.values()) - started)
    print(f"  {'submission rate achieved':<58} {achieved:.1f} cases/s")
    print(f"  {'cases with an offer observed':<58} {len(latencies)} of {len(submitted)}")
    print(f"  {'latency p50 (submit -> offer.made on agreement.events)':<58} {p50:.0f} ms")
    print(f"  {'latency p99':<58} {p99:.0f} ms  (target <= 500 ms)")
    print(f"  {'latency max':<58} {latencies[-1]:.0f} ms")
    print_hops(infra, list(submitted))


HOPS_SQL = """
with sub as (select key as case_id, event_id, created_at, published_at
             from intake.outbox where event_type = 'case.submitted' and key = any(%(cases)s)),
     ev_in as (select event_id, received_at from evaluation.inbox where event_type = 'case.submitted'),
     dec as (select distinct on (key) key as case_id, event_id, created_at, published_at
             from evaluation.outbox where event_type = 'case.decided' and key = any(%(cases)s)
             order by key, id),
     ag_in as (select event_id, received_at from agreement.inbox where event_type = 'case.decided'),
     off as (select distinct on (key) key as case_id, created_at, published_at
             from agreement.outbox where event_type = 'offer.made' and key = any(%(cases)s) order by key, id)
select extract(epoch from sub.published_at - sub.created_at) * 1000 as intake_relay,
       extract(epoch from ev_in.received_at - sub.published_at) * 1000 as to_evaluation,
       extract(epoch from dec.created_at - ev_in.received_at) * 1000 as evaluating,
       extract(epoch from dec.published_at - dec.created_at) * 1000 as evaluation_relay,
       extract(epoch from ag_in.received_at - dec.published_at) * 1000 as to_agreement,
       extract(epoch from off.created_at - ag_in.received_at) * 1000 as making_offers,
       extract(epoch from off.published_at - off.created_at) * 1000 as agreement_relay
from sub join ev_in using (event_id) join dec using (case_id) join ag_in on ag_in.event_id = dec.event_id
     join off using (case_id)
"""


def print_hops(infra: TestInfra, cases: list[str]) -> None:
    """Where the time goes, hop by hop, from the services' own outbox and inbox timestamps."""
    with infra.connect() as conn:
        rows = conn.execute(HOPS_SQL, {"cases": cases}).fetchall()
    if not rows:
        return
    print(f"  {'hop medians (p99), ms, from outbox/inbox timestamps:':<58}")
    for hop in rows[0]:
        values = sorted(float(r[hop]) for r in rows if r[hop] is not None)
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        print(f"    {hop:<56} {statistics.median(values):8.0f} ({p99:.0f})")

"""Intake-to-offers latency: from a complete case's submission to its first offer on Kafka.

At each arrival rate of ``BENCH_CASES_RATES`` (cases/s, default 20 and 50) a fresh set of cases,
each with its statement and documents accepted, is submitted on a fixed timetable (submissions
from a few threads, so a slow answer does not delay the next arrival) for
``BENCH_CASES_SECONDS``; the latency of a case runs from its submission to its first
``offer.made`` on ``agreement.events``.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from forbear_shared.events import decode
from forbear_simulator.client import Forbear, tiny_pdf
from kafka import KafkaConsumer

from tests.load.procstat import cpu_seconds
from tests.support.identity import IssuedTokens
from tests.support.infra import TestInfra

#: arrival rates measured, cases per second
RATES = [float(r) for r in os.environ.get("BENCH_CASES_RATES", "20,50").split(",") if r.strip()]
#: threads submitting (an answer slower than the gap between arrivals must not delay the next one)
SUBMITTERS = 8
#: threads preparing the cases beforehand
PREPARERS = 4


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


@dataclass
class RateResult:
    rate: float
    achieved: float
    cases: int
    offered: int
    p50: float
    p99: float
    max: float
    hops: dict[str, float]
    cpu_seconds: float
    load: tuple[float, float, float]


def bench_latency(infra: TestInfra, port_offset: int, service_pids: dict[str, int] | None = None) -> None:
    seconds = float(os.environ.get("BENCH_CASES_SECONDS", "30"))
    rates = " and ".join(f"{r:g}" for r in RATES)
    print(f"\n2. intake-to-offers latency at a steady {rates} cases/s ({seconds:g} s each)")
    agent = Forbear(IssuedTokens("bench-agent", "agent"), port_offset=port_offset)
    results = [measure_rate(infra, agent, rate, int(seconds * rate), service_pids or {}) for rate in RATES]
    print(f"  {'rate':>6} {'achieved':>9} {'offers':>11} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
          f"{'stack CPU-s':>11}  load average")
    for r in results:
        print(f"  {r.rate:>6g} {r.achieved:>9.1f} {f'{r.offered}/{r.cases}':>11} {r.p50:>7.0f} {r.p99:>7.0f} "
              f"{r.max:>7.0f} {r.cpu_seconds:>11.1f}  {' '.join(f'{x:.1f}' for x in r.load)}")
    hops = list(results[0].hops) if results else []
    if hops:
        print(f"  {'hop medians, ms (outbox/inbox timestamps)':<44}" + "".join(f"{r.rate:>8g}/s" for r in results))
        for hop in hops:
            print(f"    {hop:<42}" + "".join(f"{r.hops.get(hop, float('nan')):>10.1f}" for r in results))


def settle(pids: dict[str, int], timeout: float = 90.0) -> None:
    """Wait until the stack has digested the preparation's events (its processes use less than
    a fifth of a core over a second), so the measured cases do not queue behind them."""
    deadline = time.perf_counter() + timeout
    before = cpu_seconds(pids.values())
    while time.perf_counter() < deadline:
        time.sleep(1.0)
        now = cpu_seconds(pids.values())
        if now - before < 0.2:
            return
        before = now


def measure_rate(infra: TestInfra, agent: Forbear, rate: float, total: int, pids: dict[str, int]) -> RateResult:
    started_prep = time.perf_counter()
    with ThreadPoolExecutor(PREPARERS) as preparers:
        cases = list(preparers.map(lambda n: ready_case(agent, n), range(total)))
    print(f"  {f'{rate:g} cases/s: {total} cases prepared':<58} {time.perf_counter() - started_prep:.0f} s", flush=True)
    settle(pids)
    offered: dict[str, float] = {}
    stop = threading.Event()

    def watch_offers() -> None:
        consumer = KafkaConsumer(infra.topic("agreement.events"), bootstrap_servers=infra.bootstrap,
                                 group_id=f"{infra.group_prefix}bench-watch-{uuid.uuid4().hex[:6]}",
                                 auto_offset_reset="latest", fetch_max_wait_ms=100)
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
    cpu_before = cpu_seconds(pids.values())
    started = time.perf_counter()

    def submit(i: int, case_id: str) -> None:
        pause = started + i / rate - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        submitted[case_id] = time.perf_counter()
        agent.submit(case_id)

    with ThreadPoolExecutor(SUBMITTERS) as submitters:
        for f in [submitters.submit(submit, i, c) for i, c in enumerate(cases)]:
            f.result()
    deadline = time.perf_counter() + 60
    while len(offered.keys() & submitted.keys()) < len(submitted) and time.perf_counter() < deadline:
        time.sleep(0.2)
    cpu = cpu_seconds(pids.values()) - cpu_before
    load = os.getloadavg()
    stop.set()
    watcher.join()
    latencies = sorted((offered[c] - submitted[c]) * 1000 for c in submitted if c in offered)
    if not latencies:
        print("  no offers observed")
        return RateResult(rate, 0, len(submitted), 0, *(float("nan"),) * 3, {}, cpu, load)
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    achieved = (len(submitted) - 1) / max(max(submitted.values()) - started, 1e-9) if len(submitted) > 1 else rate
    return RateResult(rate, achieved, len(submitted), len(latencies), p50, p99, latencies[-1],
                      hop_medians(infra, list(submitted)), cpu, load)


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


def hop_medians(infra: TestInfra, cases: list[str]) -> dict[str, float]:
    """Where the time goes, hop by hop, from the services' own outbox and inbox timestamps."""
    with infra.connect() as conn:
        rows = conn.execute(HOPS_SQL, {"cases": cases}).fetchall()
    if not rows:
        return {}
    return {hop: statistics.median(float(r[hop]) for r in rows if r[hop] is not None) for hop in rows[0]}

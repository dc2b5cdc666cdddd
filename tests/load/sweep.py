"""Close-of-business sweep over large books: 1,000,000 and 5,000,000 scheduled instalments.

Each book is loaded straight into monitoring's tables with set-based SQL (agreements of 20
monthly instalments, the shape ``agreement.activated`` produces): replaying hundreds of
thousands of activations through Kafka would measure the consumer, not the sweep. The first
instalment is due just before the swept day; 95 % of the book paid it on time, 5 % did not, so
the sweep finds one missed instalment per 400 scheduled and moves as many agreements up the
escalation ladder. Sizes: ``BENCH_SWEEP_INSTALMENTS`` (a comma-separated list); each book is
swept on a day of its own, the previous one set aside (completed) first.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from dataclasses import dataclass
from decimal import Decimal

from forbear_shared.devstack import Stack
from forbear_shared.domain.money import Money
from forbear_shared.domain.schedule import equal_instalment_schedule
from forbear_shared.domain.working_days import roll_due_dates
from forbear_simulator.client import Forbear
from psycopg.types.json import Jsonb

from tests.load.procstat import backend_pids, cpu_seconds, peak_rss_mb, reset_peak_rss
from tests.support.calendar import grace_cutoff, policy
from tests.support.identity import IssuedTokens
from tests.support.infra import TestInfra

INSTALMENTS_PER_AGREEMENT = 20
#: one agreement in this many missed its first instalment
MISSED_ONE_IN = 20
POLICY = policy()
SIZES = [int(n) for n in os.environ.get("BENCH_SWEEP_INSTALMENTS", "1000000,5000000").split(",") if n.strip()]


def load_book(infra: TestInfra, agreements: int, first_due: dt.date, prefix: str = "SW", *,
              first_paid: bool = True) -> None:
    """``agreements`` agreements ``<prefix><n>``; their instalments in one ``insert ... select``
    from ``generate_series`` and the schedule's columns (no per-agreement JSON unpacking).
    ``first_paid``: all but one in ``MISSED_ONE_IN`` paid the first instalment on its due date;
    otherwise nothing is paid."""
    schedule = roll_due_dates(equal_instalment_schedule(
        Money.of("20000.00"), Decimal("0.08"), instalments=INSTALMENTS_PER_AGREEMENT, first_due_date=first_due
    ), POLICY.working_calendar, POLICY.calendar.due_date_roll).to_dict()
    rows = schedule["instalments"]
    # the grace cutoff of each due date (3 working days after it), as monitoring stores it
    columns = {
        "number": [int(i["number"]) for i in rows],
        "due": [dt.date.fromisoformat(i["due_date"]) for i in rows],
        "cutoff": [grace_cutoff(dt.date.fromisoformat(i["due_date"])) for i in rows],
        "kind": [i["kind"] for i in rows],
        "principal": [Decimal(i["principal"]) for i in rows],
        "interest": [Decimal(i["interest"]) for i in rows],
        "fee": [Decimal(i["fee"]) for i in rows],
        "total": [Decimal(i["total"]) for i in rows],
    }
    activated = first_due - dt.timedelta(days=31)
    with infra.connect("monitoring") as conn:
        conn.execute(
            """insert into agreements (agreement_id, case_id, borrower_id, loan_ids, option, document_sha256,
                                       activated_on, policy_version, currency, schedule, level_since)
               select %(p)s || g, 'case-' || %(p)s || g, 'B-' || %(p)s || g, array['L-' || %(p)s || g],
                      'term_extension', repeat('0', 64), %(activated)s, 'demo-lender-2026.1', 'CNY',
                      %(schedule)s, %(activated)s
               from generate_series(1, %(n)s) g""",
            {"p": prefix, "activated": activated, "schedule": Jsonb(schedule), "n": agreements},
        )
        conn.execute(
            """insert into agreement_loans (loan_id, agreement_id, activated_on)
               select 'L-' || %(p)s || g, %(p)s || g, %(activated)s from generate_series(1, %(n)s) g""",
            {"p": prefix, "activated": activated, "n": agreements},
        )
        # in primary-key order; all but one in MISSED_ONE_IN paid the first instalment on its due date
        conn.execute(
            """insert into instalments (agreement_id, number, due_date, grace_cutoff, kind, principal, interest,
                                        fee, total, principal_paid, interest_paid, fee_paid, settled_on)
               select %(p)s || g, s.number, s.due, s.cutoff, s.kind, s.principal, s.interest, s.fee, s.total,
                      case when paid then s.principal else 0 end, case when paid then s.interest else 0 end,
                      case when paid then s.fee else 0 end, case when paid then s.due end
               from generate_series(1, %(n)s) g
               cross join lateral unnest(%(number)s::int[], %(due)s::date[], %(cutoff)s::date[], %(kind)s::text[],
                                         %(principal)s::numeric[], %(interest)s::numeric[], %(fee)s::numeric[],
                                         %(total)s::numeric[])
                    as s(number, due, cutoff, kind, principal, interest, fee, total)
               cross join lateral (select %(first_paid)s and s.number = 1 and g %% %(one_in)s <> 0 as paid) p
               order by (%(p)s || g), s.number""",
            {"p": prefix, "n": agreements, "one_in": MISSED_ONE_IN, "first_paid": first_paid, **columns},
        )
        conn.execute("analyze agreements; analyze instalments")


@dataclass
class SweepResult:
    instalments: int
    agreements: int
    load_seconds: float
    seconds: float
    missed: int
    expected_missed: int
    api_cpu: float
    postgres_cpu: float
    peak_rss_mb: float
    load: tuple[float, float, float]
    levels: dict[str, int]


def bench_sweep(infra: TestInfra, stack: Stack, port_offset: int) -> None:
    operator = Forbear(IssuedTokens("bench-cob", "supervisor"), port_offset=port_offset, timeout=900)
    print(f"\n3. close-of-business sweep over {' and '.join(f'{n:,}' for n in SIZES)} scheduled instalments "
          f"(one missed in {INSTALMENTS_PER_AGREEMENT * MISSED_ONE_IN})")
    results = []
    for k, total in enumerate(SIZES):
        if k:
            with infra.connect("monitoring") as conn:  # the previous book is no longer monitored
                conn.execute("update agreements set status = 'completed' where agreement_id like %s",
                             (f"SW{k - 1}-%",))
        results.append(sweep_once(infra, stack, operator, total, f"SW{k}-"))
    print(f"  {'instalments':>11} {'agreements':>10} {'load s':>7} {'sweep s':>8} {'rows/s':>10} "
          f"{'missed':>13} {'API CPU-s':>9} {'PG CPU-s':>8} {'API peak MiB':>12}  load average")
    for r in results:
        print(f"  {r.instalments:>11,} {r.agreements:>10,} {r.load_seconds:>7.1f} {r.seconds:>8.2f} "
              f"{r.instalments / r.seconds:>10,.0f} {f'{r.missed:,}/{r.expected_missed:,}':>13} "
              f"{r.api_cpu:>9.2f} {r.postgres_cpu:>8.2f} {r.peak_rss_mb:>12.0f}  "
              f"{' '.join(f'{x:.1f}' for x in r.load)}")
    for r in results:
        busy = r.api_cpu + r.postgres_cpu
        limit = ("Postgres" if r.postgres_cpu > r.api_cpu else "the API process (Python)")
        print(f"  {f'{r.instalments:,}: CPU busy {busy / r.seconds:.0%} of the wall time, most in':<58} {limit}; "
              f"levels after {json.dumps(r.levels)}  (target <= 15 s for 5,000,000)")


def sweep_once(infra: TestInfra, stack: Stack, operator: Forbear, total: int, prefix: str) -> SweepResult:
    agreements = total // INSTALMENTS_PER_AGREEMENT
    today = operator.business_date()
    # the latest due date whose grace has ended by today: tomorrow's COB finds the misses
    first_due = today
    while grace_cutoff(first_due) > today:
        first_due -= dt.timedelta(days=1)
    started = time.perf_counter()
    load_book(infra, agreements, first_due, prefix)
    load_seconds = time.perf_counter() - started
    api = stack.pid("monitoring-api")
    assert api is not None
    with infra.connect("monitoring") as conn:
        backends = backend_pids(conn)
    reset_peak_rss(api)
    api_before, pg_before = cpu_seconds([api]), cpu_seconds(backends)
    started = time.perf_counter()
    result = operator.advance()
    elapsed = time.perf_counter() - started
    api_cpu, pg_cpu = cpu_seconds([api]) - api_before, cpu_seconds(backends) - pg_before
    load = os.getloadavg()
    with infra.connect("monitoring") as conn:
        levels = conn.execute(
            "select level, count(*) as n from agreements where agreement_id like %s group by level order by 1",
            (f"{prefix}%",),
        ).fetchall()
    return SweepResult(agreements * INSTALMENTS_PER_AGREEMENT, agreements, load_seconds, elapsed,
                       int(result.get("instalments_missed") or 0), agreements // MISSED_ONE_IN, api_cpu, pg_cpu,
                       peak_rss_mb(api), load, {r["level"]: r["n"] for r in levels})

"""Close-of-business sweep over a large book: 1,000,000 scheduled instalments.

The book is loaded straight into monitoring's tables with set-based SQL (50,000 agreements of
20 monthly instalments, the shape ``agreement.activated`` produces): replaying 50,000
activations through Kafka would measure the consumer, not the sweep. The first instalment
is due just before the swept day; 95 % of the book paid it on time, 5 % did not, so the sweep
finds 2,500 missed instalments and moves 2,500 agreements up the escalation ladder.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from decimal import Decimal

from forbear_shared.devstack import Stack
from forbear_shared.domain.money import Money
from forbear_shared.domain.schedule import equal_instalment_schedule
from forbear_shared.domain.working_days import roll_due_dates
from forbear_simulator.client import Forbear
from psycopg.types.json import Jsonb

from tests.support.calendar import grace_cutoff, policy
from tests.support.identity import IssuedTokens
from tests.support.infra import TestInfra

INSTALMENTS_PER_AGREEMENT = 20
POLICY = policy()


def load_book(infra: TestInfra, agreements: int, first_due: dt.date) -> None:
    schedule = roll_due_dates(equal_instalment_schedule(
        Money.of("20000.00"), Decimal("0.08"), instalments=INSTALMENTS_PER_AGREEMENT, first_due_date=first_due
    ), POLICY.working_calendar, POLICY.calendar.due_date_roll).to_dict()
    # the grace cutoff of each due date (3 working days after it), as monitoring stores it
    cutoffs = {i["due_date"]: grace_cutoff(dt.date.fromisoformat(i["due_date"])).isoformat()
               for i in schedule["instalments"]}
    activated = first_due - dt.timedelta(days=31)
    with infra.connect("monitoring") as conn:
        conn.execute(
            """insert into agreements (agreement_id, case_id, borrower_id, loan_ids, option, document_sha256,
                                       activated_on, policy_version, currency, schedule, level_since)
               select 'SW' || g, 'case-SW' || g, 'B-SW' || g, array['L-SW' || g], 'term_extension', repeat('0', 64),
                      %(activated)s, 'demo-lender-2026.1', 'CNY', %(schedule)s, %(activated)s
               from generate_series(1, %(n)s) g""",
            {"activated": activated, "schedule": Jsonb(schedule), "n": agreements},
        )
        conn.execute(
            """insert into agreement_loans (loan_id, agreement_id, activated_on)
               select 'L-SW' || g, 'SW' || g, %(activated)s from generate_series(1, %(n)s) g""",
            {"activated": activated, "n": agreements},
        )
        conn.execute(
            """insert into instalments (agreement_id, number, due_date, grace_cutoff, kind,
                                        principal, interest, fee, total)
               select a.agreement_id, (i->>'number')::int, (i->>'due_date')::date,
                      (%(cutoffs)s::jsonb ->> (i->>'due_date'))::date, i->>'kind',
                      (i->>'principal')::numeric, (i->>'interest')::numeric, (i->>'fee')::numeric,
                      (i->>'total')::numeric
               from agreements a cross join lateral jsonb_array_elements(a.schedule->'instalments') i
               where a.agreement_id like 'SW%%'""",
            {"cutoffs": Jsonb(cutoffs)},
        )
        # 95 % paid the first instalment on its due date
        conn.execute(
            """update instalments set principal_paid = principal, interest_paid = interest, fee_paid = fee,
                                      settled_on = due_date
               where number = 1 and agreement_id like 'SW%' and substr(agreement_id, 3)::int % 20 <> 0"""
        )
        conn.execute("analyze agreements; analyze instalments")


def bench_sweep(infra: TestInfra, stack: Stack, port_offset: int) -> None:
    total = int(os.environ.get("BENCH_SWEEP_INSTALMENTS", "1000000"))
    agreements = total // INSTALMENTS_PER_AGREEMENT
    operator = Forbear(IssuedTokens("bench-cob", "supervisor"), port_offset=port_offset, timeout=600)
    today = operator.business_date()
    # the latest due date whose grace has ended by today: tomorrow's COB finds the misses
    first_due = today
    while grace_cutoff(first_due) > today:
        first_due -= dt.timedelta(days=1)
    print(f"\n3. close-of-business sweep over {agreements * INSTALMENTS_PER_AGREEMENT:,} scheduled instalments "
          f"({agreements:,} agreements)")
    started = time.perf_counter()
    load_book(infra, agreements, first_due)
    print(f"  {'book loaded (set-based SQL)':<58} {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    result = operator.advance()
    elapsed = time.perf_counter() - started
    expected_missed = agreements // 20
    print(f"  {'one business day swept (POST /business-date/advance)':<58} {elapsed:.1f} s  (target <= 60 s)")
    print(f"  {'instalments found missed':<58} {result.get('instalments_missed')} (book has {expected_missed:,})")
    with infra.connect("monitoring") as conn:
        levels = conn.execute(
            "select level, count(*) as n from agreements where agreement_id like 'SW%' group by level order by 1"
        ).fetchall()
    print(f"  {'agreements by escalation level after the sweep':<58} "
          f"{json.dumps({r['level']: r['n'] for r in levels})}")

"""Ledgers for many agreements at once, read for the close-of-business sweep and allocation.

``LoanLedger`` values from the ledger rows (one query for the positions, schedules from the
cache or the agreement row), built without re-checking every amount:
a stored schedule was validated by ``Schedule.from_dict`` when the agreement was activated,
and ledger columns are ``numeric(18, 2)``. Each amount is still parsed and rounded half-up
to the cent exactly as ``Money.of`` does, the currency is checked once per schedule, and the
schedule's own invariants (``Instalment`` and ``Schedule`` construction) still run, so a
broken schedule fails here as it would there. What is skipped is the per-amount re-validation
(type and currency checks of ``Money.__post_init__``), which cost the sweep most of its time
when thousands of agreements move on one day.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg
from forbear_shared.domain.arrears import InstalmentPosition, LoanLedger
from forbear_shared.domain.calendar import DayCount
from forbear_shared.domain.money import CENT, Money, parse_rate
from forbear_shared.domain.schedule import Instalment, InstalmentKind, RepaymentMethod, Schedule, ScheduleError
from psycopg.rows import tuple_row

from forbear_monitoring.adapters.repository import Row, ScheduleCache

_exact = Money._exact  # noqa: SLF001 - amounts below are rounded to the cent and the currency checked


def _amount(value: Any) -> Decimal:
    """What ``Money.of(str(value))`` holds: the value rounded half-up to the cent (a decimal
    string written with two places, as ``Money.to_str`` writes them, is already that)."""
    if value.__class__ is str and len(value) > 3 and value[-3] == "." and value[-2:].isdigit():
        return Decimal(value)
    decimal = value if value.__class__ is Decimal else Decimal(str(value))
    return decimal.quantize(CENT, rounding=ROUND_HALF_UP)


def schedule_from_dict(data: Mapping[str, Any]) -> Schedule:
    """``Schedule.from_dict`` for a stored (already validated) schedule document."""
    principal = Money.of(str(data["principal"]), str(data.get("currency", "CNY")))  # checks the currency
    currency = principal.currency
    # one Money per distinct amount of this schedule (an opening balance is the previous
    # closing one, fees and capitalised interest are mostly zero)
    memo: dict[Any, Money] = {}

    def money(value: Any) -> Money:
        found = memo.get(value)
        if found is None:
            found = memo[value] = _exact(_amount(value), currency)
        return found

    zero = _exact(Decimal("0.00"), currency)
    instalments = []
    for i in data["instalments"]:
        instalment = Instalment(
            number=int(i["number"]),
            due_date=date.fromisoformat(str(i["due_date"])),
            kind=InstalmentKind(i["kind"]),
            opening_balance=money(i["opening_balance"]),
            principal=money(i["principal"]),
            interest=money(i["interest"]),
            fee=money(i["fee"]),
            closing_balance=money(i["closing_balance"]),
            capitalised_interest=money(i["capitalised_interest"]) if "capitalised_interest" in i else zero,
        )
        if "total" in i and (
            money(i["total"]).amount
            != instalment.principal.amount + instalment.interest.amount + instalment.fee.amount
        ):
            # the same check and message as Instalment.from_dict
            raise ScheduleError(f"instalment {instalment.number}: total does not equal principal + interest + fee")
        instalments.append(instalment)
    return Schedule(
        method=RepaymentMethod(data["method"]),
        principal=principal,
        annual_rate=parse_rate(str(data["annual_rate"]), what="annual_rate"),
        day_count=DayCount(data["day_count"]),
        start_date=date.fromisoformat(str(data["start_date"])),
        instalments=tuple(instalments),
    )


_POSITION_COLUMNS = (
    "agreement_id, number, fee_paid, penalty_charged, penalty_paid, interest_paid, principal_paid, "
    "penalty_accrued_through, settled_on"
)


def load_ledgers(conn: psycopg.Connection, agreement_rows: dict[str, Row], cache: ScheduleCache) -> dict[str, LoanLedger]:
    """The ledgers of these agreements (one query for their positions; schedules from ``cache``)."""
    ids = list(agreement_rows)
    if not ids:
        return {}
    # held here for this call: a bounded cache may let go of one it was given a moment ago
    schedules: dict[str, Schedule] = {}
    unread: list[str] = []
    for a in ids:
        found = cache.get(a)
        if found is not None:
            schedules[a] = found
        elif agreement_rows[a].get("schedule") is not None:
            # a row read with its schedule (``repository.agreement``) is not read again for it
            schedules[a] = schedule_from_dict(agreement_rows[a]["schedule"])
            cache.put(a, schedules[a])
        else:
            unread.append(a)
    if unread:
        for r in conn.execute(
            "select agreement_id, schedule from agreements where agreement_id = any(%b)", (unread,)
        ).fetchall():
            schedules[r["agreement_id"]] = schedule_from_dict(r["schedule"])
            cache.put(r["agreement_id"], schedules[r["agreement_id"]])
    by_agreement: dict[str, list[tuple[Any, ...]]] = {}
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(
            f"select {_POSITION_COLUMNS} from instalments where agreement_id = any(%b) order by agreement_id, number",
            (ids,),
        )
        for r in cur:
            by_agreement.setdefault(r[0], []).append(r)
    # the ledger columns are numeric(18, 2): psycopg gives Decimals of exactly two places,
    # what Money's rounding would give; equal amounts share one (immutable) Money
    money: dict[tuple[Decimal, str], Money] = {}

    def amount(value: Decimal, currency: str) -> Money:
        key = (value, currency)
        found = money.get(key)
        if found is None:
            found = money[key] = _exact(_amount(value), currency)
        return found

    ledgers: dict[str, LoanLedger] = {}
    for agreement_id, agreement_row in agreement_rows.items():
        schedule = schedules[agreement_id]
        currency = schedule.currency
        positions = tuple(
            InstalmentPosition(
                number,
                amount(fee_paid, currency),
                amount(penalty_charged, currency),
                amount(penalty_paid, currency),
                amount(interest_paid, currency),
                amount(principal_paid, currency),
                penalty_accrued_through,
                settled_on,
            )
            for (_, number, fee_paid, penalty_charged, penalty_paid, interest_paid, principal_paid,
                 penalty_accrued_through, settled_on) in by_agreement.get(agreement_id, [])
        )
        ledgers[agreement_id] = LoanLedger(
            schedule, positions, frozenset(), _exact(_amount(agreement_row["unapplied"]), currency)
        )
    return ledgers

"""The annualised rate (年化利率, APR) a borrower must be shown, by the IRR method.

Why: a flat-rate (等本等息) plan charges interest on the original principal every period,
so its nominal rate understates what the borrower pays; a fee does the same. Chinese
regulators require the cost of credit to be disclosed as an annualised rate and, where it
is compounded, computed by the internal-rate-of-return method (PBoC announcement [2021]
No. 3 on disclosing 年化利率). The same cash flows give US Regulation Z's actuarial APR.

The convention, stated once:

* the cash flows are ``-amount`` on the schedule's start date (the principal disbursed, or
  the balance restructured when a plan starts) and each instalment's total (principal,
  interest and fees) on its due date;
* time is counted in the schedule's unit periods (``Frequency``): instalment ``k`` is at
  period ``k - 1 + f``, where ``f`` is the first period's share of a regular period (1 when
  the plan starts one regular period before its first due date, otherwise actual days of
  the broken period over actual days of the regular period ending on the first due date);
* the periodic IRR ``r`` solves ``sum(payment_k * (1 + r) ** -t_k) = amount``;
* **APR (nominal annual) = r x periods per year** (12 monthly, 52 weekly, 26 fortnightly,
  365/15 for every 15 days: ``Frequency.periods_per_year``), the way 年化利率 by the IRR
  method is quoted (monthly IRR x 12);
* the effective annual rate, when shown, is ``(1 + r) ** periods_per_year - 1``.

``r`` is found with ``Decimal`` arithmetic at 40 significant digits: bisection to bracket,
Newton's method to polish, to within 1e-20 of the root; the APR is then rounded half-up to
``APR_PLACES`` decimal places (0.0001 %), far below the 0.01 % a disclosure shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext

from .calendar import days_actual
from .money import Money
from .schedule import Frequency, Schedule

APR_PLACES = Decimal("0.000001")
"""An APR is disclosed as a fraction to six places (0.109058 is 10.9058 %)."""

_PRECISION = 40
_TOLERANCE = Decimal("1e-20")
_LOW = Decimal("-0.99")  # a periodic rate of -99 %: no real plan loses more
_HIGH = Decimal("10")  # 1,000 % a period: no lawful plan charges more


class AprError(ValueError):
    """Cash flows that have no internal rate of return (nothing repaid, or nothing lent)."""


@dataclass(frozen=True, slots=True)
class CashFlow:
    """An amount (positive: paid by the borrower) at a time counted in unit periods."""

    period: Decimal
    amount: Decimal


def _present_value(rate: Decimal, amount: Decimal, flows: Sequence[CashFlow]) -> Decimal:
    base = Decimal(1) + rate
    return sum((f.amount * base ** -f.period for f in flows), Decimal(0)) - amount


def _derivative(rate: Decimal, flows: Sequence[CashFlow]) -> Decimal:
    base = Decimal(1) + rate
    return sum((-f.period * f.amount * base ** (-f.period - 1) for f in flows), Decimal(0))


def periodic_irr(amount: Decimal, flows: Sequence[CashFlow]) -> Decimal:
    """The rate per unit period at which the flows are worth ``amount`` at period 0 (unrounded).

    The present value falls strictly as the rate rises (every flow is at a positive time and
    none is negative), so the root is unique: bisection brackets it, Newton polishes it.
    """
    if amount <= 0:
        raise AprError("the amount lent must be positive")
    if not flows or any(f.amount < 0 or f.period <= 0 for f in flows):
        raise AprError("repayments must be non-negative and after the start")
    if sum((f.amount for f in flows), Decimal(0)) <= 0:
        raise AprError("nothing is repaid")
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        low, high = _LOW, _HIGH
        if _present_value(high, amount, flows) > 0 or _present_value(low, amount, flows) < 0:
            raise AprError("the rate is outside -99 % to 1,000 % a period")
        for _ in range(80):  # bracket to about 1e-23 relative, then Newton (quadratic) finishes
            middle = (low + high) / 2
            if _present_value(middle, amount, flows) > 0:
                low = middle
            else:
                high = middle
        rate = (low + high) / 2
        for _ in range(20):
            value = _present_value(rate, amount, flows)
            slope = _derivative(rate, flows)
            if slope == 0:
                break
            step = value / slope
            rate -= step
            if abs(step) < _TOLERANCE:
                break
        return +rate


def _first_period_share(start: date, first_due: date, frequency: Frequency) -> Decimal:
    regular_start = frequency.step_back(first_due)
    if start == regular_start:
        return Decimal(1)
    return Decimal(days_actual(start, first_due)) / Decimal(days_actual(regular_start, first_due))


def cash_flows(
    start: date, due_dates: Sequence[date], payments: Sequence[Money], frequency: Frequency
) -> tuple[CashFlow, ...]:
    """The borrower's payments, timed in unit periods from ``start`` (see the module docstring)."""
    if len(due_dates) != len(payments) or not due_dates:
        raise AprError("one payment per due date, at least one")
    share = _first_period_share(start, due_dates[0], frequency)
    return tuple(
        CashFlow(Decimal(index) + share, payment.amount) for index, payment in enumerate(payments)
    )


@dataclass(frozen=True, slots=True)
class AnnualisedRate:
    """The disclosure: the periodic IRR and the two annual forms of it."""

    periodic_rate: Decimal
    """Unrounded rate per unit period."""
    periods_per_year: Decimal
    apr: Decimal
    """Nominal annual: periodic rate x periods per year, rounded to ``APR_PLACES``."""
    effective_annual_rate: Decimal
    """(1 + periodic rate) ** periods per year - 1, rounded to ``APR_PLACES``."""


def annualise(periodic_rate: Decimal, frequency: Frequency) -> AnnualisedRate:
    per_year = frequency.periods_per_year
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        nominal = periodic_rate * per_year
        effective = (Decimal(1) + periodic_rate) ** per_year - 1
    return AnnualisedRate(
        periodic_rate,
        per_year,
        nominal.quantize(APR_PLACES, rounding=ROUND_HALF_UP),
        effective.quantize(APR_PLACES, rounding=ROUND_HALF_UP),
    )


def annualised_rate_of_payments(
    amount: Money, start: date, due_dates: Sequence[date], payments: Sequence[Money], frequency: Frequency
) -> AnnualisedRate:
    """The APR of ``amount`` lent on ``start`` and repaid by ``payments`` on ``due_dates``."""
    flows = cash_flows(start, due_dates, payments, frequency)
    return annualise(periodic_irr(amount.amount, flows), frequency)


def schedule_apr(schedule: Schedule) -> AnnualisedRate:
    """The APR of a schedule: its principal on its start date against every instalment's total."""
    return annualised_rate_of_payments(
        schedule.principal,
        schedule.start_date,
        [i.due_date for i in schedule.instalments],
        [i.total for i in schedule.instalments],
        schedule.frequency,
    )


__all__ = [
    "APR_PLACES",
    "AnnualisedRate",
    "AprError",
    "CashFlow",
    "annualise",
    "annualised_rate_of_payments",
    "cash_flows",
    "periodic_irr",
    "schedule_apr",
]

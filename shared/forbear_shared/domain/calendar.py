"""Business dates and day counts.

A business date is the lender's accounting day (营业日). It is explicit state,
advanced by close of business (COB), and always *passed in* to domain code:
nothing here reads the clock, so a sweep that catches up after an outage
reaches the same decisions it would have reached on time.
"""

from __future__ import annotations

import calendar as _gregorian
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TypeAlias

BusinessDate: TypeAlias = date
"""The lender's business date: a plain ``datetime.date`` handed to the domain."""

MONTHS_PER_YEAR = 12


class DayCount(StrEnum):
    """How a period's interest is measured; a contract term, so it is explicit.

    ``30/360`` makes every month 1/12 of a year (the convention of the public
    annuity reference); ``ACT/365`` charges actual days (Chinese consumer
    loans often quote it); ``ACT/360`` is the daily rate = annual / 360 that
    Chinese banks use for penalty interest (日利率 = 年利率 / 360).
    """

    THIRTY_360 = "30/360"
    ACTUAL_365 = "ACT/365"
    ACTUAL_360 = "ACT/360"


def add_months(start: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end.

    31 Jan + 1 month is 28 (or 29) Feb: a due date never spills into the
    next month, which would silently shorten the borrower's period.
    """
    index = start.year * MONTHS_PER_YEAR + (start.month - 1) + months
    year, month0 = divmod(index, MONTHS_PER_YEAR)
    month = month0 + 1
    day = start.day
    if day > 28:  # only the 29th to 31st can fall past a month's end (monthrange also finds the weekday)
        day = min(day, _gregorian.monthrange(year, month)[1])
    return date(year, month, day)


def add_days(start: date, days: int) -> date:
    return start + timedelta(days=days)


def monthly_due_dates(first_due: date, count: int) -> tuple[date, ...]:
    """``count`` monthly due dates anchored on the first one.

    Anchoring on the first date (not chaining month by month) keeps a plan
    due on the 31st on the last day of every month instead of drifting to
    the 28th after February.
    """
    return tuple(add_months(first_due, i) for i in range(count))


def days_actual(start: date, end: date) -> int:
    """Calendar days from ``start`` to ``end`` (end exclusive of start)."""
    return (end - start).days


def _days_30e_360(start: date, end: date) -> int:
    d1 = min(start.day, 30)
    d2 = min(end.day, 30)
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)


def days_30_360(start: date, end: date) -> int:
    """Days under 30/360: every whole month is 30 days, leftovers by 30E/360.

    Whole months are counted with the end-of-month-safe ``add_months``, so
    31 Jan -> 28 Feb is one month (30 days), not 28. That keeps every regular
    monthly period of a schedule at exactly 1/12 of a year, which is what a
    borrower is told a "monthly rate" means.
    """
    if end < start:
        return -days_30_360(end, start)
    months = months_between(start, end)
    return 30 * months + _days_30e_360(add_months(start, months), end)


def year_fraction(start: date, end: date, day_count: DayCount) -> Decimal:
    """The share of a year from ``start`` to ``end`` under ``day_count``."""
    if day_count is DayCount.THIRTY_360:
        return Decimal(days_30_360(start, end)) / Decimal(360)
    if day_count is DayCount.ACTUAL_365:
        return Decimal(days_actual(start, end)) / Decimal(365)
    return Decimal(days_actual(start, end)) / Decimal(360)


def monthly_rate(annual_rate: Decimal) -> Decimal:
    """The nominal monthly rate (annual / 12) that annuity formulas use."""
    return annual_rate / Decimal(MONTHS_PER_YEAR)


def period_rate(annual_rate: Decimal, start: date, end: date, day_count: DayCount) -> Decimal:
    """Interest rate for one period from ``start`` to ``end``, unrounded."""
    return annual_rate * year_fraction(start, end, day_count)


def daily_rate(annual_rate: Decimal, day_count: DayCount) -> Decimal:
    """Rate for one day; 30/360 and ACT/360 divide by 360, ACT/365 by 365."""
    divisor = 365 if day_count is DayCount.ACTUAL_365 else 360
    return annual_rate / Decimal(divisor)


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (end-of-month aware, floor)."""
    months = (end.year - start.year) * MONTHS_PER_YEAR + (end.month - start.month)
    if add_months(start, months) > end:
        months -= 1
    return months

"""The lender's working days: which business dates are open, and periods counted in them.

China's public holidays move every year and come with make-up working days (调休): a
Saturday or Sunday declared a working day. They are published by the State Council for one
year at a time (each year's notice, 国务院办公厅关于20XX年部分节假日安排的通知, appears in the
autumn before), so a calendar *knows* a set of years and nothing else. Asking about a year
it does not know raises ``CalendarYearUnknown`` naming the year: guessing "weekends only"
for a year whose Spring Festival is not yet published would move a due date, or end a
grace period, on a day the lender is closed.

This module is pure. The official tables come from an adapter
(``forbear_shared.holidays``, which reads the ``chinese-calendar`` package) and reach
the domain as a plain value (``OfficialHolidays``): the domain never depends on a
package whose coverage changes with its version, and a test can hand it any table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

from ..errors import Unprocessable
from .calendar import add_days
from .schedule import Instalment, Schedule


class CalendarYearUnknown(Unprocessable):
    """A date in a year the working calendar has no holiday table for."""

    def __init__(self, year: int, known: tuple[int, int] | None) -> None:
        span = f"it knows {known[0]}-{known[1]}" if known else "it knows no year"
        super().__init__(
            "calendar_year_unknown",
            f"the working calendar does not know {year} ({span}): publish {year}'s holidays "
            f"(update chinese-calendar, or list them in the policy's calendar section) first",
        )
        self.year = year
        self.known = known

    def __reduce__(self) -> tuple[type[CalendarYearUnknown], tuple[int, tuple[int, int] | None]]:
        # raised in a worker process (the policy lab's), it must reach the parent as itself
        return (type(self), (self.year, self.known))


class DueDateRoll(StrEnum):
    """Where a due date on a non-working day moves (the ISDA business day conventions)."""

    FOLLOWING = "following"
    """The next working day: the borrower never pays earlier than agreed (the default)."""
    MODIFIED_FOLLOWING = "modified_following"
    """The next working day unless that is in the next month, then the previous one."""
    PRECEDING = "preceding"
    """The previous working day."""
    NONE = "none"
    """Not moved: the due date stays on the non-working day."""


class DayUnit(StrEnum):
    """How a period of N days is counted."""

    WORKING = "working"
    """N working days after the start (the start itself not counted)."""
    CALENDAR = "calendar"
    """N calendar days after the start."""


@dataclass(frozen=True, slots=True)
class OfficialHolidays:
    """One jurisdiction's published holidays and make-up working days, by year."""

    years: frozenset[int]
    holidays: frozenset[date]
    """Days off by the State Council's arrangement (weekend days inside a holiday included)."""
    make_up_working_days: frozenset[date]
    """Saturdays and Sundays declared working days (调休)."""

    @classmethod
    def none(cls) -> OfficialHolidays:
        """No public holidays: every year is known, only weekends close."""
        return cls(frozenset(), frozenset(), frozenset())


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """The lender's working days: weekdays that are not holidays, plus make-up days.

    ``years is None`` means every year is known (a weekends-only calendar, policy
    ``holidays = "none"``). The lender's own closed days close a day whatever else says;
    its extra working days open one (a Saturday the branches work).
    """

    years: frozenset[int] | None
    weekend: frozenset[int]
    """ISO weekdays that are closed (6 Saturday, 7 Sunday)."""
    holidays: frozenset[date]
    make_up_working_days: frozenset[date]
    closed_days: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()

    @classmethod
    def of(
        cls,
        official: OfficialHolidays | None,
        *,
        weekend: Iterable[int] = (6, 7),
        closed_days: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
        extra_years: Iterable[int] = (),
    ) -> WorkingCalendar:
        """``official`` None: weekends only. ``extra_years``: years the lender publishes
        itself (its ``closed_days``/``extra_working_days`` carry that year's arrangement)."""
        if official is None:
            return cls(None, frozenset(weekend), frozenset(), frozenset(),
                       frozenset(closed_days), frozenset(extra_working_days))
        return cls(official.years | frozenset(extra_years), frozenset(weekend), official.holidays,
                   official.make_up_working_days, frozenset(closed_days), frozenset(extra_working_days))

    def knows(self, year: int) -> bool:
        return self.years is None or year in self.years

    def _check(self, day: date) -> None:
        if not self.knows(day.year):
            known = (min(self.years), max(self.years)) if self.years else None
            raise CalendarYearUnknown(day.year, known)

    def is_working_day(self, day: date) -> bool:
        self._check(day)
        if day in self.closed_days:
            return False
        if day in self.extra_working_days or day in self.make_up_working_days:
            return True
        return day.isoweekday() not in self.weekend and day not in self.holidays

    def next_working_day(self, day: date) -> date:
        """``day`` itself if it is a working day, else the first one after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def previous_working_day(self, day: date) -> date:
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def roll(self, day: date, convention: DueDateRoll) -> date:
        """``day`` moved per ``convention`` when it is not a working day."""
        if convention is DueDateRoll.NONE or self.is_working_day(day):
            return day
        if convention is DueDateRoll.PRECEDING:
            return self.previous_working_day(day)
        following = self.next_working_day(day)
        if convention is DueDateRoll.MODIFIED_FOLLOWING and following.month != day.month:
            return self.previous_working_day(day)
        return following

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself not counted)."""
        if days < 0:
            raise ValueError("working days to add must not be negative")
        return _add_working_days(self, start, days)

    def add(self, start: date, days: int, unit: DayUnit) -> date:
        """``days`` after ``start`` counted in ``unit``."""
        if unit is DayUnit.WORKING:
            return self.add_working_days(start, days)
        return add_days(start, days)


@lru_cache(maxsize=65536)
def _add_working_days(calendar: WorkingCalendar, start: date, days: int) -> date:
    """``WorkingCalendar.add_working_days``, remembered: a calendar is immutable, and the grace
    cutoff of one due date is asked for on every review of an agreement (the policy lab reviews
    each delinquent agreement daily). An unknown year raises, and is not remembered."""
    day = start
    while days:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            days -= 1
    return day


def roll_due_dates(schedule: Schedule, calendar: WorkingCalendar, convention: DueDateRoll) -> Schedule:
    """The schedule with each due date on a non-working day moved per ``convention``.

    Amounts are unchanged (unadjusted accrual): interest runs to the nominal date, so a
    borrower whose due date moves two days later pays exactly what the nominal schedule
    says, as Chinese loan contracts put it (遇节假日顺延, the instalment unchanged).

    A due date in a year the calendar does not know yet (a five-year plan reaches years
    the State Council has not published) is left on its nominal date here; monitoring
    rolls it again when it falls due (``payable_by``), by then with that year's table, so
    the two always agree. Rolling never reorders due dates (each roll is monotonic), but a
    closure longer than a period puts two instalments on one day: a weekly plan due Sunday
    15 and Sunday 22 Feb 2026 owes both on Tue 24 Feb, the first working day after 春节,
    and each is judged on its own (grace and DPD from that day).
    """
    if convention is DueDateRoll.NONE:
        return schedule
    moved = tuple(_rolled(i, calendar, convention) for i in schedule.instalments)
    if all(a.due_date == b.due_date for a, b in zip(moved, schedule.instalments, strict=True)):
        return schedule
    return replace(schedule, instalments=moved)


def _rolled(instalment: Instalment, calendar: WorkingCalendar, convention: DueDateRoll) -> Instalment:
    """``instalment`` with its due date rolled, itself when the date stays (or its year is unknown)."""
    due = instalment.due_date
    if not calendar.knows(due.year):
        return instalment
    rolled = calendar.roll(due, convention)
    return instalment if rolled == due else replace(instalment, due_date=rolled)


def payable_by(due_date: date, calendar: WorkingCalendar, convention: DueDateRoll) -> date:
    """The day an instalment falls due in fact: its due date rolled (a no-op for a date
    ``roll_due_dates`` already moved with the same calendar)."""
    return calendar.roll(due_date, convention)


__all__ = [
    "CalendarYearUnknown", "DayUnit", "DueDateRoll", "OfficialHolidays", "WorkingCalendar",
    "payable_by", "roll_due_dates",
]

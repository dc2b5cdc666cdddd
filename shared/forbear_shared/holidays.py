"""The official holiday tables: the one place that reads the ``chinese-calendar`` package.

Kept outside ``domain/``: the domain gets an ``OfficialHolidays`` value (sets of dates and
the years they cover), so its rules do not change with the package's version and tests can
hand it any table. ``chinese-calendar`` 1.11.0 carries the State Council's arrangements for
2004-2026; a year after that is unknown until the package (or the policy's
``calendar.published_years``) has it.
"""

from __future__ import annotations

from functools import cache

from .domain.policy import HolidaySource
from .domain.working_days import OfficialHolidays


@cache
def official_holidays(source: HolidaySource) -> OfficialHolidays:
    if source is HolidaySource.NONE:
        return OfficialHolidays.none()
    from chinese_calendar import constants  # type: ignore[import-untyped]

    holidays = frozenset(constants.holidays)
    working = frozenset(constants.workdays)
    years = frozenset(d.year for d in holidays | working)
    return OfficialHolidays(years, holidays, working)

import calendar as gregorian
from datetime import date, timedelta
from decimal import Decimal

from forbear_shared.domain.calendar import (
    DayCount,
    add_months,
    days_30_360,
    days_actual,
    monthly_due_dates,
    months_between,
    period_rate,
    year_fraction,
)


def test_add_months_clamps_to_the_end_of_a_short_month():
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)  # leap year
    assert add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)
    assert add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)


def test_monthly_due_dates_stay_on_the_month_end_after_february():
    # anchored on 31 Jan: Feb clamps to 28 but March returns to 31
    assert monthly_due_dates(date(2025, 1, 31), 3) == (date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31))


def test_thirty_360_counts_a_whole_month_as_thirty_days():
    assert days_30_360(date(2025, 1, 31), date(2025, 2, 28)) == 30
    assert days_30_360(date(2025, 1, 15), date(2025, 2, 20)) == 35  # one month + 5 days
    assert days_30_360(date(2025, 1, 1), date(2026, 1, 1)) == 360


def test_actual_365_counts_calendar_days():
    # 1 Feb -> 1 Mar 2025 is 28 days: 0.07 x 28 / 365 = 0.00536986...
    assert days_actual(date(2025, 2, 1), date(2025, 3, 1)) == 28
    assert period_rate(Decimal("0.07"), date(2025, 2, 1), date(2025, 3, 1), DayCount.ACTUAL_365) == (
        Decimal("0.07") * 28 / 365
    )


def test_year_fraction_for_a_month_under_30_360_is_one_twelfth():
    assert year_fraction(date(2025, 1, 1), date(2025, 2, 1), DayCount.THIRTY_360) == Decimal(30) / 360


def test_months_between_is_whole_months():
    assert months_between(date(2025, 1, 31), date(2025, 2, 28)) == 1
    assert months_between(date(2025, 1, 15), date(2026, 1, 14)) == 11
    assert months_between(date(2025, 1, 15), date(2026, 1, 15)) == 12


def test_add_months_is_the_same_day_or_the_months_last_for_every_day_of_four_years():
    day = date(2023, 1, 1)
    while day < date(2027, 1, 1):
        for months in (-13, -1, 1, 2, 12, 25):
            index = day.year * 12 + day.month - 1 + months
            year, month = index // 12, index % 12 + 1
            expected = date(year, month, min(day.day, gregorian.monthrange(year, month)[1]))
            assert add_months(day, months) == expected
        day += timedelta(days=1)

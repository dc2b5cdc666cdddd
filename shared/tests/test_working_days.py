"""The lender's working calendar, checked against the State Council's notice on the 2026
holidays (国务院办公厅关于2026年部分节假日安排的通知, 国办发明电〔2025〕7号):

* 春节: 15 Feb (Sun, 腊月二十八) to 23 Feb (Mon, 正月初七) off, 9 days; Sat 14 Feb and
  Sat 28 Feb are working days.
* 国庆节: 1 Oct (Thu) to 7 Oct (Wed) off, 7 days; Sun 20 Sep and Sat 10 Oct are working days.

The dates below are written out from the notice, not read from the package.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from forbear_shared.domain.arrears import grace_cutoff_of, grace_cutoffs
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import HolidaySource, PolicyError, parse_policy_toml
from forbear_shared.domain.schedule import Frequency, equal_instalment_schedule, flat_rate_schedule
from forbear_shared.domain.working_days import (
    CalendarYearUnknown,
    DayUnit,
    DueDateRoll,
    OfficialHolidays,
    WorkingCalendar,
    roll_due_dates,
)
from forbear_shared.holidays import official_holidays
from forbear_shared.policy_loader import load_policy, read_policy_text
from hypothesis import given
from hypothesis import strategies as st

CN = WorkingCalendar.of(official_holidays(HolidaySource.CN))
SPRING_FESTIVAL_2026 = [date(2026, 2, 15) + timedelta(days=i) for i in range(9)]  # 15..23 Feb
NATIONAL_DAY_2026 = [date(2026, 10, 1) + timedelta(days=i) for i in range(7)]  # 1..7 Oct


def test_spring_festival_2026_is_closed_and_its_make_up_saturdays_are_working_days():
    assert not any(CN.is_working_day(d) for d in SPRING_FESTIVAL_2026)
    assert CN.is_working_day(date(2026, 2, 14))  # Saturday, 调休 working day
    assert CN.is_working_day(date(2026, 2, 28))  # Saturday, 调休 working day
    assert CN.is_working_day(date(2026, 2, 13))  # Friday before the holiday
    assert CN.is_working_day(date(2026, 2, 24))  # Tuesday, first day back
    assert not CN.is_working_day(date(2026, 3, 1))  # an ordinary Sunday


def test_national_day_week_2026_and_its_make_up_days():
    assert not any(CN.is_working_day(d) for d in NATIONAL_DAY_2026)
    assert CN.is_working_day(date(2026, 9, 20))  # Sunday, 调休 working day
    assert CN.is_working_day(date(2026, 10, 10))  # Saturday, 调休 working day
    assert CN.is_working_day(date(2026, 10, 8))  # Thursday, back at work
    assert not CN.is_working_day(date(2026, 10, 11))  # Sunday after: closed


def test_a_due_date_inside_spring_festival_moves_to_the_first_working_day_after_it():
    # due Wed 18 Feb 2026 (正月初二): closed through Mon 23 Feb -> Tue 24 Feb
    assert CN.roll(date(2026, 2, 18), DueDateRoll.FOLLOWING) == date(2026, 2, 24)
    # preceding: back over Sun 15 Feb to the make-up Saturday 14 Feb
    assert CN.roll(date(2026, 2, 18), DueDateRoll.PRECEDING) == date(2026, 2, 14)
    # a due date on Sat 10 Oct (make-up day) stays; on Mon 5 Oct it moves to Thu 8 Oct
    assert CN.roll(date(2026, 10, 10), DueDateRoll.FOLLOWING) == date(2026, 10, 10)
    assert CN.roll(date(2026, 10, 5), DueDateRoll.FOLLOWING) == date(2026, 10, 8)
    assert CN.roll(date(2026, 10, 5), DueDateRoll.NONE) == date(2026, 10, 5)


def test_modified_following_stays_in_the_month():
    # Sat 31 Jan 2026 (an ordinary weekend): following is Mon 2 Feb, next month -> Fri 30 Jan
    assert CN.roll(date(2026, 1, 31), DueDateRoll.FOLLOWING) == date(2026, 2, 2)
    assert CN.roll(date(2026, 1, 31), DueDateRoll.MODIFIED_FOLLOWING) == date(2026, 1, 30)


def test_three_working_days_of_grace_across_spring_festival():
    # due Fri 13 Feb 2026; working days after it: Sat 14 Feb (调休), [15-23 closed], Tue 24 Feb,
    # Wed 25 Feb -> the third is Wed 25 Feb (3 calendar days would have ended on Mon 16 Feb)
    assert CN.add_working_days(date(2026, 2, 13), 3) == date(2026, 2, 25)
    assert CN.add(date(2026, 2, 13), 3, DayUnit.CALENDAR) == date(2026, 2, 16)


def test_an_offer_made_before_spring_festival_expires_ten_working_days_later():
    # decided Tue 10 Feb 2026, 10 working days: 11, 12, 13, 14 (Sat 调休), 24, 25, 26, 27,
    # 28 (Sat 调休), Mon 2 Mar -> 2 Mar; 10 calendar days -> Fri 20 Feb, inside the holiday
    assert CN.add(date(2026, 2, 10), 10, DayUnit.WORKING) == date(2026, 3, 2)
    assert CN.add(date(2026, 2, 10), 10, DayUnit.CALENDAR) == date(2026, 2, 20)


def test_a_remedy_period_over_national_day_in_working_and_calendar_days():
    # breach notice Mon 28 Sep 2026, 14 days. Working: 29, 30 Sep, [1-7 Oct closed], 8, 9,
    # 10 (Sat 调休), 12, 13, 14, 15, 16, 19, 20, 21, 22 Oct -> Thu 22 Oct.  Calendar: 12 Oct.
    assert CN.add(date(2026, 9, 28), 14, DayUnit.WORKING) == date(2026, 10, 22)
    assert CN.add(date(2026, 9, 28), 14, DayUnit.CALENDAR) == date(2026, 10, 12)


def test_a_lender_closed_day_closes_and_an_extra_working_day_opens():
    cal = WorkingCalendar.of(official_holidays(HolidaySource.CN),
                             closed_days=[date(2026, 6, 26)], extra_working_days=[date(2026, 6, 27)])
    assert not cal.is_working_day(date(2026, 6, 26))  # a Friday the lender closes
    assert cal.is_working_day(date(2026, 6, 27))  # a Saturday it works
    # due Fri 26 Jun moves to the Saturday the lender works
    assert cal.roll(date(2026, 6, 26), DueDateRoll.FOLLOWING) == date(2026, 6, 27)


def test_a_year_the_calendar_does_not_know_is_an_error_naming_it():
    with pytest.raises(CalendarYearUnknown, match="2027") as refused:
        CN.is_working_day(date(2027, 2, 8))
    assert refused.value.reason == "calendar_year_unknown"
    assert refused.value.status_code == 422
    with pytest.raises(CalendarYearUnknown, match="2027"):
        CN.add_working_days(date(2026, 12, 30), 3)  # 31 Dec, then into 2027


def test_the_lender_can_publish_a_year_itself():
    # hypothetical arrangement for a test: a lender closes 1 Jan 2027 and lists 2027 as published
    cal = WorkingCalendar.of(official_holidays(HolidaySource.CN), closed_days=[date(2027, 1, 1)],
                             extra_years=[2027])
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.add_working_days(date(2026, 12, 30), 3) == date(2027, 1, 5)  # 31 Dec, 4 Jan, 5 Jan


def test_weekends_only_knows_every_year():
    cal = WorkingCalendar.of(None)
    assert cal.is_working_day(date(2040, 2, 14))  # a Tuesday
    assert not cal.is_working_day(date(2040, 2, 18))  # a Saturday


def test_rolled_schedule_keeps_amounts_and_moves_only_closed_due_dates():
    # 1,000.00 over 3 months from 18 Jan 2026: due 18 Jan (Sun), 18 Feb (春节), 18 Mar (Wed)
    nominal = equal_instalment_schedule(Money(Decimal("1000.00"), "CNY"), Decimal("0.12"), 3, date(2026, 1, 18))
    rolled = roll_due_dates(nominal, CN, DueDateRoll.FOLLOWING)
    assert [i.due_date for i in rolled.instalments] == [date(2026, 1, 19), date(2026, 2, 24), date(2026, 3, 18)]
    assert [i.total for i in rolled.instalments] == [i.total for i in nominal.instalments]
    assert [i.interest for i in rolled.instalments] == [i.interest for i in nominal.instalments]


def test_a_weekly_plan_over_spring_festival_owes_two_instalments_on_its_first_working_day():
    # weekly from Sun 8 Feb 2026: 8 Feb (Sun) -> Mon 9 Feb; 15 and 22 Feb (春节 15-23 Feb)
    # -> Tue 24 Feb, both; 1 Mar (Sun) -> Mon 2 Mar; 8 Mar (Sun) -> Mon 9 Mar
    nominal = flat_rate_schedule(Money(Decimal("700.00"), "CNY"), Decimal("0.10"), 5, date(2026, 2, 8),
                                 start_date=date(2026, 2, 1), frequency=Frequency.WEEKLY)
    rolled = roll_due_dates(nominal, CN, DueDateRoll.FOLLOWING)
    assert [i.due_date for i in rolled.instalments] == [
        date(2026, 2, 9), date(2026, 2, 24), date(2026, 2, 24), date(2026, 3, 2), date(2026, 3, 9)]
    assert [i.total for i in rolled.instalments] == [i.total for i in nominal.instalments]


def test_due_dates_in_an_unpublished_year_keep_their_nominal_date():
    # from Dec 2026 into 2027: the 2027 dates stay nominal (monitoring rolls them later)
    nominal = equal_instalment_schedule(Money(Decimal("300.00"), "CNY"), Decimal("0.12"), 3, date(2026, 12, 19))
    rolled = roll_due_dates(nominal, CN, DueDateRoll.FOLLOWING)
    # 19 Dec 2026 is a Saturday -> Mon 21 Dec; 19 Jan and 19 Feb 2027 unchanged
    assert [i.due_date for i in rolled.instalments] == [date(2026, 12, 21), date(2027, 1, 19), date(2027, 2, 19)]


days_2026 = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 20))


@given(days_2026)
def test_following_rolls_to_a_working_day_never_earlier(day: date):
    rolled = CN.roll(day, DueDateRoll.FOLLOWING)
    assert CN.is_working_day(rolled)
    assert rolled >= day
    assert all(not CN.is_working_day(day + timedelta(days=i)) for i in range((rolled - day).days))


@given(st.dates(min_value=date(2026, 1, 5), max_value=date(2026, 12, 25)))
def test_modified_following_rolls_to_a_working_day_in_the_same_month(day: date):
    rolled = CN.roll(day, DueDateRoll.MODIFIED_FOLLOWING)
    assert CN.is_working_day(rolled)
    assert (rolled.year, rolled.month) == (day.year, day.month)


# -- the policy section ---------------------------------------------------------------------


def _demo_with(calendar_toml: str) -> str:
    text = read_policy_text()
    head = text.split("[calendar]")[0]
    return head + calendar_toml


def test_the_demo_policy_calendar():
    policy = load_policy()
    assert policy.calendar.holidays is HolidaySource.CN
    assert policy.calendar.due_date_roll is DueDateRoll.FOLLOWING
    assert policy.calendar.units.grace is DayUnit.WORKING
    assert policy.working_calendar.is_working_day(date(2026, 2, 28))


@pytest.mark.parametrize(("section", "field"), [
    ('[calendar]\nholidays = "XX"\n', "holidays"),
    ('[calendar]\nholidays = "CN"\ndue_date_roll = "nearest"\n', "due_date_roll"),
    ('[calendar]\nholidays = "CN"\nweekend = [6, 8]\n', "weekend"),
    ('[calendar]\nholidays = "CN"\nclosed_days = ["2026-02-30"]\n', "closed_days"),
    ('[calendar]\nholidays = "CN"\n[calendar.units]\ngrace = "business"\n', "grace"),
    ('[calendar]\nholidays = "CN"\nclosed_days = [2026-06-26]\nextra_working_days = [2026-06-26]\n',
     "extra_working_days"),
])
def test_calendar_policy_errors_name_the_field(section: str, field: str):
    with pytest.raises(PolicyError, match=field):
        parse_policy_toml(_demo_with(section))


def test_a_cn_calendar_without_its_table_is_refused_clearly():
    policy = parse_policy_toml(read_policy_text())  # parsed, not loaded: no official table
    with pytest.raises(PolicyError, match="official holiday table"):
        policy.working_calendar.is_working_day(date(2026, 2, 14))


def test_weekends_only_policy():
    policy = parse_policy_toml(_demo_with('[calendar]\nholidays = "none"\n'))
    assert policy.working_calendar.is_working_day(date(2026, 2, 18))  # 春节 is a working Wednesday
    assert OfficialHolidays.none().years == frozenset()


def test_grace_cutoffs_are_remembered_per_calendar_and_grace_rule():
    # the hand-worked cutoffs of ``arrears``: due Tue 10 Mar 2026, 3 working days of grace -> Fri 13 Mar;
    # due Fri 13 Feb 2026 (春节 15-23 Feb, Sat 14 Feb a make-up working day) -> Wed 25 Feb
    policy = load_policy()
    cutoff_of = grace_cutoffs(policy)
    for _ in range(2):  # asked again, remembered
        assert cutoff_of(date(2026, 3, 10)) == grace_cutoff_of(date(2026, 3, 10), policy) == date(2026, 3, 13)
        assert cutoff_of(date(2026, 2, 13)) == date(2026, 2, 25)
    longer = policy.model_copy(update={"delinquency": policy.delinquency.model_copy(update={"grace_days": 5})})
    assert grace_cutoff_of(date(2026, 3, 10), longer) == date(2026, 3, 17)  # Mon 16, Tue 17 Mar
    weekends_only = parse_policy_toml(_demo_with('[calendar]\nholidays = "none"\n'))
    assert grace_cutoff_of(date(2026, 2, 13), weekends_only) == date(2026, 2, 18)  # Mon 16, Tue 17, Wed 18 Feb


def test_a_grace_cutoff_in_a_year_the_calendar_does_not_know_is_refused_every_time():
    policy = load_policy()
    for _ in range(2):  # an error is not remembered as an answer
        with pytest.raises(CalendarYearUnknown, match="2027"):
            grace_cutoff_of(date(2027, 2, 8), policy)

"""Arrears parts on top of a regular schedule (分期偿还), as the one schedule a borrower signs."""

from datetime import date
from decimal import Decimal

import pytest
from forbear_shared.domain.money import Money
from forbear_shared.domain.schedule import RepaymentMethod, ScheduleError, build_schedule


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def test_parts_ride_on_the_first_instalments_and_the_balances_carry_what_is_left_of_them():
    # regular: 3,000.00 interest-free in 3 monthly instalments of 1,000.00; arrears 600.00 in 2
    # parts of 300.00 on the first two due dates. By hand: 3,600.00 owed before the first, then
    # 1,300.00 paid (2,300.00 left), 1,300.00 (1,000.00 left), 1,000.00 (nothing left)
    regular = build_schedule(cny("3000.00"), Decimal(0), repayments=3, first_due_date=date(2026, 2, 5),
                             method=RepaymentMethod.EQUAL_PRINCIPAL, start_date=date(2026, 1, 5))
    parts = build_schedule(cny("600.00"), Decimal(0), repayments=2, first_due_date=date(2026, 2, 5),
                           method=RepaymentMethod.EQUAL_PRINCIPAL, start_date=date(2026, 1, 5))
    both = regular.with_parts(parts)
    assert [(i.opening_balance, i.total, i.closing_balance) for i in both.instalments] == [
        (cny("3600.00"), cny("1300.00"), cny("2300.00")),
        (cny("2300.00"), cny("1300.00"), cny("1000.00")),
        (cny("1000.00"), cny("1000.00"), cny("0.00")),
    ]
    assert both.principal == cny("3600.00") and both.total_payable == cny("3600.00")
    assert [i.due_date for i in both.instalments] == [i.due_date for i in regular.instalments]


def test_parts_due_on_other_days_than_the_instalments_are_refused():
    regular = build_schedule(cny("3000.00"), Decimal(0), repayments=3, first_due_date=date(2026, 2, 5),
                             start_date=date(2026, 1, 5))
    parts = build_schedule(cny("600.00"), Decimal(0), repayments=2, first_due_date=date(2026, 2, 20),
                           start_date=date(2026, 1, 5))
    with pytest.raises(ScheduleError, match="fall due with the instalments"):
        regular.with_parts(parts)
    longer = build_schedule(cny("600.00"), Decimal(0), repayments=4, first_due_date=date(2026, 2, 5),
                            start_date=date(2026, 1, 5))
    with pytest.raises(ScheduleError, match="do not fit"):
        regular.with_parts(longer)

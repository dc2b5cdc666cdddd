from datetime import date
from decimal import Decimal

import pytest
from forbear_shared.domain.calendar import DayCount
from forbear_shared.domain.money import Money
from forbear_shared.domain.schedule import (
    DeferredInterest,
    InstalmentKind,
    RepaymentMethod,
    Schedule,
    ScheduleError,
    annuity_payment,
    build_schedule,
    equal_instalment_schedule,
    equal_principal_schedule,
)

M = Money.of


def test_reference_annuity_100_at_7_percent_over_6_months_is_17_01_five_times_then_17_00():
    # Monthly rate r = 0.07/12 = 0.0058333...
    # Instalment = 100 r / (1 - (1+r)^-6) = 17.00990... -> 17.01
    # Interest per month, half-up on the balance x r:
    #   100.00 -> 0.58, 83.57 -> 0.49, 67.05 -> 0.39, 50.43 -> 0.29, 33.71 -> 0.20, 16.90 -> 0.10
    # The last instalment pays the remaining 16.90 + 0.10 = 17.00.
    schedule = equal_instalment_schedule(M("100.00"), Decimal("0.07"), 6, date(2025, 2, 1))
    assert [i.total for i in schedule.instalments] == [M("17.01")] * 5 + [M("17.00")]
    assert [i.interest for i in schedule.instalments] == [M(x) for x in ("0.58", "0.49", "0.39", "0.29", "0.20", "0.10")]
    assert [i.closing_balance for i in schedule.instalments] == [
        M(x) for x in ("83.57", "67.05", "50.43", "33.71", "16.90", "0.00")
    ]
    assert schedule.total_principal == M("100.00")
    assert schedule.total_interest == M("2.05")  # 102.05 paid in total
    assert annuity_payment(M("100.00"), Decimal("0.07"), 6) == M("17.01")


def test_equal_principal_repays_the_same_principal_each_month_with_residue_last():
    # 1000.00 / 3 = 333.33, 333.33, 333.34; 12 %/year -> 1 %/month on the balance:
    #   1000.00 x 1% = 10.00; 666.67 x 1% = 6.67 (6.6667); 333.34 x 1% = 3.33 (3.3334)
    schedule = equal_principal_schedule(M("1000.00"), Decimal("0.12"), 3, date(2025, 2, 1))
    assert [i.principal for i in schedule.instalments] == [M("333.33"), M("333.33"), M("333.34")]
    assert [i.interest for i in schedule.instalments] == [M("10.00"), M("6.67"), M("3.33")]
    assert [i.total for i in schedule.instalments] == [M("343.33"), M("340.00"), M("336.67")]
    assert schedule.method is RepaymentMethod.EQUAL_PRINCIPAL


def test_interest_only_periods_pay_interest_and_keep_the_balance():
    # 1200.00 at 12 %: 12.00 interest a month; 2 interest-only months, then 2 equal-principal 600.00
    schedule = build_schedule(
        M("1200.00"), Decimal("0.12"), repayments=2, first_due_date=date(2025, 2, 1),
        interest_only_periods=2, method=RepaymentMethod.EQUAL_PRINCIPAL,
    )
    kinds = [i.kind for i in schedule.instalments]
    assert kinds == [InstalmentKind.INTEREST_ONLY] * 2 + [InstalmentKind.AMORTISING] * 2
    assert [i.total for i in schedule.instalments] == [M("12.00"), M("12.00"), M("612.00"), M("606.00")]
    assert schedule.term == 4


def test_capitalised_deferral_adds_accrued_interest_to_the_balance():
    # 1000.00 at 12 %: month 1 accrues 10.00 -> 1010.00; month 2 accrues 10.10 -> 1020.10.
    # Then one repayment of 1020.10 + 10.20 interest (1020.10 x 1% = 10.201) + 50.00 deferral fee.
    schedule = build_schedule(
        M("1000.00"), Decimal("0.12"), repayments=1, first_due_date=date(2025, 2, 1),
        deferral_periods=2, deferral_fee=M("50.00"),
    )
    d1, d2, last = schedule.instalments
    assert (d1.kind, d1.total, d1.capitalised_interest, d1.closing_balance) == (
        InstalmentKind.DEFERRAL, M("0"), M("10.00"), M("1010.00"))
    assert (d2.capitalised_interest, d2.closing_balance) == (M("10.10"), M("1020.10"))
    assert (last.principal, last.interest, last.fee, last.total) == (M("1020.10"), M("10.20"), M("50.00"), M("1080.30"))
    # principal parts = principal + capitalised interest, exactly
    assert schedule.total_principal == schedule.principal + schedule.total_capitalised_interest


def test_deferred_interest_paid_later_is_collected_with_the_first_instalment_after_deferral():
    # 1000.00 at 12 %: 10.00 + 10.00 deferred (balance unchanged), then 2 x 500.00 principal;
    # first repayment interest = 10.00 (its own month) + 20.00 deferred = 30.00
    schedule = build_schedule(
        M("1000.00"), Decimal("0.12"), repayments=2, first_due_date=date(2025, 2, 1),
        deferral_periods=2, deferred_interest=DeferredInterest.PAY_LATER, method=RepaymentMethod.EQUAL_PRINCIPAL,
    )
    assert [i.interest for i in schedule.instalments] == [M("0"), M("0"), M("30.00"), M("5.00")]
    assert schedule.total_principal == M("1000.00")


def test_interest_bearing_balloon_is_repaid_with_the_last_instalment():
    # 1000.00 at 0 %, 4 repayments, 600.00 balloon: 100.00 x 3 then 100.00 + 600.00
    schedule = build_schedule(M("1000.00"), Decimal("0"), repayments=4, first_due_date=date(2025, 2, 1),
                              balloon=M("600.00"))
    assert [i.principal for i in schedule.instalments] == [M("100.00")] * 3 + [M("700.00")]
    assert schedule.instalments[-1].kind is InstalmentKind.BALLOON


def test_non_interest_balloon_bears_no_interest_until_repaid():
    # 1200.00 at 12 %, 300.00 set aside interest-free: interest only on 900.00 -> 9.00 in month 1
    schedule = build_schedule(M("1200.00"), Decimal("0.12"), repayments=3, first_due_date=date(2025, 2, 1),
                              balloon=M("300.00"), balloon_bears_interest=False,
                              method=RepaymentMethod.EQUAL_PRINCIPAL)
    assert [i.principal for i in schedule.instalments] == [M("300.00"), M("300.00"), M("600.00")]
    assert [i.interest for i in schedule.instalments] == [M("9.00"), M("6.00"), M("3.00")]
    assert schedule.instalments[0].opening_balance == M("1200.00")


def test_actual_365_interest_follows_the_days_in_each_month():
    # 1000.00 at 7.3 %, start 1 Jan: Jan has 31 days -> 1000 x 0.073 x 31/365 = 6.20;
    # the instalment is the 30/360 annuity 336.70 and the last one absorbs the day-count residue.
    schedule = equal_instalment_schedule(M("1000.00"), Decimal("0.073"), 3, date(2025, 2, 1),
                                         day_count=DayCount.ACTUAL_365)
    assert schedule.instalments[0].interest == M("6.20")
    assert schedule.total_principal == M("1000.00")


def test_schedule_round_trips_through_a_plain_dict_with_decimal_strings():
    schedule = equal_instalment_schedule(M("100.00"), Decimal("0.07"), 6, date(2025, 2, 1))
    data = schedule.to_dict()
    assert data["principal"] == "100.00"
    assert data["instalments"][0]["total"] == "17.01"
    assert data["instalments"][0]["due_date"] == "2025-02-01"
    assert Schedule.from_dict(data) == schedule


def test_a_tampered_schedule_dict_is_refused():
    data = equal_instalment_schedule(M("100.00"), Decimal("0.07"), 6, date(2025, 2, 1)).to_dict()
    data["instalments"][0]["principal"] = "16.44"
    with pytest.raises(ScheduleError):
        Schedule.from_dict(data)


def test_impossible_terms_are_refused_with_a_reason():
    with pytest.raises(ScheduleError, match="principal"):
        equal_instalment_schedule(M("0"), Decimal("0.07"), 6, date(2025, 2, 1))
    with pytest.raises(ScheduleError, match="balloon"):
        build_schedule(M("100"), Decimal("0.07"), repayments=2, first_due_date=date(2025, 2, 1), balloon=M("100"))
    with pytest.raises(ScheduleError, match="deferral fee"):
        build_schedule(M("100"), Decimal("0.07"), repayments=2, first_due_date=date(2025, 2, 1), deferral_fee=M("5"))

"""Flat-rate (等本等息) schedules, weekly / fortnightly / 15-day frequencies, and the APR.

The APR references are computed independently of our Decimal IRR, with
``numpy_financial.irr`` (a test-only dependency): the two must agree to 0.01 % a year.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy_financial as npf
import pytest
from forbear_shared.domain.apr import AprError, CashFlow, periodic_irr, schedule_apr
from forbear_shared.domain.calendar import DayCount
from forbear_shared.domain.money import Money
from forbear_shared.domain.schedule import (
    Frequency,
    RepaymentMethod,
    Schedule,
    ScheduleError,
    build_schedule,
    equal_instalment_schedule,
    flat_rate_schedule,
)
from hypothesis import given, settings
from hypothesis import strategies as st

BASIS_POINT = Decimal("0.0001")  # 0.01 % a year: the agreement the issue asks of the reference


def reference_apr(schedule: Schedule) -> Decimal:
    """numpy-financial's IRR of the same cash flows (regular periods), annualised the same way."""
    flows = [-float(schedule.principal.amount)] + [float(i.total.amount) for i in schedule.instalments]
    return Decimal(str(npf.irr(flows))) * schedule.frequency.periods_per_year


# -- flat rate ------------------------------------------------------------------------------


def test_flat_rate_charges_interest_on_the_original_principal_and_costs_about_10_90_percent() -> None:
    # 10,000.00 at a flat 0.5 % a month (6 %/year, 30/360) over 12 months:
    #   interest every month = 10,000.00 x 0.005 = 50.00 (on the ORIGINAL principal, not the balance)
    #   principal = 10,000.00 / 12 = 833.333.. -> 833.33 x 11, the last takes 10,000.00 - 9,166.63 = 833.37
    #   instalments 883.33 x 11 and 883.37; total interest 600.00
    #   APR: monthly IRR of (-10,000; 883.33 x 11; 883.37) = 0.908 %, x 12 = 10.90 % (numpy_financial)
    schedule = flat_rate_schedule(Money.of("10000.00"), Decimal("0.06"), 12, date(2026, 2, 1))
    assert schedule.method is RepaymentMethod.FLAT_RATE
    assert [i.interest for i in schedule.instalments] == [Money.of("50.00")] * 12
    assert [i.principal for i in schedule.instalments] == [Money.of("833.33")] * 11 + [Money.of("833.37")]
    assert [i.total for i in schedule.instalments] == [Money.of("883.33")] * 11 + [Money.of("883.37")]
    assert schedule.total_interest == Money.of("600.00")
    assert schedule.instalments[-1].closing_balance.is_zero()

    apr = schedule_apr(schedule)
    assert apr.apr == Decimal("0.108963")
    assert abs(apr.apr - reference_apr(schedule)) < BASIS_POINT
    assert abs(apr.apr - Decimal("0.1090")) < Decimal("0.0001")
    # effective annual rate: (1 + 0.0090803)^12 - 1 = 11.46 %
    assert abs(apr.effective_annual_rate - Decimal("0.1146")) < Decimal("0.0001")


def test_the_apr_of_an_annuity_is_its_nominal_rate_but_for_the_cents_of_rounding() -> None:
    # the public reference: 100.00 at 7 % over 6 months = 17.01 x 5 + 17.00; paying 17.01
    # instead of 17.0058 ... and 17.00 at the end nets to a hair under 7 %
    schedule = equal_instalment_schedule(Money.of("100.00"), Decimal("0.07"), 6, date(2026, 2, 5))
    apr = schedule_apr(schedule).apr
    assert abs(apr - Decimal("0.07")) < Decimal("0.0001")
    assert abs(apr - reference_apr(schedule)) < BASIS_POINT


def test_a_fee_raises_the_apr_above_the_nominal_rate() -> None:
    # 100.00 at 7 % over 6 months with a 50.00 deferral fee is not a 7 % loan
    schedule = build_schedule(Money.of("1000.00"), Decimal("0.07"), repayments=6, first_due_date=date(2026, 3, 5),
                              deferral_periods=1, deferral_fee=Money.of("50.00"))
    assert schedule_apr(schedule).apr > Decimal("0.07")
    assert abs(schedule_apr(schedule).apr - reference_apr(schedule)) < BASIS_POINT


# -- frequencies ----------------------------------------------------------------------------


def test_weekly_period_rate_is_seven_days_of_the_day_count_year() -> None:
    # 10,000.00 at 7.3 %/year ACT/365, weekly: a week's rate = 0.073 x 7 / 365 = 0.0014 exactly
    #   first interest = 10,000.00 x 0.0014 = 14.00
    #   instalment (annuity) = 10,000 x 0.0014 / (1 - 1.0014^-10) = 1,007.7162 -> 1,007.72 (numpy_financial.pmt below)
    #   due dates every 7 days from 1 Feb 2026: 1, 8, 15 Feb ...; APR = 0.0014 x 52 = 7.28 %
    schedule = build_schedule(Money.of("10000.00"), Decimal("0.073"), repayments=10, first_due_date=date(2026, 2, 1),
                              frequency=Frequency.WEEKLY, day_count=DayCount.ACTUAL_365)
    assert schedule.start_date == date(2026, 1, 25)
    assert [i.due_date for i in schedule.instalments[:3]] == [date(2026, 2, 1), date(2026, 2, 8), date(2026, 2, 15)]
    assert schedule.instalments[0].interest == Money.of("14.00")
    pmt = Decimal(str(-npf.pmt(0.0014, 10, 10000))).quantize(Decimal("0.01"))
    assert pmt == Decimal("1007.72") == schedule.instalments[0].total.amount
    apr = schedule_apr(schedule).apr
    assert abs(apr - Decimal("0.0728")) < Decimal("0.00001")
    assert abs(apr - reference_apr(schedule)) < BASIS_POINT


def test_fortnightly_under_30_360_is_fourteen_360ths_of_the_annual_rate() -> None:
    # 7.2 %/year 30/360, fortnightly: 0.072 x 14 / 360 = 0.0028; 5,000.00 x 0.0028 = 14.00
    schedule = build_schedule(Money.of("5000.00"), Decimal("0.072"), repayments=6, first_due_date=date(2026, 1, 28),
                              frequency=Frequency.FORTNIGHTLY, method=RepaymentMethod.EQUAL_PRINCIPAL)
    assert schedule.instalments[0].interest == Money.of("14.00")
    # the second period crosses a month's end (28 Jan -> 11 Feb) and is still 14 days, not 30E/360's 13
    assert schedule.instalments[1].due_date == date(2026, 2, 11)
    assert schedule.instalments[1].interest == Money.of("11.67")  # 4,166.67 x 0.0028 = 11.6667
    assert Frequency.FORTNIGHTLY.periods_per_year == 26


def test_every_15_days_flat_rate() -> None:
    # 3,000.00 flat at 12 %/year ACT/365 every 15 days, 6 instalments:
    #   interest each period = 3,000.00 x 0.12 x 15 / 365 = 14.7945 -> 14.79
    #   principal 500.00 x 6; due 16 Jan, 31 Jan, 15 Feb ... from 1 Jan
    #   APR = 15-day IRR x 365 / 15
    schedule = flat_rate_schedule(Money.of("3000.00"), Decimal("0.12"), 6, date(2026, 1, 16),
                                  frequency=Frequency.EVERY_15_DAYS, day_count=DayCount.ACTUAL_365)
    assert schedule.start_date == date(2026, 1, 1)
    assert [i.due_date for i in schedule.instalments[:3]] == [date(2026, 1, 16), date(2026, 1, 31), date(2026, 2, 15)]
    assert {i.interest for i in schedule.instalments} == {Money.of("14.79")}
    assert {i.principal for i in schedule.instalments} == {Money.of("500.00")}
    apr = schedule_apr(schedule)
    assert apr.periods_per_year == Decimal(365) / Decimal(15)
    assert abs(apr.apr - reference_apr(schedule)) < BASIS_POINT
    assert apr.apr > Decimal("0.20")  # a 12 % flat rate costs about 20.4 % a year


def test_a_non_monthly_schedule_round_trips_and_a_monthly_one_keeps_its_old_shape() -> None:
    weekly = flat_rate_schedule(Money.of("700.00"), Decimal("0.1"), 4, date(2026, 2, 1), frequency=Frequency.WEEKLY)
    assert weekly.to_dict()["frequency"] == "weekly"
    assert Schedule.from_dict(weekly.to_dict()) == weekly
    monthly = equal_instalment_schedule(Money.of("100.00"), Decimal("0.07"), 6, date(2026, 2, 5))
    assert "frequency" not in monthly.to_dict()  # documents signed before frequencies keep their bytes
    assert Schedule.from_dict(monthly.to_dict()).frequency is Frequency.MONTHLY


def test_a_broken_first_period_counts_as_its_share_of_a_period() -> None:
    # 1,000.00 repaid with 1,010.00 after 15 days of a 31-day month: 1 % for 15/31 of a month
    schedule = build_schedule(Money.of("1000.00"), Decimal("0"), repayments=1, first_due_date=date(2026, 1, 31),
                              start_date=date(2026, 1, 16))
    flows = [CashFlow(Decimal(15) / Decimal(31), Decimal("1010.00"))]
    rate = periodic_irr(Decimal("1000.00"), flows)
    # (1 + r)^(15/31) = 1.01  ->  r = 1.01^(31/15) - 1 = 2.0775 %
    assert abs(rate - (Decimal("1.01") ** (Decimal(31) / Decimal(15)) - 1)) < Decimal("1e-15")
    assert schedule_apr(schedule).apr == Decimal("0")


def test_nothing_repaid_has_no_apr() -> None:
    with pytest.raises(AprError):
        periodic_irr(Decimal("100"), [CashFlow(Decimal(1), Decimal(0))])


# -- properties -----------------------------------------------------------------------------

terms = st.fixed_dictionaries({
    "principal": st.integers(min_value=10_000, max_value=50_000_000).map(lambda c: Money(Decimal(c) / 100)),
    "rate": st.integers(min_value=0, max_value=3600).map(lambda bp: Decimal(bp) / 10_000),
    "repayments": st.integers(min_value=1, max_value=60),
    "frequency": st.sampled_from(list(Frequency)),
    "method": st.sampled_from(list(RepaymentMethod)),
    "day_count": st.sampled_from(list(DayCount)),
    "first_due": st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31)),
    "short_first": st.integers(min_value=0, max_value=6),
})


def schedule_of(t: dict) -> Schedule:  # type: ignore[type-arg]
    frequency: Frequency = t["frequency"]
    start = frequency.step_back(t["first_due"]) + timedelta(days=t["short_first"])
    return build_schedule(t["principal"], t["rate"], repayments=t["repayments"], first_due_date=t["first_due"],
                          start_date=start, method=t["method"], frequency=frequency, day_count=t["day_count"])


@settings(max_examples=150, deadline=None)
@given(terms)
def test_principal_parts_sum_to_the_principal_and_the_final_balance_is_zero(t: dict) -> None:  # type: ignore[type-arg]
    schedule = schedule_of(t)
    assert schedule.total_principal == schedule.principal
    assert schedule.instalments[-1].closing_balance.is_zero()
    assert all(not i.principal.is_negative() for i in schedule.instalments)
    if schedule.method is RepaymentMethod.FLAT_RATE and t["short_first"] == 0:
        if t["frequency"] is not Frequency.MONTHLY or t["day_count"] is DayCount.THIRTY_360:
            # flat: the same interest every regular period, on the original principal
            assert len({i.interest for i in schedule.instalments}) == 1
        else:
            # a month under ACT/365 or ACT/360 is its actual days: interest on the original
            # principal x rate x days / 365 (or 360), each rounded half-up to the cent
            basis = Decimal(365) if t["day_count"] is DayCount.ACTUAL_365 else Decimal(360)
            starts = [schedule.start_date] + [i.due_date for i in schedule.instalments[:-1]]
            expected = [(t["principal"].amount * t["rate"] * (i.due_date - s).days / basis)
                        .quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) for s, i in zip(starts, schedule.instalments, strict=True)]
            assert [i.interest.amount for i in schedule.instalments] == expected


@settings(max_examples=150, deadline=None)
@given(terms)
def test_discounting_the_schedule_at_its_irr_gives_the_principal_back_within_a_cent(t: dict) -> None:  # type: ignore[type-arg]
    schedule = schedule_of(t)
    disclosed = schedule_apr(schedule)
    share = Decimal(1)
    if t["short_first"]:
        regular = schedule.frequency.step_back(schedule.first_due_date)
        share = Decimal((schedule.first_due_date - schedule.start_date).days) / Decimal(
            (schedule.first_due_date - regular).days)
    base = 1 + disclosed.periodic_rate
    value = sum((i.total.amount * base ** -(Decimal(n) + share) for n, i in enumerate(schedule.instalments)),
                Decimal(0))
    assert abs(value - schedule.principal.amount) < Decimal("0.01")
    # the APR disclosed is the periodic rate x periods per year, to six places
    assert abs(disclosed.apr - disclosed.periodic_rate * schedule.frequency.periods_per_year) <= Decimal("0.0000005")


@settings(max_examples=60, deadline=None)
@given(terms.filter(lambda t: t["short_first"] == 0))
def test_the_apr_agrees_with_numpy_financial_to_a_hundredth_of_a_percent(t: dict) -> None:  # type: ignore[type-arg]
    schedule = schedule_of(t)
    assert abs(schedule_apr(schedule).apr - reference_apr(schedule)) < BASIS_POINT


# -- monitoring a re-aged weekly plan; the policy's product sections -----------------------


def test_a_reaged_weekly_plan_is_current_when_it_starts_and_counts_dpd_from_its_own_due_dates() -> None:
    # monitoring derives DPD from the activated schedule: a re-aged plan starting 10 March has
    # nothing overdue that day (DPD 0, whatever the old loan's DPD); its first weekly instalment
    # falls due 17 March; unpaid on 30 March that is 13 days late - 3 days' grace = DPD 10
    from forbear_shared.domain.arrears import LoanLedger, days_past_due
    from forbear_shared.policy_loader import load_policy

    policy = load_policy()
    plan = flat_rate_schedule(Money.of("7050.00"), Decimal("0.12"), 20, date(2026, 3, 17),
                              start_date=date(2026, 3, 10), frequency=Frequency.WEEKLY)
    ledger = LoanLedger.open(plan, policy)
    assert days_past_due(ledger, as_of=date(2026, 3, 10), policy=policy) == 0
    assert days_past_due(ledger, as_of=date(2026, 3, 30), policy=policy) == 10


def test_the_demo_policy_allows_every_frequency_and_limits_reageing_the_ffiec_way() -> None:
    from forbear_shared.domain.policy import PolicyError, parse_policy
    from forbear_shared.policy_loader import load_policy

    policy = load_policy()
    assert set(policy.schedules.frequencies) == set(Frequency)
    assert RepaymentMethod.FLAT_RATE in policy.schedules.methods
    assert (policy.reageing.max_per_12_months, policy.reageing.max_per_5_years,
            policy.reageing.min_consecutive_payments) == (1, 2, 3)
    assert policy.reamortisation.allowed and policy.reamortisation.max_remaining_instalments == 24
    data = policy.model_dump(mode="json")
    data["reageing"] = {"allowed": True, "max_per_12_months": 3, "max_per_5_years": 2}
    with pytest.raises(PolicyError, match="max_per_12_months"):
        parse_policy(data)
    data = policy.model_dump(mode="json")
    data["schedules"] = {"frequencies": ["daily"]}
    with pytest.raises(PolicyError, match="frequencies"):
        parse_policy(data)
    # a policy written before these sections: monthly annuities only, neither tool allowed
    data = policy.model_dump(mode="json")
    for section in ("schedules", "reamortisation", "reageing"):
        del data[section]
    older = parse_policy(data)
    assert older.schedules.frequencies == (Frequency.MONTHLY,)
    assert not older.reamortisation.allowed and not older.reageing.allowed
    assert older.schedules.frequency_for(Frequency.WEEKLY) is Frequency.MONTHLY


def test_months_are_converted_to_whole_periods_never_longer_than_the_months() -> None:
    # floor(months x periods a year / 12): 12 months = 52 weeks, 26 fortnights, 24 periods of
    # 15 days (12 x 24.33 / 12 = 24.33 -> 24); 1 month = 4 weeks (4.33), 2 fortnights (2.17),
    # 2 periods of 15 days (2.03); 60 months = 260 weeks, 130 fortnights, 121 periods (121.67)
    assert [Frequency.WEEKLY.periods_in_months(m) for m in (1, 12, 60)] == [4, 52, 260]
    assert [Frequency.FORTNIGHTLY.periods_in_months(m) for m in (1, 12, 60)] == [2, 26, 130]
    assert [Frequency.EVERY_15_DAYS.periods_in_months(m) for m in (1, 12, 60)] == [2, 24, 121]
    assert [Frequency.MONTHLY.periods_in_months(m) for m in (1, 12, 60)] == [1, 12, 60]
    assert Frequency.WEEKLY.periods_in_months(0) == 0
    with pytest.raises(ScheduleError):
        Frequency.WEEKLY.periods_in_months(-1)

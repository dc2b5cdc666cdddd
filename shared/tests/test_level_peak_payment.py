"""``level_peak_payment`` is the highest instalment of the schedule ``build_schedule`` builds
(the interest-free balloon left out), to the cent: checked against the built schedule."""

from datetime import date
from decimal import Decimal

import pytest
from forbear_shared.domain.calendar import add_days, add_months
from forbear_shared.domain.money import Money
from forbear_shared.domain.schedule import (
    Frequency,
    InstalmentKind,
    ScheduleError,
    build_schedule,
    level_peak_payment,
)
from hypothesis import given, settings
from hypothesis import strategies as st


def built_peak(principal: Money, rate: Decimal, repayments: int, first_due: date, start: date | None,
               balloon: Money | None, frequency: Frequency) -> Money:
    """The peak read from the full schedule, as ``RestructuringPlan.peak_regular_payment`` reads it."""
    schedule = build_schedule(principal, rate, repayments=repayments, first_due_date=first_due, start_date=start,
                              balloon=balloon, balloon_bears_interest=False, frequency=frequency)
    payments = [i.total for i in schedule.instalments]
    if schedule.instalments[-1].kind is InstalmentKind.BALLOON:
        assert balloon is not None
        payments[-1] = payments[-1] - balloon
    return max(payments)


@st.composite
def plans(draw: st.DrawFn) -> tuple[Money, Decimal, int, date, date | None, Money | None, Frequency]:
    principal = Money(Decimal(draw(st.integers(min_value=1, max_value=500_000_000))) / 100)
    rate = Decimal(draw(st.sampled_from([0, 1, 250, 700, 1200, 2400, 3600]))) / 10000
    repayments = draw(st.integers(min_value=1, max_value=120))
    frequency = draw(st.sampled_from(list(Frequency)))
    first_due = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)))
    start = draw(st.sampled_from([None, "month", "short"]))
    start_date = (None if start is None else add_months(first_due, -1) if start == "month"
                  else add_days(first_due, -draw(st.integers(min_value=1, max_value=40))))
    share = draw(st.sampled_from([None, 0, 1, 10, 30, 50, 99]))
    balloon = None if share is None else principal.times(Decimal(share) / 100)
    if balloon is not None and balloon >= principal:
        balloon = None
    return principal, rate, repayments, first_due, start_date, balloon, frequency


@settings(max_examples=400, deadline=None)
@given(plans())
def test_the_peak_is_the_built_schedules_peak_to_the_cent(plan) -> None:
    principal, rate, repayments, first_due, start, balloon, frequency = plan
    expected = built_peak(principal, rate, repayments, first_due, start, balloon, frequency)
    assert level_peak_payment(principal, rate, repayments=repayments, first_due_date=first_due, start_date=start,
                              interest_free_balloon=balloon, frequency=frequency) == expected


@pytest.mark.parametrize(("principal", "rate", "repayments", "balloon"), [
    ("100.00", "0.07", 6, None),  # the public reference: 17.01 x 5, 17.00
    ("10000.00", "0.12", 36, None),
    ("10000.00", "0.12", 36, "3000.00"),  # an interest-free balloon: the last pays the residue only
    ("10000.00", "0", 7, None),  # equal parts, the residue on the last
    ("0.05", "0.24", 12, None),  # the annuity does not cover the interest at first
    ("5000.00", "0.18", 1, "100.00"),
])
def test_the_peak_of_monthly_plans_is_the_built_schedules(principal: str, rate: str, repayments: int,
                                                           balloon: str | None) -> None:
    first_due = date(2026, 4, 10)
    deferred = Money.of(balloon) if balloon is not None else None
    expected = built_peak(Money.of(principal), Decimal(rate), repayments, first_due, None, deferred, Frequency.MONTHLY)
    assert level_peak_payment(Money.of(principal), Decimal(rate), repayments=repayments, first_due_date=first_due,
                              interest_free_balloon=deferred) == expected


def test_the_reference_annuity_peaks_at_its_level_payment() -> None:
    assert level_peak_payment(Money.of("100.00"), Decimal("0.07"), repayments=6,
                              first_due_date=date(2026, 4, 10)) == Money.of("17.01")


@pytest.mark.parametrize(("principal", "repayments", "balloon"), [
    ("0.00", 12, None), ("100.00", 0, None), ("100.00", 12, "100.00"), ("100.00", 12, "-1.00"),
])
def test_terms_no_schedule_can_be_built_from_are_refused_alike(principal: str, repayments: int,
                                                               balloon: str | None) -> None:
    deferred = Money.of(balloon) if balloon is not None else None
    with pytest.raises(ScheduleError):
        build_schedule(Money.of(principal), Decimal("0.1"), repayments=repayments, first_due_date=date(2026, 4, 10),
                       balloon=deferred, balloon_bears_interest=False)
    with pytest.raises(ScheduleError):
        level_peak_payment(Money.of(principal), Decimal("0.1"), repayments=repayments,
                           first_due_date=date(2026, 4, 10), interest_free_balloon=deferred)

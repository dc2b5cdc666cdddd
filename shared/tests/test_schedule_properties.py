"""Invariants of every schedule the builders can produce, for any valid loan."""

from datetime import date
from decimal import Decimal

from forbear_shared.domain.calendar import DayCount
from forbear_shared.domain.money import Money
from forbear_shared.domain.schedule import (
    DeferredInterest,
    InstalmentKind,
    RepaymentMethod,
    Schedule,
    annuity_payment,
    build_schedule,
)
from hypothesis import assume, given, settings
from hypothesis import strategies as st

principals = st.integers(min_value=100, max_value=1_000_000_000).map(lambda cents: Money(Decimal(cents) / 100))
rates = st.integers(min_value=0, max_value=3600).map(lambda bp: Decimal(bp) / 10000)  # 0 % .. 36 %
first_dues = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def loans(draw):
    principal = draw(principals)
    balloon_share = draw(st.sampled_from([None, Decimal("0.1"), Decimal("0.3"), Decimal("0.5")]))
    return dict(
        principal=principal,
        annual_rate=draw(rates),
        repayments=draw(st.integers(min_value=1, max_value=60)),
        first_due_date=draw(first_dues),
        method=draw(st.sampled_from(list(RepaymentMethod))),
        day_count=draw(st.sampled_from(list(DayCount))),
        deferral_periods=draw(st.integers(min_value=0, max_value=6)),
        deferred_interest=draw(st.sampled_from(list(DeferredInterest))),
        interest_only_periods=draw(st.integers(min_value=0, max_value=6)),
        balloon=principal.times(balloon_share) if balloon_share is not None else None,
        balloon_bears_interest=draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(loans())
def test_principal_parts_always_sum_to_principal_plus_capitalised_interest(terms):
    schedule = build_schedule(**terms)
    assert schedule.total_principal == schedule.principal + schedule.total_capitalised_interest
    if terms["deferred_interest"] is DeferredInterest.PAY_LATER or terms["deferral_periods"] == 0:
        assert schedule.total_principal == terms["principal"]


@settings(max_examples=300, deadline=None)
@given(loans())
def test_balances_and_amounts_are_never_negative_and_end_at_zero(terms):
    schedule = build_schedule(**terms)
    for instalment in schedule.instalments:
        for amount in (instalment.opening_balance, instalment.closing_balance, instalment.principal,
                       instalment.interest, instalment.fee, instalment.total):
            assert not amount.is_negative()
    assert schedule.instalments[-1].closing_balance.is_zero()
    assert schedule.term == terms["deferral_periods"] + terms["interest_only_periods"] + terms["repayments"]


@settings(max_examples=300, deadline=None)
@given(loans())
def test_every_schedule_round_trips_through_its_dict(terms):
    schedule = build_schedule(**terms)
    assert Schedule.from_dict(schedule.to_dict()) == schedule


@settings(max_examples=300, deadline=None)
@given(principals, rates, st.integers(min_value=1, max_value=60), first_dues)
def test_plain_annuity_is_level_with_the_residue_only_on_the_last_instalment(principal, rate, n, first_due):
    # At least 1.00 of principal per month: below that a rounded instalment of a few
    # fen can repay the loan before the last month, and level instalments are meaningless.
    assume(principal >= Money.of(n))
    schedule = build_schedule(principal, rate, repayments=n, first_due_date=first_due)
    payment = annuity_payment(principal, rate, n)
    if rate > 0:
        assert all(i.total == payment for i in schedule.instalments[:-1])
        # Each month's rounding (instalment and interest, at most 0.005 each) is carried
        # on the balance and compounds at the monthly rate r until the last instalment,
        # so the residue is at most 0.01 x ((1 + r)^n - 1) / r (+ 0.01 for the last rounding).
        r = rate / 12
        bound = Money.of("0.01").times(((1 + r) ** n - 1) / r) + Money.of("0.01")
        assert abs(schedule.instalments[-1].total - payment) <= bound
    assert all(i.kind is InstalmentKind.AMORTISING for i in schedule.instalments)

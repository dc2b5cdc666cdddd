"""Property: whatever the inputs, an option is either refused or within every policy limit, and at
every frequency it repays its principal to a zero balance."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from forbear_evaluation.domain.restructuring import (
    LoanPosition,
    RestructuringError,
    RestructuringPlan,
    Waiver,
    arrears_instalments,
    consolidation,
    max_penalty_waiver,
    payment_deferral,
    term_extension,
)
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import RestructuringPolicy, SchedulePolicy
from forbear_shared.domain.schedule import Frequency
from hypothesis import given, settings
from hypothesis import strategies as st

from services.evaluation.tests.test_waterfall import cents, loans, policies

FIRST_DUE = date(2026, 4, 15)
EVERY_FREQUENCY = SchedulePolicy(frequencies=tuple(Frequency))


def assert_within_limits(plan: RestructuringPlan, loans_: tuple[LoanPosition, ...], rules: RestructuringPolicy) -> None:
    ch = plan.changes
    highest = max(p.annual_rate for p in loans_)
    assert ch.new_annual_rate == highest or rules.rate_floor <= ch.new_annual_rate <= highest
    assert ch.deferral_months <= rules.max_deferral_months
    assert ch.arrears_instalments <= rules.max_arrears_instalments
    if ch.deferred_principal.is_positive():
        assert rules.principal_deferral_allowed
        assert ch.deferred_principal <= plan.schedule.principal.times(rules.principal_deferral_max_share)
    assert ch.waived_penalty <= Money.total(p.penalty_interest.times(rules.penalty_waiver_max_share) for p in loans_)
    assert ch.waived_interest <= Money.total(p.overdue_interest.times(rules.interest_waiver_max_share) for p in loans_)
    if len(loans_) == 1:
        position = loans_[0]
        if ch.new_term_months > max(position.remaining_term_months, 1):
            assert position.months_elapsed + ch.new_term_months <= rules.max_total_term_months
    else:
        assert ch.new_term_months <= rules.max_total_term_months
    # nothing is lost: what the borrower owed is repaid, waived, or still owed by the new schedule
    owed = Money.total(p.total_owed for p in loans_)
    repaid = plan.schedule.total_principal + (plan.arrears_schedule.total_principal if plan.arrears_schedule else Money.zero())
    assert repaid + ch.waived_penalty + ch.waived_interest == owed + plan.schedule.total_capitalised_interest


@settings(max_examples=150, deadline=None)
@given(
    position=loans(),
    rules=policies(),
    option=st.sampled_from(["extension", "arrears", "deferral", "deferral_io"]),
    term=st.integers(1, 80),
    rate_bp=st.integers(0, 2400),
    deferred=cents,
    penalty=cents,
    interest=cents,
    count=st.integers(1, 14),
)
def test_every_single_loan_option_respects_every_policy_limit(
    position: LoanPosition, rules: RestructuringPolicy, option: str, term: int, rate_bp: int,
    deferred: Money, penalty: Money, interest: Money, count: int,
) -> None:
    waiver = Waiver(penalty, interest)
    try:
        if option == "extension":
            plan = term_extension(position, rules, new_term_months=term, first_due_date=FIRST_DUE, waiver=waiver,
                                  annual_rate=Decimal(rate_bp) / 10000, deferred_principal=deferred)
        elif option == "arrears":
            plan = arrears_instalments(position, rules, parts=count, first_due_date=FIRST_DUE, waiver=waiver)
        else:
            plan = payment_deferral(position, rules, months=count, first_due_date=FIRST_DUE, waiver=waiver,
                                    interest_only=option == "deferral_io")
    except RestructuringError:
        return  # refused, with the limit named (PolicyLimitExceeded is a RestructuringError)
    assert_within_limits(plan, (position,), rules)


@settings(max_examples=60, deadline=None)
@given(a=loans(), b=loans(), rules=policies(), term=st.integers(1, 80), rate_bp=st.integers(0, 2400))
def test_consolidation_respects_every_policy_limit(
    a: LoanPosition, b: LoanPosition, rules: RestructuringPolicy, term: int, rate_bp: int
) -> None:
    from dataclasses import replace

    b = replace(b, loan_id="L2")
    try:
        plan = consolidation((a, b), rules, new_term_months=term, annual_rate=Decimal(rate_bp) / 10000,
                             first_due_date=FIRST_DUE)
    except RestructuringError:
        return
    assert_within_limits(plan, (a, b), rules)
    assert plan.needs_supervisor == (plan.schedule.principal > Money(rules.consolidation_supervisor_threshold))


# ---------------------------------------------------------------------------
# Properties: every frequency, every option
# ---------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(
    position=loans(),
    rules=policies(),
    frequency=st.sampled_from(list(Frequency)),
    option=st.sampled_from(["extension", "arrears", "deferral", "deferral_io", "consolidation"]),
    term=st.integers(1, 60),
    count=st.integers(1, 14),
    waive=st.booleans(),
)
def test_every_option_at_every_frequency_repays_its_principal_to_a_zero_balance(
    position: LoanPosition, rules: RestructuringPolicy, frequency: Frequency, option: str, term: int, count: int,
    waive: bool,
) -> None:
    position = replace(position, frequency=frequency)
    waiver = Waiver(max_penalty_waiver(position, rules), Money.zero()) if waive else Waiver.none("CNY")
    try:
        if option == "extension":
            plan = term_extension(position, rules, new_term_months=term, first_due_date=FIRST_DUE, waiver=waiver,
                                  schedules=EVERY_FREQUENCY)
        elif option == "arrears":
            plan = arrears_instalments(position, rules, parts=count, first_due_date=FIRST_DUE, waiver=waiver,
                                       schedules=EVERY_FREQUENCY)
        elif option == "consolidation":
            other = replace(position, loan_id="L2")
            plan = consolidation((position, other), rules, new_term_months=term, annual_rate=position.annual_rate,
                                 first_due_date=FIRST_DUE, schedules=EVERY_FREQUENCY)
        else:
            plan = payment_deferral(position, rules, months=min(count, 6), first_due_date=FIRST_DUE, waiver=waiver,
                                    interest_only=option == "deferral_io", schedules=EVERY_FREQUENCY)
    except RestructuringError:
        return
    schedule = plan.schedule
    assert schedule.frequency is frequency
    # the principal repaid is the plan's principal (plus any deferral interest capitalised)
    assert schedule.total_principal == schedule.principal + schedule.total_capitalised_interest
    assert schedule.instalments[-1].closing_balance.is_zero()
    if plan.arrears_schedule is not None:
        # the regular schedule repays exactly the loan's principal not yet due, the parts the arrears
        assert schedule.principal == position.outstanding_principal
        assert plan.arrears_schedule.total_principal == position.arrears - waiver.total
        assert plan.arrears_schedule.instalments[-1].closing_balance.is_zero()
        assert schedule.term == frequency.periods_in_months(position.remaining_term_months)
    elif option in ("extension", "consolidation"):
        assert schedule.term == frequency.periods_in_months(term)
        owed = position.total_owed - waiver.total if option == "extension" else position.total_owed.times(2)
        assert schedule.principal == owed
    else:
        months = min(count, 6)
        repayments = max(position.remaining_term_months, 1)
        assert schedule.term == frequency.periods_in_months(months) + frequency.periods_in_months(repayments)
        assert schedule.principal == position.total_owed - waiver.total
    # the due dates step by the frequency from one period after the plan's start
    dates = [schedule.start_date] + [i.due_date for i in schedule.instalments]
    if frequency.period_days is not None:
        assert {(b - a).days for a, b in zip(dates, dates[1:], strict=False)} == {frequency.period_days}

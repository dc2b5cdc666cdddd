"""The concession waterfall stops at the first affordable plan, in the policy's order."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from forbear_evaluation.domain.restructuring import (
    LoanPosition,
    Waiver,
    allowed_rates,
    consolidation,
    level_plan_payment,
    max_penalty_waiver,
    term_extension,
)
from forbear_evaluation.domain.waterfall import Concession, concession_waterfall, grid_for_loan
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import RestructuringPolicy, SchedulePolicy
from forbear_shared.domain.schedule import Frequency
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from services.evaluation.tests.builders import loan, restructuring_rules

FIRST_DUE = date(2026, 4, 15)


def test_capitalised_plan_is_enough_when_it_is_affordable() -> None:
    # 1200.00 at 0 % over the 12 remaining months = 100.00 a month; affordable 100.00
    result = concession_waterfall(loan(rate="0"), restructuring_rules(), Money.of("100.00"), FIRST_DUE)
    assert result.plan is not None
    assert result.concessions == (Concession.CAPITALISE_ARREARS,)
    assert result.plan.schedule.term == 12


def test_term_is_extended_only_as_far_as_needed() -> None:
    # 1200.00 at 0 %: 1200 / 19 = 63.16 > 60.00 but 1200 / 20 = 60.00 -> 20 months
    result = concession_waterfall(loan(rate="0"), restructuring_rules(), Money.of("60.00"), FIRST_DUE)
    assert result.plan is not None
    assert result.plan.schedule.term == 20
    assert result.concessions == (Concession.CAPITALISE_ARREARS, Concession.EXTEND_TERM)


def test_penalties_are_waived_before_anything_else() -> None:
    # 1180.00 + 20.00 penalty: the penalty is waived, 1180.00 / 12 = 98.33 (last 98.37) <= 100.00
    position = loan("1180.00", penalty="20.00", rate="0")
    result = concession_waterfall(position, restructuring_rules(), Money.of("100.00"), FIRST_DUE)
    assert result.plan is not None
    assert result.concessions == (Concession.WAIVE_PENALTIES, Concession.CAPITALISE_ARREARS)
    assert result.plan.changes.waived_penalty == Money.of("20.00")
    assert result.plan.peak_regular_payment == Money.of("98.37")


def test_rate_is_lowered_in_steps_at_the_longest_term() -> None:
    # no room to extend (cap 12 months), steps of 6 %: 12 % -> 6 % -> 0 % (floor)
    # 1200.00 over 12: at 12 % 106.62; at 6 % 1200 x 0.005 / (1 - 1.005^-12) = 103.28; at 0 % 100.00
    rules = restructuring_rules(max_total_term_months=12, rate_step="0.06", rate_floor="0")
    result = concession_waterfall(loan(), rules, Money.of("102.00"), FIRST_DUE)
    assert result.plan is not None
    assert result.plan.changes.new_annual_rate == Decimal("0")
    assert result.concessions == (Concession.CAPITALISE_ARREARS, Concession.REDUCE_RATE)
    at_six = concession_waterfall(loan(), rules, Money.of("103.28"), FIRST_DUE)
    assert at_six.plan is not None and at_six.plan.changes.new_annual_rate == Decimal("0.06")


def test_principal_deferral_sets_aside_the_smallest_interest_free_balloon() -> None:
    # at 0 % over 12 months: (1200.00 - D) / 12 <= 90.00 needs D >= 120.00;
    # D = 119.99 leaves 1080.01: 90.00 x 11 and 90.01 last, one cent too much
    rules = restructuring_rules(max_total_term_months=12, rate_step="0.06", rate_floor="0")
    result = concession_waterfall(loan(), rules, Money.of("90.00"), FIRST_DUE)
    assert result.plan is not None
    assert result.plan.changes.deferred_principal == Money.of("120.00")
    assert result.plan.peak_regular_payment == Money.of("90.00")
    assert result.concessions[-1] is Concession.DEFER_PRINCIPAL


def test_nothing_affordable_within_the_limits_says_so() -> None:
    # even 30 % deferred at 0 % over 12 months: 840.00 / 12 = 70.00 > 69.99
    rules = restructuring_rules(max_total_term_months=12, rate_step="0.06", rate_floor="0")
    result = concession_waterfall(loan(), rules, Money.of("69.99"), FIRST_DUE)
    assert not result.found
    assert result.most_generous is not None
    assert result.most_generous.peak_regular_payment == Money.of("70.00")


# ---------------------------------------------------------------------------
# Properties: the waterfall against a brute-force search of the same grid
# ---------------------------------------------------------------------------

cents = st.integers(min_value=0, max_value=2_000_000).map(lambda c: Money(Decimal(c) / 100))


@st.composite
def loans(draw: st.DrawFn) -> LoanPosition:
    original = draw(st.integers(1, 48))
    return LoanPosition(
        loan_id="L",
        borrower_id="B",
        outstanding_principal=Money(Decimal(draw(st.integers(100, 5_000_000))) / 100),
        overdue_principal=draw(cents),
        overdue_interest=draw(cents),
        penalty_interest=draw(cents),
        fees=draw(cents),
        annual_rate=Decimal(draw(st.integers(0, 2400))) / 10000,
        original_term_months=original,
        remaining_term_months=draw(st.integers(0, original)),
        contractual_instalment=Money.of("1.00"),
    )


@st.composite
def policies(draw: st.DrawFn) -> RestructuringPolicy:
    allowed = draw(st.booleans())
    return restructuring_rules(
        max_total_term_months=draw(st.integers(1, 60)),
        rate_floor=str(Decimal(draw(st.integers(0, 500))) / 10000),
        rate_step=str(Decimal(draw(st.integers(25, 2000))) / 10000),
        principal_deferral_allowed=allowed,
        principal_deferral_max_share=str(Decimal(draw(st.integers(0, 50))) / 100) if allowed else "0",
        penalty_waiver_max_share=str(Decimal(draw(st.integers(0, 100))) / 100),
    )


def _within_limits(plan_rate: Decimal, position: LoanPosition, rules: RestructuringPolicy, term: int) -> bool:
    extended = term > max(position.remaining_term_months, 1)
    term_ok = not extended or position.months_elapsed + term <= rules.max_total_term_months
    rate_ok = plan_rate == position.annual_rate or rules.rate_floor <= plan_rate <= position.annual_rate
    return term_ok and rate_ok


@settings(max_examples=60, deadline=None)
@given(position=loans(), rules=policies(), affordable=cents)
def test_waterfall_finds_an_affordable_plan_exactly_when_brute_force_does(
    position: LoanPosition, rules: RestructuringPolicy, affordable: Money
) -> None:
    result = concession_waterfall(position, rules, affordable, FIRST_DUE)
    waiver = Waiver(max_penalty_waiver(position, rules), Money.zero())
    grid = grid_for_loan(position, rules, position.total_owed - waiver.total)
    deferrals = {Money.zero(), grid.max_deferred_principal}
    exists = any(
        term_extension(position, rules, new_term_months=term, first_due_date=FIRST_DUE, waiver=waiver,
                       annual_rate=rate, deferred_principal=deferred).peak_regular_payment <= affordable
        for term in grid.terms
        for rate in grid.rates
        for deferred in deferrals
    )
    assert result.found == exists
    if result.plan is not None:
        assert result.plan.peak_regular_payment <= affordable
        changes = result.plan.changes
        assert _within_limits(changes.new_annual_rate, position, rules, changes.new_term_months)
        assert changes.deferred_principal <= grid.max_deferred_principal
        assert changes.waived_penalty <= position.penalty_interest.times(rules.penalty_waiver_max_share)
        assert result.plan.schedule.total_principal == position.total_owed - changes.waived_penalty


@settings(max_examples=150, deadline=None)
@given(position=loans(), rules=policies(), frequency=st.sampled_from(list(Frequency)),
       extra_months=st.integers(0, 24), share=st.sampled_from([0, 1, 25, 50]))
def test_a_plans_payment_is_known_without_building_it(
    position: LoanPosition, rules: RestructuringPolicy, frequency: Frequency, extra_months: int, share: int
) -> None:
    """``level_plan_payment`` is the ``monthly_equivalent_payment`` of the plan ``term_extension``
    (and, without a deferral, ``consolidation``) builds, for any term, rate and deferral."""
    position = replace(position, frequency=frequency)
    rules = rules.model_copy(update={"max_total_term_months": 120, "principal_deferral_allowed": True,
                                     "principal_deferral_max_share": Decimal("0.5"), "rate_floor": Decimal(0)})
    waiver = Waiver(max_penalty_waiver(position, rules), Money.zero())
    principal = position.total_owed - waiver.total
    assume(principal.is_positive())
    term = max(position.remaining_term_months, 1) + extra_months
    assume(frequency.periods_in_months(term) >= 1)
    deferred = principal.times(Decimal(share) / 100).min(principal - Money.of("0.01")).clamp_non_negative()
    every = SchedulePolicy(frequencies=tuple(Frequency))
    rates = allowed_rates(position.annual_rate, rules)
    for rate in {rates[0], rates[min(1, len(rates) - 1)], rates[-1]}:
        plan = term_extension(position, rules, new_term_months=term, first_due_date=FIRST_DUE, waiver=waiver,
                              annual_rate=rate, deferred_principal=deferred, schedules=every)
        assert level_plan_payment(principal, rate, new_term_months=term, first_due_date=FIRST_DUE,
                                  deferred_principal=deferred, frequency=frequency) == plan.monthly_equivalent_payment
        other = replace(position, loan_id="L2", outstanding_principal=Money.of("100.00"), overdue_principal=Money.zero(),
                        overdue_interest=Money.zero(), penalty_interest=Money.zero(), fees=Money.zero())
        merged = consolidation((position, other), rules, new_term_months=term, annual_rate=rate,
                               first_due_date=FIRST_DUE, waivers=(waiver, Waiver.none("CNY")), schedules=every)
        assert level_plan_payment(principal + other.total_owed, rate, new_term_months=term, first_due_date=FIRST_DUE,
                                  frequency=frequency) == merged.monthly_equivalent_payment

"""Repayment options: each builds a new schedule, states what changed, and respects the policy."""

from datetime import date
from decimal import Decimal

import pytest
from forbear_evaluation.domain.restructuring import (
    OptionKind,
    PolicyLimitExceeded,
    RestructuringError,
    Waiver,
    allowed_rates,
    arrears_instalments,
    consolidation,
    payment_deferral,
    term_extension,
    waive,
)
from forbear_shared.domain.money import Money

from services.evaluation.tests.builders import loan, restructuring_rules

RULES = restructuring_rules()  # demo lender: 60 months, floor 2 %, step 0.25 %, deferral <= 6, parts <= 12
FIRST_DUE = date(2026, 4, 15)


def test_term_extension_capitalises_arrears_and_reproduces_the_public_annuity_reference() -> None:
    # 90.00 not yet due + 10.00 overdue principal = 100.00 capitalised; 7 % over 6 months (30/360)
    # public reference: 17.01 five times, then 17.00
    position = loan("90.00", overdue_principal="10.00", rate="0.07", original=12, remaining=3, instalment="30.34")
    plan = term_extension(position, RULES, new_term_months=6, first_due_date=FIRST_DUE)
    assert [i.total for i in plan.schedule.instalments] == [Money.of("17.01")] * 5 + [Money.of("17.00")]
    assert plan.schedule.principal == Money.of("100.00")
    assert plan.kind is OptionKind.TERM_EXTENSION
    assert plan.changes.capitalised_arrears == Money.of("10.00")
    assert plan.changes.old_instalment == Money.of("30.34")
    assert plan.changes.new_instalment == Money.of("17.01")
    assert (plan.changes.old_remaining_term_months, plan.changes.new_term_months) == (3, 6)


def test_extension_beyond_60_months_in_total_names_the_term_limit() -> None:
    # 36 - 10 = 26 months already run; 26 + 35 = 61 > 60
    position = loan("10000.00", original=36, remaining=10, instalment="1000.00")
    with pytest.raises(PolicyLimitExceeded) as refused:
        term_extension(position, RULES, new_term_months=35, first_due_date=FIRST_DUE)
    assert refused.value.limit == "max_total_term_months"
    # 26 + 34 = 60 is allowed
    assert term_extension(position, RULES, new_term_months=34, first_due_date=FIRST_DUE).schedule.term == 34


def test_rate_below_the_floor_or_off_the_step_grid_is_refused() -> None:
    position = loan(rate="0.05")
    with pytest.raises(PolicyLimitExceeded) as below:
        term_extension(position, RULES, new_term_months=24, first_due_date=FIRST_DUE, annual_rate=Decimal("0.0175"))
    assert below.value.limit == "rate_floor"
    with pytest.raises(PolicyLimitExceeded) as off_grid:
        # 0.05 - 0.0480 = 0.0020, not a whole number of 0.0025 steps
        term_extension(position, RULES, new_term_months=24, first_due_date=FIRST_DUE, annual_rate=Decimal("0.048"))
    assert off_grid.value.limit == "rate_step"


def test_rate_steps_go_down_by_a_quarter_point_and_end_at_the_floor() -> None:
    # 3.0 % -> 2.75 % -> 2.5 % -> 2.25 % -> floor 2.0 %
    assert allowed_rates(Decimal("0.03"), RULES) == tuple(
        Decimal(r) for r in ("0.03", "0.0275", "0.0250", "0.0225", "0.02")
    )
    # 2.1 %: one step would be 1.85 %, below the floor, so the floor itself
    assert allowed_rates(Decimal("0.021"), RULES) == (Decimal("0.021"), Decimal("0.02"))


def test_principal_deferral_above_30_percent_or_when_not_allowed_is_refused() -> None:
    position = loan("1000.00", rate="0.0", instalment="83.34")
    # 30 % of 1000.00 = 300.00
    with pytest.raises(PolicyLimitExceeded) as above:
        term_extension(position, RULES, new_term_months=12, first_due_date=FIRST_DUE,
                       deferred_principal=Money.of("300.01"))
    assert above.value.limit == "principal_deferral_max_share"
    plan = term_extension(position, RULES, new_term_months=12, first_due_date=FIRST_DUE,
                          deferred_principal=Money.of("300.00"))
    # 700.00 / 12 = 58.33 x 11, last 58.37 + the 300.00 balloon; the balloon is not a monthly payment
    assert plan.peak_regular_payment == Money.of("58.37")
    assert plan.schedule.instalments[-1].total == Money.of("358.37")
    assert plan.changes.deferred_principal == Money.of("300.00")
    strict = restructuring_rules(principal_deferral_allowed=False, principal_deferral_max_share="0")
    with pytest.raises(PolicyLimitExceeded) as forbidden:
        term_extension(position, strict, new_term_months=12, first_due_date=FIRST_DUE,
                       deferred_principal=Money.of("1.00"))
    assert forbidden.value.limit == "principal_deferral_allowed"


def test_waiver_takes_penalty_first_then_accrued_interest_up_to_30_percent() -> None:
    position = loan(overdue_interest="100.00", penalty="20.00")
    # 50.00 = all 20.00 of penalty + 30.00 of interest (30 % of 100.00 = 30.00, the cap)
    assert waive(position, Money.of("50.00"), RULES, evidence_complete=True) == Waiver(
        Money.of("20.00"), Money.of("30.00")
    )
    with pytest.raises(PolicyLimitExceeded) as refused:
        waive(position, Money.of("50.01"), RULES, evidence_complete=True)
    assert refused.value.limit == "interest_waiver_max_share"


def test_waiving_accrued_interest_needs_complete_evidence() -> None:
    position = loan(overdue_interest="100.00", penalty="20.00")
    assert waive(position, Money.of("20.00"), RULES, evidence_complete=False).interest == Money.zero()
    with pytest.raises(PolicyLimitExceeded) as refused:
        waive(position, Money.of("20.01"), RULES, evidence_complete=False)
    assert refused.value.limit == "interest_waiver_requires_complete_evidence"


def test_arrears_are_paid_in_parts_on_top_of_the_regular_instalment_with_the_residue_last() -> None:
    # regular: 1200.00 at 0 % over 12 months = 100.00 a month
    # arrears: 200.00 principal + 30.00 interest + 20.00 penalty = 250.00; penalty waived -> 230.00
    # 230.00 / 3 = 76.666..: 76.66, 76.66 and the residue part 230.00 - 153.32 = 76.68
    position = loan("1200.00", overdue_principal="200.00", overdue_interest="30.00", penalty="20.00",
                    rate="0", instalment="100.00")
    plan = arrears_instalments(position, RULES, parts=3, first_due_date=FIRST_DUE,
                               waiver=Waiver(Money.of("20.00"), Money.zero()))
    assert plan.monthly_payments()[:4] == (
        Money.of("176.66"), Money.of("176.66"), Money.of("176.68"), Money.of("100.00"),
    )
    assert plan.peak_regular_payment == Money.of("176.68")
    assert plan.changes.arrears_instalments == 3
    assert plan.changes.waived_penalty == Money.of("20.00")


def test_thirteen_arrears_instalments_break_the_twelve_part_limit() -> None:
    position = loan("2400.00", overdue_principal="100.00", original=24, remaining=24)
    with pytest.raises(PolicyLimitExceeded) as refused:
        arrears_instalments(position, RULES, parts=13, first_due_date=FIRST_DUE)
    assert refused.value.limit == "max_arrears_instalments"


def test_deferral_capitalises_interest_and_charges_the_fee_with_the_first_payment_after_it() -> None:
    # 1000.00 at 12 % (1 % a month), 2 months paused, 2 repayments left
    # month 1: interest 10.00 capitalised -> 1010.00; month 2: 10.10 -> 1020.10
    # annuity on 1020.10 over 2 at 1 %: 1020.10 x 0.01 / (1 - 1.01^-2) = 1020.10 x 0.5075124 = 517.71
    # month 3: interest 10.20, principal 507.51, fee 50.00 -> 567.71; balance 512.59
    # month 4: interest 5.13 (512.59 x 1 % = 5.1259), principal 512.59 -> 517.72 (residue last)
    position = loan("1000.00", original=12, remaining=2, instalment="507.51")
    plan = payment_deferral(position, RULES, months=2, first_due_date=FIRST_DUE)
    assert plan.monthly_payments() == (
        Money.zero(), Money.zero(), Money.of("567.71"), Money.of("517.72"),
    )
    assert plan.changes.fees_charged == Money.of("50.00")
    assert plan.changes.deferral_months == 2
    assert plan.schedule.total_capitalised_interest == Money.of("20.10")


def test_deferral_of_seven_months_breaks_the_six_month_limit() -> None:
    with pytest.raises(PolicyLimitExceeded) as refused:
        payment_deferral(loan(), RULES, months=7, first_due_date=FIRST_DUE)
    assert refused.value.limit == "max_deferral_months"


def test_consolidating_loans_above_200000_needs_a_supervisor() -> None:
    # 100000.00 + (148000.00 + 2000.00 overdue) = 250000.00 > 200000.00
    a = loan("100000.00", rate="0.10", original=60, remaining=40, instalment="2500.00", loan_id="A")
    b = loan("148000.00", overdue_principal="2000.00", rate="0.08", original=60, remaining=50,
             instalment="3000.00", loan_id="B")
    plan = consolidation((a, b), RULES, new_term_months=60, annual_rate=Decimal("0.08"), first_due_date=FIRST_DUE)
    assert plan.schedule.principal == Money.of("250000.00")
    assert plan.needs_supervisor
    assert plan.changes.old_instalment == Money.of("5500.00")
    assert plan.loan_ids == ("A", "B")
    small = consolidation((loan("1000.00", loan_id="A"), loan("500.00", loan_id="B")), RULES,
                          new_term_months=12, annual_rate=Decimal("0.12"), first_due_date=FIRST_DUE)
    assert not small.needs_supervisor


def test_only_loans_of_one_borrower_can_be_consolidated() -> None:
    with pytest.raises(RestructuringError):
        consolidation((loan(loan_id="A"), loan(loan_id="B", borrower_id="B2")), RULES,
                      new_term_months=12, annual_rate=Decimal("0.12"), first_due_date=FIRST_DUE)


def test_a_consolidated_loan_longer_than_60_months_names_the_term_limit() -> None:
    with pytest.raises(PolicyLimitExceeded) as refused:
        consolidation((loan(loan_id="A"), loan(loan_id="B")), RULES,
                      new_term_months=61, annual_rate=Decimal("0.12"), first_due_date=FIRST_DUE)
    assert refused.value.limit == "max_total_term_months"

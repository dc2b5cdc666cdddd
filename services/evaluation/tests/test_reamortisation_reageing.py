"""Re-amortisation and re-ageing: the numbers of each plan, the policy's limits, and evaluation
offering them. Hand-worked figures in the comments; the APR reference is numpy-financial's."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy_financial as npf
import pytest
from forbear_evaluation.cli import case_from_dict
from forbear_evaluation.domain.evaluate import Outcome, evaluate
from forbear_evaluation.domain.restructuring import (
    LoanPosition,
    OptionKind,
    PolicyLimitExceeded,
    RestructuringError,
    Waiver,
    reageing,
    reamortisation,
)
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import Policy
from forbear_shared.domain.schedule import Frequency, RepaymentMethod

AS_OF = date(2026, 3, 10)
EXAMPLE = Path(__file__).parents[1] / "examples" / "flat-rate-reaged.json"


def overdue_loan(**changes: object) -> LoanPosition:
    """7,000.00 left of a 12 %/year annuity loan: 6,000.00 not yet due, 1,000.00 principal and
    50.00 interest overdue, 12.00 penalty, 6 instalments to go, the next due on 15 March."""
    base = LoanPosition(
        loan_id="L1", borrower_id="B1",
        outstanding_principal=Money.of("6000.00"), overdue_principal=Money.of("1000.00"),
        overdue_interest=Money.of("50.00"), penalty_interest=Money.of("12.00"), fees=Money.of("0.00"),
        annual_rate=Decimal("0.12"), original_term_months=12, remaining_term_months=6,
        contractual_instalment=Money.of("1950.00"), next_due_date=date(2026, 3, 15), consecutive_payments=3,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# -- re-amortisation ------------------------------------------------------------------------


def test_reamortisation_spreads_the_overdue_principal_over_the_remaining_instalments_on_their_dates(
    policy: Policy,
) -> None:
    # 6,000.00 + 1,000.00 overdue = 7,000.00 re-amortised at 1 %/month over the 6 remaining months:
    #   annuity = 7,000 x 0.01 / (1 - 1.01^-6) = 1,207.8386 -> 1,207.84
    #   month 1: interest 70.00, principal 1,137.84; plus 50.00 / 6 = 8.33 of the overdue interest
    #   (interest-free, 8.33 x 5 + 8.35), the penalty 12.00 waived
    #   due dates kept: 15 March, 15 April ... 15 August 2026 (the loan's own), maturity unchanged
    plan = reamortisation(overdue_loan(), policy.reamortisation, policy.schedules, policy.restructuring,
                          first_due_date=date(2026, 4, 10), as_of=AS_OF,
                          waiver=Waiver(Money.of("12.00"), Money.of("0.00")))
    schedule = plan.schedule
    assert plan.kind is OptionKind.REAMORTISATION
    assert Decimal(str(-npf.pmt(0.01, 6, 7000))).quantize(Decimal("0.01")) == Decimal("1207.84")
    assert [i.due_date for i in schedule.instalments] == [date(2026, m, 15) for m in range(3, 9)]
    first = schedule.instalments[0]
    assert (first.principal, first.interest, first.total) == (Money.of("1137.84"), Money.of("78.33"), Money.of("1216.17"))
    assert schedule.total_principal == Money.of("7000.00")
    # each instalment's interest is 1 % of its opening balance plus its part of the 50.00 overdue interest
    spread = [i.interest - Money(schedule.instalments[n].opening_balance.amount * Decimal("0.01"))
              for n, i in enumerate(schedule.instalments)]
    assert spread == [Money.of("8.33")] * 5 + [Money.of("8.35")]
    assert plan.changes.capitalised_arrears.is_zero() and plan.changes.new_term_months == 6


def test_reamortisation_stays_within_the_policys_remaining_term(policy: Policy) -> None:
    rules = policy.reamortisation  # demo lender: 2 to 24 remaining instalments
    with pytest.raises(PolicyLimitExceeded) as too_long:
        reamortisation(overdue_loan(original_term_months=36, remaining_term_months=30), rules, policy.schedules,
                       policy.restructuring, first_due_date=date(2026, 4, 10), as_of=AS_OF)
    assert too_long.value.limit == "reamortisation.max_remaining_instalments"
    with pytest.raises(PolicyLimitExceeded) as too_short:
        reamortisation(overdue_loan(remaining_term_months=1), rules, policy.schedules, policy.restructuring,
                       first_due_date=date(2026, 4, 10), as_of=AS_OF)
    assert too_short.value.limit == "reamortisation.min_remaining_instalments"
    with pytest.raises(RestructuringError, match="no overdue principal"):
        reamortisation(overdue_loan(overdue_principal=Money.of("0.00")), rules, policy.schedules,
                       policy.restructuring, first_due_date=date(2026, 4, 10), as_of=AS_OF)
    off = rules.model_copy(update={"allowed": False})
    with pytest.raises(PolicyLimitExceeded) as refused:
        reamortisation(overdue_loan(), off, policy.schedules, policy.restructuring,
                       first_due_date=date(2026, 4, 10), as_of=AS_OF)
    assert refused.value.limit == "reamortisation.allowed"


# -- re-ageing ------------------------------------------------------------------------------


def test_reageing_turns_the_unpaid_balance_into_new_instalments_from_the_business_date(policy: Policy) -> None:
    # unpaid: 6,000.00 + 1,000.00 + 50.00 interest (+ 12.00 penalty waived) = 7,050.00, as 12 new
    # monthly instalments from 10 March: first due 10 April; annuity at 1 %/month:
    #   7,050 x 0.01 / (1 - 1.01^-12) = 626.3840 -> 626.38; month 1 interest 70.50, principal 555.88
    plan = reageing(overdue_loan(), policy.reageing, policy.schedules, policy.restructuring, instalments=12,
                    as_of=AS_OF, waiver=Waiver(Money.of("12.00"), Money.of("0.00")))
    schedule = plan.schedule
    assert plan.kind is OptionKind.REAGEING
    assert schedule.start_date == AS_OF and schedule.first_due_date == date(2026, 4, 10)
    assert schedule.principal == Money.of("7050.00") and schedule.term == 12
    first = schedule.instalments[0]
    assert (first.interest, first.principal, first.total) == (Money.of("70.50"), Money.of("555.88"), Money.of("626.38"))
    assert plan.changes.capitalised_arrears == Money.of("1050.00")
    # an annuity's APR is its rate: 12.00 % (monthly IRR 1 % x 12), to a hundredth of a percent
    assert abs(plan.annualised_rate().apr - Decimal("0.12")) < Decimal("0.0001")


def test_a_flat_rate_loan_is_reaged_flat_and_weekly_when_the_loan_is_weekly(policy: Policy) -> None:
    # 7,050.00 flat at 12 %/year, weekly (30/360: a week is 7/360 of a year), 20 instalments:
    #   interest each week = 7,050 x 0.12 x 7 / 360 = 16.45; principal 352.50 x 20
    #   first due 17 March (a week after 10 March)
    loan = overdue_loan(repayment_method=RepaymentMethod.FLAT_RATE, frequency=Frequency.WEEKLY)
    plan = reageing(loan, policy.reageing, policy.schedules, policy.restructuring, instalments=20, as_of=AS_OF,
                    waiver=Waiver(Money.of("12.00"), Money.of("0.00")))
    schedule = plan.schedule
    assert (schedule.method, schedule.frequency) == (RepaymentMethod.FLAT_RATE, Frequency.WEEKLY)
    assert schedule.first_due_date == date(2026, 3, 17)
    assert {i.interest for i in schedule.instalments} == {Money.of("16.45")}
    assert {i.principal for i in schedule.instalments} == {Money.of("352.50")}
    flows = [-7050.0] + [float(i.total.amount) for i in schedule.instalments]
    reference = Decimal(str(npf.irr(flows))) * 52
    assert abs(plan.annualised_rate().apr - reference) < Decimal("0.0001")
    assert plan.annualised_rate().apr > Decimal("0.22")  # a 12 % flat rate over 20 weeks costs ~23 %


def test_reageing_limits_follow_the_ffiec_practice(policy: Policy) -> None:
    rules = policy.reageing  # once in 12 months, twice in 5 years, 3 consecutive payments, <= 36

    def refused(loan: LoanPosition, instalments: int = 12) -> str:
        with pytest.raises(PolicyLimitExceeded) as limit:
            reageing(loan, rules, policy.schedules, policy.restructuring, instalments=instalments, as_of=AS_OF)
        return limit.value.limit

    # re-aged on 11 March 2025: within the 12 months before 10 March 2026
    assert refused(overdue_loan(reaged_on=(date(2025, 3, 11),))) == "reageing.max_per_12_months"
    # 10 March 2025 is exactly 12 months back and outside the window; with 2022 that is two in 5 years
    assert refused(overdue_loan(reaged_on=(date(2022, 6, 1), date(2025, 3, 10)))) == "reageing.max_per_5_years"
    assert refused(overdue_loan(consecutive_payments=2)) == "reageing.min_consecutive_payments"
    assert refused(overdue_loan(), instalments=37) == "reageing.max_instalments"
    # once more than 5 years ago and once 13 months ago: allowed again
    again = reageing(overdue_loan(reaged_on=(date(2020, 1, 1), date(2025, 2, 1))), rules, policy.schedules,
                     policy.restructuring, instalments=12, as_of=AS_OF)
    assert again.kind is OptionKind.REAGEING


# -- evaluation offers them ----------------------------------------------------------------


def test_evaluation_offers_a_flat_rate_reaged_plan_with_its_apr_when_the_loan_qualifies(policy: Policy) -> None:
    # the flat-rate example: 38,600.00 unpaid (33,000 + 5,000 + 600 interest; 45.00 penalty waived),
    # affordable 1,330.00 a month. Re-amortising 38,000 over the 14 months left is ~2,900 a month:
    # too much; re-ageing at the loan's flat 0.5 %/month: interest 38,600 x 0.005 = 193.00 every
    # month, principal 38,600 / N; N = 33 gives 1,169.70 + 193.00 = 1,362.70 > 1,330.00, N = 34
    # gives 1,135.29 + 193.00 = 1,328.29 (the last 1,135.43 + 193.00 = 1,328.43): the fewest that fit
    data = json.loads(EXAMPLE.read_text())
    case = case_from_dict(data)
    decision = evaluate(case, policy, AS_OF)
    assert decision.outcome is Outcome.APPROVE
    offers = {o.plan.kind: o for o in decision.offers}
    aged = offers[OptionKind.REAGEING].plan
    assert (aged.schedule.method, aged.schedule.term) == (RepaymentMethod.FLAT_RATE, 34)
    assert aged.schedule.instalments[0].total == Money.of("1328.29")
    assert aged.changes.new_instalment == Money.of("1328.43")
    flows = [-38600.0] + [float(i.total.amount) for i in aged.schedule.instalments]
    assert abs(aged.annualised_rate().apr - Decimal(str(npf.irr(flows))) * 12) < Decimal("0.0001")
    assert aged.annualised_rate().apr == Decimal("0.110963")  # 6 % flat costs 11.10 % a year

    # re-aged 5 months ago: not again within 12 months, whatever the budget
    data["loans"][0]["reaged_on"] = ["2025-10-01"]
    again = evaluate(case_from_dict(data), policy, AS_OF)
    assert OptionKind.REAGEING not in {o.plan.kind for o in again.offers}


def test_evaluation_offers_reamortisation_when_the_remaining_instalments_can_absorb_the_arrears(
    policy: Policy,
) -> None:
    # a short arrears on a loan with 6 months left: 1,216.18 at most a month (figures above) fits
    # the 1,330.00 budget, so re-amortisation is offered, and re-ageing (resetting DPD) is not
    data = json.loads(EXAMPLE.read_text())
    data["loans"] = [{
        "loan_id": "L1", "outstanding_principal": "6000.00", "overdue_principal": "1000.00",
        "overdue_interest": "50.00", "penalty_interest": "12.00", "annual_rate": "0.12",
        "original_term_months": 12, "remaining_term_months": 6, "contractual_instalment": "1950.00",
        "next_due_date": "2026-03-15", "consecutive_payments": 3,
    }]
    decision = evaluate(case_from_dict(data), policy, AS_OF)
    kinds = [o.plan.kind for o in decision.offers]
    assert OptionKind.REAMORTISATION in kinds and OptionKind.REAGEING not in kinds
    plan = next(o.plan for o in decision.offers if o.plan.kind is OptionKind.REAMORTISATION)
    # the loan's own next due date, Sun 15 Mar 2026, payable the next working day (following)
    assert plan.schedule.first_due_date == date(2026, 3, 16)
    assert plan.schedule.instalments[0].total == Money.of("1216.17")

    # a lender whose policy does not allow it gets no such offer
    strict = policy.model_copy(update={"reamortisation": policy.reamortisation.model_copy(update={"allowed": False})})
    assert OptionKind.REAMORTISATION not in {o.plan.kind for o in evaluate(case_from_dict(data), strict, AS_OF).offers}

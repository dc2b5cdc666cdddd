"""Every option builds its plan at the loan's frequency (where the policy allows it), and the
value test values a plan per period of its own frequency."""

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from forbear_evaluation.cli import case_from_dict
from forbear_evaluation.domain.evaluate import Outcome, evaluate
from forbear_evaluation.domain.restructuring import (
    LoanPosition,
    OptionKind,
    PolicyLimitExceeded,
    RestructuringError,
    RestructuringPlan,
    arrears_instalments,
    payment_deferral,
    reamortisation,
    term_extension,
)
from forbear_evaluation.domain.value_test import (
    PlanCashFlow,
    ValueTestAssumptions,
    lender_value_test,
    monthly_hazard,
    plan_npv,
)
from forbear_evaluation.domain.waterfall import concession_waterfall
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import Policy, SchedulePolicy
from forbear_shared.domain.schedule import Frequency, InstalmentKind

from services.evaluation.tests.builders import loan, restructuring_rules

RULES = restructuring_rules()  # demo lender: 60 months, deferral <= 6 months, fee 50.00, parts <= 12
FIRST_DUE = date(2026, 4, 10)  # one month after the business date 10 March 2026
EVERY_FREQUENCY = SchedulePolicy(frequencies=tuple(Frequency))


def at(position: LoanPosition, frequency: Frequency) -> LoanPosition:
    return replace(position, frequency=frequency)


def totals(plan: RestructuringPlan) -> list[Money]:
    return list(plan.monthly_payments())


# ---------------------------------------------------------------------------
# Months in the policy's units, periods in the plan's
# ---------------------------------------------------------------------------


def test_a_loan_keeps_monthly_plans_when_the_policy_allows_only_monthly(policy: Policy) -> None:
    position = at(loan("900.00", overdue_principal="100.00", rate="0.18", remaining=1), Frequency.FORTNIGHTLY)
    plan = term_extension(position, RULES, new_term_months=2, first_due_date=FIRST_DUE)  # default: monthly only
    assert (plan.schedule.frequency, plan.schedule.term) == (Frequency.MONTHLY, 2)
    assert plan.schedule.first_due_date == FIRST_DUE


# ---------------------------------------------------------------------------
# A fortnightly term extension
# ---------------------------------------------------------------------------


def test_a_fortnightly_term_extension_by_hand(policy: Policy) -> None:
    # 900.00 not yet due + 100.00 overdue = 1,000.00 capitalised, 18 %/year fortnightly:
    #   30/360, a fortnight is 14/360 of a year: i = 0.18 x 14 / 360 = 0.007
    #   a 1-month term is floor(1 x 26 / 12) = 2 fortnights
    #   annuity 1,000 x 0.007 / (1 - 1.007^-2) = 7 / 0.0138544 = 505.2561 -> 505.26
    #   1: interest 7.00, principal 498.26, balance 501.74
    #   2: interest 501.74 x 0.007 = 3.5122 -> 3.51, principal 501.74, total 505.25
    #   the plan starts on the business date (10 March), due 24 March and 7 April
    position = at(loan("900.00", overdue_principal="100.00", rate="0.18", remaining=1), Frequency.FORTNIGHTLY)
    plan = term_extension(position, RULES, new_term_months=1, first_due_date=FIRST_DUE, schedules=policy.schedules)
    schedule = plan.schedule
    assert (schedule.frequency, schedule.term) == (Frequency.FORTNIGHTLY, 2)
    assert schedule.start_date == date(2026, 3, 10)
    assert [i.due_date for i in schedule.instalments] == [date(2026, 3, 24), date(2026, 4, 7)]
    assert [(i.interest, i.principal) for i in schedule.instalments] == [
        (Money.of("7.00"), Money.of("498.26")), (Money.of("3.51"), Money.of("501.74"))]
    assert totals(plan) == [Money.of("505.26"), Money.of("505.25")]
    # 505.26 a fortnight is 505.26 x 26 / 12 = 1,094.73 a month against a monthly budget
    assert plan.monthly_equivalent_payment == Money.of("1094.73")


def test_a_12_month_extension_of_a_fortnightly_loan_is_26_fortnights_and_the_limit_stays_in_months(
    policy: Policy,
) -> None:
    # 24 - 6 = 18 months have run; 18 + 12 = 30 <= 60 months: floor(12 x 26 / 12) = 26 fortnights
    position = at(loan("10000.00", original=24, remaining=6, instalment="1700.00"), Frequency.FORTNIGHTLY)
    twelve = term_extension(position, RULES, new_term_months=12, first_due_date=FIRST_DUE, schedules=policy.schedules)
    assert twelve.schedule.term == 26
    # 18 + 42 = 60 months: floor(42 x 26 / 12) = floor(91.0) = 91 fortnights; 18 + 43 = 61 is refused
    assert term_extension(position, RULES, new_term_months=42, first_due_date=FIRST_DUE,
                          schedules=policy.schedules).schedule.term == 91
    with pytest.raises(PolicyLimitExceeded) as refused:
        term_extension(position, RULES, new_term_months=43, first_due_date=FIRST_DUE, schedules=policy.schedules)
    assert refused.value.limit == "max_total_term_months"


# ---------------------------------------------------------------------------
# A weekly arrears-instalments plan
# ---------------------------------------------------------------------------


def test_a_weekly_arrears_instalments_plan_by_hand(policy: Policy) -> None:
    # regular schedule: 1,000.00 not yet due, 36 %/year weekly: i = 0.36 x 7 / 360 = 0.007;
    #   1 month left = floor(1 x 52 / 12) = 4 weekly instalments
    #   annuity 1,000 x 0.007 / (1 - 1.007^-4) = 254.3903 -> 254.39
    #   1: interest 7.00  principal 247.39  balance 752.61
    #   2: interest 752.61 x 0.007 = 5.268 -> 5.27  principal 249.12  balance 503.49
    #   3: interest 503.49 x 0.007 = 3.524 -> 3.52  principal 250.87  balance 252.62
    #   4: interest 252.62 x 0.007 = 1.768 -> 1.77  principal 252.62  total 254.39
    # arrears 30.00 overdue principal in 3 interest-free weekly parts of 10.00, on weeks 1-3
    position = at(loan("1000.00", overdue_principal="30.00", rate="0.36", remaining=1), Frequency.WEEKLY)
    plan = arrears_instalments(position, RULES, parts=3, first_due_date=FIRST_DUE, schedules=policy.schedules)
    assert plan.arrears_schedule is not None
    assert (plan.schedule.frequency, plan.schedule.term) == (Frequency.WEEKLY, 4)
    assert (plan.arrears_schedule.frequency, plan.arrears_schedule.term) == (Frequency.WEEKLY, 3)
    assert [i.due_date for i in plan.schedule.instalments] == [
        date(2026, 3, 17), date(2026, 3, 24), date(2026, 3, 31), date(2026, 4, 7)]
    assert [i.due_date for i in plan.arrears_schedule.instalments] == [
        date(2026, 3, 17), date(2026, 3, 24), date(2026, 3, 31)]
    assert [i.interest for i in plan.schedule.instalments] == [
        Money.of("7.00"), Money.of("5.27"), Money.of("3.52"), Money.of("1.77")]
    assert totals(plan) == [Money.of("264.39")] * 3 + [Money.of("254.39")]
    # 5 weekly parts do not fit in 4 weekly instalments
    with pytest.raises(RestructuringError, match="4 remaining instalments"):
        arrears_instalments(position, RULES, parts=5, first_due_date=FIRST_DUE, schedules=policy.schedules)


# ---------------------------------------------------------------------------
# A semi-monthly (every 15 days) deferral
# ---------------------------------------------------------------------------


def test_a_15_day_deferral_by_hand(policy: Policy) -> None:
    # 1,000.00 at 24 %/year every 15 days: i = 0.24 x 15 / 360 = 0.01
    #   a 1-month pause = floor(1 x (365/15) / 12) = 2 periods; 1 month left = 2 repayments
    #   pause 1: interest 10.00 capitalised -> 1,010.00; pause 2: 10.10 -> 1,020.10
    #   annuity 1,020.10 x 0.01 / (1 - 1.01^-2) = 517.7134 -> 517.71
    #   3: interest 10.20, principal 507.51, fee 50.00 (the policy's deferral fee): 567.71
    #   4: interest 512.59 x 0.01 = 5.1259 -> 5.13, principal 512.59: 517.72
    #   due 25 March, 9 April, 24 April, 9 May (every 15 days from 10 March)
    position = at(loan("1000.00", rate="0.24", remaining=1), Frequency.EVERY_15_DAYS)
    plan = payment_deferral(position, RULES, months=1, first_due_date=FIRST_DUE, schedules=policy.schedules)
    schedule = plan.schedule
    assert (schedule.frequency, schedule.term) == (Frequency.EVERY_15_DAYS, 4)
    assert [i.kind for i in schedule.instalments] == [InstalmentKind.DEFERRAL] * 2 + [InstalmentKind.AMORTISING] * 2
    assert [i.due_date for i in schedule.instalments] == [
        date(2026, 3, 25), date(2026, 4, 9), date(2026, 4, 24), date(2026, 5, 9)]
    assert [i.capitalised_interest for i in schedule.instalments[:2]] == [Money.of("10.00"), Money.of("10.10")]
    assert totals(plan) == [Money.of("0.00"), Money.of("0.00"), Money.of("567.71"), Money.of("517.72")]
    assert plan.changes.deferral_months == 1  # the pause in the policy's unit; its periods are in the schedule


# ---------------------------------------------------------------------------
# The value test of a weekly plan
# ---------------------------------------------------------------------------


def test_the_value_test_of_a_weekly_plan_by_hand() -> None:
    # d = 52 %/year: weekly v_p = 1 / (1 + 0.52 / 52) = 1 / 1.01; monthly v = 1 / (1 + 0.52/12)
    # p = 1 - 0.99^52 (12-month re-default): weekly h_p = 1 - (1 - p)^(1/52) = 0.01
    # recovery 50 %, costs 10.00, 1 month to recover; payments 100.00 x 3, owed 300, 200, 100
    #   survival S1 .99, S2 .9801, S3 .970299
    #   paid: 100 x (.99/1.01 + .9801/1.0201 + .970299/1.030301)
    #       = 100 x (.980198 + .960788 + .941763)                          = 288.2749
    #   re-default: N(300) = 140, N(200) = 90, N(100) = 40
    #       (.01 x 140 / 1.01 + .0099 x 90 / 1.0201 + .009801 x 40 / 1.030301)
    #       = 1.386139 + .873444 + .380508 = 2.640091, x v (1 month) 1/1.043333 = 2.530440
    #   plan NPV 288.2749 + 2.5304 = 290.8053 -> 290.81
    # legal NPV: (300 x 0.5 - 10) / 1.043333 = 134.19
    p = 1 - Decimal("0.99") ** 52
    a = ValueTestAssumptions(Decimal("0.52"), monthly_hazard(p), Decimal("0.5"), Money.of("10.00"), 1)
    flows = [PlanCashFlow(Money.of("100.00"), Money.of(b)) for b in ("300.00", "200.00", "100.00")]
    result = lender_value_test(flows, Money.of("300.00"), a, Frequency.WEEKLY)
    assert (result.plan_npv, result.legal_npv) == (Money.of("290.81"), Money.of("134.19"))
    # valued as if the payments were monthly (h = 1 - (1 - p)^(1/12) = 0.0426, v = 1/1.0433 a
    # period) the same flows would be worth 263.26: the weekly plan is worth more, sooner
    assert plan_npv(flows, a) == Money.of("263.26")


def test_a_monthly_plan_is_valued_as_before() -> None:
    # the monthly formula, unchanged: 100.00 + 100.00 in months 1 and 2, d = 12 %, h = 0.1, no delay
    #   paid .9 x 100 / 1.01 + .81 x 100 / 1.0201 = 89.1089 + 79.4040 = 168.5129
    #   re-default 1 x .1 x 90 / 1.01 + .9 x .1 x 40 / 1.0201 = 8.9109 + 3.5291 = 12.4400 (12.43996)
    #   168.5129 + 12.4400 = 180.9529 -> 180.95
    a = ValueTestAssumptions(Decimal("0.12"), Decimal("0.1"), Decimal("0.5"), Money.of("10.00"), 0)
    flows = [PlanCashFlow(Money.of("100.00"), Money.of("200.00")), PlanCashFlow(Money.of("100.00"), Money.of("100.00"))]
    assert plan_npv(flows, a, frequency=Frequency.MONTHLY) == Money.of("180.95")


# ---------------------------------------------------------------------------
# Affordability of a plan in days: its payments a month
# ---------------------------------------------------------------------------


def test_the_waterfall_judges_a_weekly_plan_on_its_payments_a_month(policy: Policy) -> None:
    # 1,000.00 + 40.00 overdue at 0 % (below the 2 % floor: no rate step), 1 month left, budget 540.00
    #   1 month  = 4 weeks:  1,040 / 4  = 260.00 a week = 260 x 52 / 12 = 1,126.67 a month: too much
    #   2 months = 8 weeks:  1,040 / 8  = 130.00 a week =                   563.33 a month: too much
    #   3 months = 13 weeks: 1,040 / 13 =  80.00 a week =                   346.67 a month: affordable
    # (a monthly plan would stop at 2 months: 520.00 a month)
    position = at(loan("1000.00", overdue_principal="40.00", rate="0", original=12, remaining=1), Frequency.WEEKLY)
    result = concession_waterfall(position, RULES, Money.of("540.00"), FIRST_DUE, policy.schedules)
    assert result.plan is not None
    assert (result.plan.schedule.frequency, result.plan.schedule.term) == (Frequency.WEEKLY, 13)
    assert set(totals(result.plan)) == {Money.of("80.00")}
    assert result.plan.monthly_equivalent_payment == Money.of("346.67")
    monthly = concession_waterfall(position, RULES, Money.of("540.00"), FIRST_DUE)
    assert monthly.plan is not None and monthly.plan.schedule.term == 2
    assert set(totals(monthly.plan)) == {Money.of("520.00")}


def test_a_weekly_contractual_instalment_a_month() -> None:
    # 490.80 a week x 52 / 12 = 2,126.80 a month; fortnightly x 26 / 12 = 1,063.40;
    # every 15 days x (365/15) / 12 = 490.80 x 2.027778 = 995.23
    weekly = at(loan(instalment="490.80"), Frequency.WEEKLY)
    assert weekly.monthly_contractual_instalment == Money.of("2126.80")
    assert at(weekly, Frequency.FORTNIGHTLY).monthly_contractual_instalment == Money.of("1063.40")
    assert at(weekly, Frequency.EVERY_15_DAYS).monthly_contractual_instalment == Money.of("995.23")
    assert at(weekly, Frequency.MONTHLY).monthly_contractual_instalment == Money.of("490.80")


# ---------------------------------------------------------------------------
# The README's weekly example, evaluated
# ---------------------------------------------------------------------------

WEEKLY_EXAMPLE = Path(__file__).parents[1] / "examples" / "weekly-extended.json"


def test_the_weekly_example_is_restructured_weekly_and_judged_a_month(policy: Policy) -> None:
    # 24,000.00 + 1,900.00 + 60.00 (penalty 20.00 waived) = 25,960.00 at 12 %, weekly i = 0.12 x 7/360
    #   12 months have run: at most 48 more. 21 months = floor(21 x 52/12) = 91 weeks:
    #     25,960 x i / (1 - (1 + i)^-91) = 316.96 a week = 1,373.51 a month > 1,330.00
    #   22 months = floor(95.33) = 95 weeks: 304.9852 -> 304.99 a week, x 52/12 = 1,321.62 a month
    #   first week's interest 25,960 x 0.12 x 7 / 360 = 60.573 -> 60.57
    data = json.loads(WEEKLY_EXAMPLE.read_text())
    decision = evaluate(case_from_dict(data), policy, date(2026, 3, 10))
    assert decision.outcome is Outcome.APPROVE
    plan = decision.offers[0].plan
    assert (plan.kind, plan.schedule.frequency, plan.schedule.term) == (OptionKind.TERM_EXTENSION, Frequency.WEEKLY, 95)
    assert plan.schedule.principal == Money.of("25960.00")
    first = plan.schedule.instalments[0]
    assert (first.interest, first.total) == (Money.of("60.57"), Money.of("304.99"))
    assert plan.monthly_equivalent_payment == Money.of("1321.62")
    # 490.80 a week is 2,126.80 a month, above the 1,900.00 disposable income: no capacity to pay;
    # were it 490.80 a month, the borrower could pay it and the case is declined
    data["loans"][0]["frequency"] = "monthly"
    monthly = evaluate(case_from_dict(data), policy, date(2026, 3, 10))
    assert monthly.outcome is Outcome.DECLINE
    assert [i.code.value for i in monthly.indicators] == ["capacity_to_pay"]


def test_a_weekly_loan_is_reamortised_over_its_remaining_weeks(policy: Policy) -> None:
    # 1 month left of a weekly loan = floor(1 x 52 / 12) = 4 weekly instalments, kept from the
    # next due date 17 March; 900.00 not yet due + 100.00 overdue at 0 % = 250.00 principal a week;
    # the 8.00 overdue interest in 4 interest-free parts of 2.00: 252.00 a week
    position = replace(at(loan("900.00", overdue_principal="100.00", overdue_interest="8.00", rate="0", remaining=1),
                          Frequency.WEEKLY), next_due_date=date(2026, 3, 17))
    plan = reamortisation(position, policy.reamortisation, policy.schedules, RULES,
                          first_due_date=FIRST_DUE, as_of=date(2026, 3, 10))
    assert (plan.schedule.frequency, plan.schedule.term) == (Frequency.WEEKLY, 4)
    assert [i.due_date for i in plan.schedule.instalments] == [
        date(2026, 3, 17), date(2026, 3, 24), date(2026, 3, 31), date(2026, 4, 7)]
    assert totals(plan) == [Money.of("252.00")] * 4

"""Lender value test (cf. HAMP NPV): the plan must be worth at least legal recovery."""

from decimal import Decimal

from forbear_evaluation.domain.value_test import (
    PlanCashFlow,
    ValueTestAssumptions,
    legal_recovery_npv,
    lender_value_test,
    plan_npv,
)
from forbear_shared.domain.money import Money


def flows(*pairs: tuple[str, str]) -> tuple[PlanCashFlow, ...]:
    return tuple(PlanCashFlow(Money.of(p), Money.of(b)) for p, b in pairs)


def test_without_discounting_or_redefault_the_plan_is_worth_its_payments() -> None:
    a = ValueTestAssumptions(Decimal("0"), Decimal("0"), Decimal("0.5"), Money.of("10.00"), 0)
    # 100.00 + 100.00 = 200.00, nobody re-defaults, no discounting
    assert plan_npv(flows(("100.00", "200.00"), ("100.00", "100.00")), a) == Money.of("200.00")


def test_redefault_replaces_payments_with_net_legal_recovery() -> None:
    a = ValueTestAssumptions(Decimal("0"), Decimal("0.1"), Decimal("0.5"), Money.of("10.00"), 0)
    # survival S1 = 0.9, S2 = 0.81
    # paid:      0.9 * 100 + 0.81 * 100                           = 90 + 81   = 171.00
    # re-default month 1: S0 * h * (200 * 0.5 - 10) = 1 * 0.1 * 90 = 9.00
    # re-default month 2: S1 * h * (100 * 0.5 - 10) = 0.9 * 0.1 * 40 = 3.60
    # total 171.00 + 9.00 + 3.60 = 183.60
    assert plan_npv(flows(("100.00", "200.00"), ("100.00", "100.00")), a) == Money.of("183.60")


def test_legal_recovery_is_balance_times_recovery_rate_less_costs_discounted_for_the_delay() -> None:
    a = ValueTestAssumptions(Decimal("0.12"), Decimal("0"), Decimal("0.6"), Money.of("1000.00"), 2)
    # 10000.00 * 0.6 - 1000.00 = 5000.00, received in 2 months at 1 % a month:
    # 5000 / 1.01^2 = 5000 / 1.0201 = 4901.4802... -> 4901.48
    assert legal_recovery_npv(Money.of("10000.00"), a) == Money.of("4901.48")


def test_legal_costs_above_the_recovery_mean_legal_action_is_worth_nothing() -> None:
    a = ValueTestAssumptions(Decimal("0.12"), Decimal("0"), Decimal("0.1"), Money.of("500.00"), 6)
    # 1000.00 * 0.1 - 500.00 = -400.00 -> 0.00 (the lender never pays to recover)
    assert legal_recovery_npv(Money.of("1000.00"), a) == Money.zero()


def test_plan_discounted_monthly_passes_against_slow_costly_legal_recovery() -> None:
    a = ValueTestAssumptions(Decimal("0.12"), Decimal("0"), Decimal("0.5"), Money.of("50.00"), 12)
    result = lender_value_test(flows(("101.00", "200.00"), ("101.00", "100.00")), Money.of("200.00"), a)
    # plan: 101/1.01 + 101/1.01^2 = 100.00 + 99.0099... = 199.0099 -> 199.01
    # legal: (200 * 0.5 - 50) / 1.01^12 = 50 / 1.126825030... = 44.3722... -> 44.37
    assert result.plan_npv == Money.of("199.01")
    assert result.legal_npv == Money.of("44.37")
    assert result.passes
    assert result.margin == Money.of("154.64")


def test_plan_with_high_redefault_fails_against_quick_cheap_recovery() -> None:
    a = ValueTestAssumptions(Decimal("0"), Decimal("0.5"), Decimal("0.9"), Money.of("0.00"), 0)
    result = lender_value_test(flows(("50.00", "100.00"), ("50.00", "50.00")), Money.of("100.00"), a)
    # plan paid:       0.5 * 50 + 0.25 * 50                 = 25.00 + 12.50 = 37.50
    # plan recovered:  1 * 0.5 * 90 + 0.5 * 0.5 * 45         = 45.00 + 11.25 = 56.25 -> plan 93.75
    # legal now: 100 * 0.9 = 90.00 ... plan 93.75 >= 90.00 passes
    assert result.plan_npv == Money.of("93.75")
    assert result.legal_npv == Money.of("90.00")
    assert result.passes
    # with recovery 0.95 legal is 95.00; plan: 37.50 + 0.5*95 + 0.25*47.5 = 37.50 + 47.50 + 11.875 = 96.875 -> 96.88
    b = ValueTestAssumptions(Decimal("0"), Decimal("0.5"), Decimal("0.95"), Money.of("0.00"), 0)
    result = lender_value_test(flows(("50.00", "100.00"), ("50.00", "50.00")), Money.of("100.00"), b)
    assert result.plan_npv == Money.of("96.88")
    # and with the plan paying only 40.00 a month it loses: 0.5*40 + 0.25*40 = 30.00, + 47.50 + 0.25*0.95*60=14.25
    c = lender_value_test(flows(("40.00", "100.00"), ("40.00", "60.00")), Money.of("100.00"), b)
    # 30.00 + 47.50 + 14.25 = 91.75 < 95.00
    assert c.plan_npv == Money.of("91.75")
    assert not c.passes

"""Affordability from an income and expenditure statement (UK SFS shape, HAMP 31 % DTI)."""

from decimal import Decimal

import pytest
from forbear_evaluation.domain.affordability import (
    AffordabilityRules,
    IncomeExpenditureStatement,
    InvalidStatement,
    StatementItem,
    assess_affordability,
)
from forbear_shared.domain.money import Money

RULES = AffordabilityRules(share_of_disposable_income=Decimal("0.80"), debt_to_income_ceiling=Decimal("0.31"))


def item(label: str, amount: str) -> StatementItem:
    return StatementItem(label, Money.of(amount))


def test_disposable_income_is_income_minus_essentials_minus_other_debt_service() -> None:
    statement = IncomeExpenditureStatement(
        income=(item("salary", "6000.00"), item("child benefit", "300.00")),
        essential_expenditure=(item("rent", "2200.00"), item("food", "1500.00"), item("utilities", "350.50")),
        other_debt_payments=(item("credit card", "400.00"),),
        dependants=2,
    )
    # income 6000.00 + 300.00 = 6300.00
    # essentials 2200.00 + 1500.00 + 350.50 = 4050.50
    # disposable 6300.00 - 4050.50 - 400.00 = 1849.50
    assert statement.total_income == Money.of("6300.00")
    assert statement.total_essential_expenditure == Money.of("4050.50")
    assert statement.disposable_income == Money.of("1849.50")


def test_affordable_instalment_is_the_policy_share_of_disposable_income_without_gross_income() -> None:
    statement = IncomeExpenditureStatement(
        income=(item("salary", "6300.00"),),
        essential_expenditure=(item("living costs", "4050.50"),),
        other_debt_payments=(item("credit card", "400.00"),),
    )
    result = assess_affordability(statement, RULES)
    # disposable 6300.00 - 4050.50 - 400.00 = 1849.50; 80 % of it = 1479.60
    assert result.disposable_income == Money.of("1849.50")
    assert result.affordable_instalment == Money.of("1479.60")
    assert result.debt_to_income_cap is None


def test_debt_to_income_ceiling_of_31_percent_caps_the_affordable_instalment() -> None:
    statement = IncomeExpenditureStatement(
        income=(item("net salary", "6300.00"),),
        essential_expenditure=(item("living costs", "3000.00"),),
        other_debt_payments=(item("car loan", "1000.00"),),
        gross_monthly_income=Money.of("8000.00"),
    )
    result = assess_affordability(statement, RULES)
    # disposable 6300 - 3000 - 1000 = 2300.00; 80 % = 1840.00
    # DTI: 31 % of 8000.00 = 2480.00 for all debt service, minus 1000.00 already paid = 1480.00
    # the lower of 1840.00 and 1480.00 is 1480.00
    assert result.from_disposable_income == Money.of("1840.00")
    assert result.debt_to_income_cap == Money.of("1480.00")
    assert result.affordable_instalment == Money.of("1480.00")
    assert result.capped_by_debt_to_income


def test_share_is_rounded_half_up_to_the_cent() -> None:
    statement = IncomeExpenditureStatement(
        income=(item("benefit", "1000.05"),), essential_expenditure=(item("food", "1000.00"),)
    )
    # disposable 0.05; 80 % = 0.04 exactly
    assert assess_affordability(statement, RULES).affordable_instalment == Money.of("0.04")
    statement = IncomeExpenditureStatement(
        income=(item("benefit", "1000.07"),), essential_expenditure=(item("food", "1000.00"),)
    )
    # disposable 0.07; 80 % = 0.056 -> 0.06 half-up
    assert assess_affordability(statement, RULES).affordable_instalment == Money.of("0.06")


def test_a_deficit_budget_affords_nothing() -> None:
    statement = IncomeExpenditureStatement(
        income=(item("jobseeker allowance", "1800.00"),),
        essential_expenditure=(item("rent", "2000.00"),),
    )
    result = assess_affordability(statement, RULES)
    # 1800.00 - 2000.00 = -200.00: a deficit, so the plan may take 0.00
    assert result.disposable_income == Money.of("-200.00")
    assert result.affordable_instalment == Money.zero()
    assert not result.can_afford(Money.of("0.01"))
    assert result.can_afford(Money.zero())


def test_negative_statement_items_are_refused() -> None:
    with pytest.raises(InvalidStatement):
        item("salary", "-1.00")

"""What the borrower can afford, from an income and expenditure statement.

The statement follows the shape of the UK Standard Financial Statement (SFS):
monthly income items, essential expenditure items, payments to other
creditors and the number of dependants.  Every amount is monthly.

    disposable income     = income - essential expenditure - other debt payments
    affordable instalment = share * disposable income            (policy share)
                            capped at dti_ceiling * gross income
                            - other debt payments                 (when gross income is known)

The debt-to-income cap follows the US HAMP target: all monthly debt service
(our instalment plus the other creditors) at most 31 % of gross monthly
income.  Disposable income can be negative (a deficit budget); the affordable
instalment never is.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from forbear_shared.domain.money import Money


class InvalidStatement(ValueError):
    """The income and expenditure statement cannot be used as it stands."""


@dataclass(frozen=True)
class StatementItem:
    """One monthly line of the statement, e.g. ("salary", 5200.00)."""

    label: str
    monthly_amount: Money

    def __post_init__(self) -> None:
        if self.monthly_amount.is_negative():
            raise InvalidStatement(f"statement item {self.label!r} is negative")


@dataclass(frozen=True)
class IncomeExpenditureStatement:
    income: tuple[StatementItem, ...]
    essential_expenditure: tuple[StatementItem, ...]
    other_debt_payments: tuple[StatementItem, ...] = ()
    dependants: int = 0
    gross_monthly_income: Money | None = None
    currency: str = "CNY"

    def __post_init__(self) -> None:
        if self.dependants < 0:
            raise InvalidStatement("dependants cannot be negative")
        if self.gross_monthly_income is not None and self.gross_monthly_income.is_negative():
            raise InvalidStatement("gross monthly income cannot be negative")

    @property
    def total_income(self) -> Money:
        return Money.total((i.monthly_amount for i in self.income), self.currency)

    @property
    def total_essential_expenditure(self) -> Money:
        return Money.total((i.monthly_amount for i in self.essential_expenditure), self.currency)

    @property
    def total_other_debt_payments(self) -> Money:
        return Money.total((i.monthly_amount for i in self.other_debt_payments), self.currency)

    @property
    def disposable_income(self) -> Money:
        return self.total_income - self.total_essential_expenditure - self.total_other_debt_payments


@dataclass(frozen=True)
class AffordabilityRules:
    """Policy numbers: the share of disposable income a plan may take, and the DTI ceiling."""

    share_of_disposable_income: Decimal
    debt_to_income_ceiling: Decimal


@dataclass(frozen=True)
class Affordability:
    disposable_income: Money
    from_disposable_income: Money
    debt_to_income_cap: Money | None
    affordable_instalment: Money

    @property
    def capped_by_debt_to_income(self) -> bool:
        return self.debt_to_income_cap is not None and self.affordable_instalment == self.debt_to_income_cap

    def can_afford(self, monthly_payment: Money) -> bool:
        return monthly_payment <= self.affordable_instalment


def assess_affordability(statement: IncomeExpenditureStatement, rules: AffordabilityRules) -> Affordability:
    disposable = statement.disposable_income
    from_disposable = disposable.times(rules.share_of_disposable_income).clamp_non_negative()
    dti_cap: Money | None = None
    affordable = from_disposable
    if statement.gross_monthly_income is not None:
        dti_cap = (
            statement.gross_monthly_income.times(rules.debt_to_income_ceiling)
            - statement.total_other_debt_payments
        ).clamp_non_negative()
        if dti_cap < affordable:
            affordable = dti_cap
    return Affordability(
        disposable_income=disposable,
        from_disposable_income=from_disposable,
        debt_to_income_cap=dti_cap,
        affordable_instalment=affordable,
    )

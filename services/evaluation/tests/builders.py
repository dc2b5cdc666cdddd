"""Test builders: loans and policy limits written the way a credit officer reads them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from forbear_evaluation.domain.restructuring import LoanPosition
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import RestructuringPolicy
from forbear_shared.policy_loader import load_policy


def restructuring_rules(**changes: Any) -> RestructuringPolicy:
    """The demo lender's restructuring limits with some values changed for a test."""
    base = load_policy().restructuring.model_dump()
    base.update(changes)
    return RestructuringPolicy.model_validate(base)


def loan(
    outstanding: str = "1200.00",
    *,
    overdue_principal: str = "0.00",
    overdue_interest: str = "0.00",
    penalty: str = "0.00",
    fees: str = "0.00",
    rate: str = "0.12",
    original: int = 12,
    remaining: int = 12,
    instalment: str = "106.62",
    loan_id: str = "L1",
    borrower_id: str = "B1",
) -> LoanPosition:
    return LoanPosition(
        loan_id=loan_id,
        borrower_id=borrower_id,
        outstanding_principal=Money.of(outstanding),
        overdue_principal=Money.of(overdue_principal),
        overdue_interest=Money.of(overdue_interest),
        penalty_interest=Money.of(penalty),
        fees=Money.of(fees),
        annual_rate=Decimal(rate),
        original_term_months=original,
        remaining_term_months=remaining,
        contractual_instalment=Money.of(instalment),
    )

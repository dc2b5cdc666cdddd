"""Test builders: loans and policy limits written the way a credit officer reads them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from forbear_evaluation.domain.restructuring import LoanPosition
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import RestructuringPolicy
from forbear_shared.events.schemas.intake import CaseSubmitted
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


#: the business date of the submissions below
AS_OF = dt.date(2026, 3, 10)


def submitted(**changes: Any) -> CaseSubmitted:
    """What intake sends for the unemployed borrower (benefit 1900.00 + spouse 6400.00, essentials
    6100.00, card 300.00) with both documents accepted; ``changes`` replace fields."""
    data: dict[str, Any] = {
        "borrower_id": "B1", "submission": 1, "hardship_category": "unemployment", "channel": "phone",
        "dpd_at_first_contact": 19, "opened_on": "2026-03-02",
        "loans": [{"loan_id": "L1", "borrower_id": "B1", "original_principal": "70000.00",
                   "outstanding_principal": "51582.38", "annual_rate": "0.096", "original_term_months": 36,
                   "remaining_term_months": 22, "contractual_instalment": "2566.38",
                   "overdue_principal": "4256.30", "overdue_interest": "876.46", "penalty_interest": "38.20",
                   "as_of": "2026-03-10"}],
        "statement": {
            "income": [{"category": "benefit", "monthly_amount": "1900.00"},
                       {"category": "spouse", "monthly_amount": "6400.00"}],
            "essential_expenditure": [{"category": "living", "monthly_amount": "6100.00"}],
            "other_debt_payments": [{"category": "card", "monthly_amount": "300.00"}],
            "gross_monthly_income": "10500.00",
        },
        "evidence": [
            {"document_id": "d1", "document_type": "termination_letter", "status": "accepted", "sha256": "a" * 64},
            {"document_id": "d2", "document_type": "unemployment_registration", "status": "accepted",
             "sha256": "b" * 64},
        ],
        "evidence_deadline": "2026-03-16",
    }
    data.update(changes)
    return CaseSubmitted.model_validate(data)

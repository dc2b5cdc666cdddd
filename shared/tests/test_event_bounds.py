"""The event schemas bound every loan and money field by sense, whoever produced the event."""

from __future__ import annotations

from decimal import Decimal

import pytest
from forbear_shared.events.schemas.agreement import OfferCountered
from forbear_shared.events.schemas.common import LoanSnapshot
from forbear_shared.events.schemas.corebanking import PaymentReceived
from pydantic import ValidationError

LOAN = {
    "loan_id": "L-1", "borrower_id": "B-1", "original_principal": "60000.00", "outstanding_principal": "42000.00",
    "annual_rate": "0.0800", "original_term_months": 36, "remaining_term_months": 20,
    "contractual_instalment": "1880.22", "as_of": "2026-01-05",
}


def test_a_loan_as_core_banking_sends_it_is_valid():
    assert LoanSnapshot.model_validate(LOAN).outstanding_principal == Decimal("42000.00")


@pytest.mark.parametrize(("field", "value"), [
    ("currency", "XYZ-not-a-currency"),
    ("currency", "cny"),
    ("original_principal", "1E+400"),
    ("outstanding_principal", "1000000000000.00"),  # a trillion: 13 whole digits
    ("contractual_instalment", "1880.225"),
    ("overdue_interest", "-0.01"),
    ("annual_rate", "55"),
    ("annual_rate", "1"),
    ("annual_rate", "NaN"),
    ("as_of", "9999-12-31"),
    ("as_of", "0001-01-01"),
    ("original_term_months", 200_000),
    ("remaining_term_months", 601),
    ("days_past_due", 10_001),
])
def test_a_loan_field_out_of_bounds_is_refused(field, value):
    with pytest.raises(ValidationError) as refused:
        LoanSnapshot.model_validate({**LOAN, field: value})
    assert field in str(refused.value)


def test_the_largest_amounts_that_fit_are_taken():
    loan = LoanSnapshot.model_validate({**LOAN, "original_principal": "999999999999.99", "annual_rate": "0.999999",
                                        "original_term_months": 600, "remaining_term_months": 600})
    assert loan.original_principal == Decimal("999999999999.99")


@pytest.mark.parametrize("amount", ["1E+17", "0.00", "-5.00", "10.001"])
def test_a_payment_amount_is_positive_to_the_cent_and_below_a_trillion(amount):
    with pytest.raises(ValidationError, match="amount"):
        PaymentReceived.model_validate({"reference": "P-1", "loan_id": "L-1", "amount": amount,
                                        "received_on": "2026-01-05"})


def test_a_counter_proposal_is_to_the_cent():
    base = {"offer_id": "O-1", "borrower_id": "B-1", "countered_on": "2026-01-05"}
    assert OfferCountered.model_validate({**base, "proposed_instalment": "1.01"}).proposed_instalment == Decimal("1.01")
    with pytest.raises(ValidationError, match="proposed_instalment"):
        OfferCountered.model_validate({**base, "proposed_instalment": "1.005"})

from datetime import date

import pytest
from forbear_intake.domain.loan_records import LoanRecord, LoanSource
from forbear_intake.domain.ownership import loans_of_new_case
from forbear_shared.errors import Conflict
from forbear_shared.events.schemas.common import LoanSnapshot

TODAY = date(2026, 3, 2)


def declared(loan_id: str, days_past_due: int, borrower_id: str = "B-1") -> LoanSnapshot:
    return LoanSnapshot.model_validate({
        "loan_id": loan_id, "borrower_id": borrower_id, "original_principal": "60000.00",
        "outstanding_principal": "42000.00", "annual_rate": "0.0800", "original_term_months": 36,
        "remaining_term_months": 20, "contractual_instalment": "1880.22", "as_of": TODAY.isoformat(),
        "days_past_due": days_past_due,
    })


def test_a_loan_declared_again_by_the_same_borrower_replaces_the_earlier_declaration():
    records = {"L-1": LoanRecord("L-1", "B-1", LoanSource.CASE, date(2026, 2, 1), days_past_due=30)}
    loans = loans_of_new_case("B-1", [], [declared("L-1", 60)], records)
    assert loans.redeclare == ("L-1",) and loans.declare == ()
    assert loans.largest_days_past_due == 60  # the new declaration's figures, not the old 30


def test_core_bankings_record_keeps_its_figures_when_a_case_declares_the_loan_too():
    records = {"L-1": LoanRecord("L-1", "B-1", LoanSource.COREBANKING, TODAY, days_past_due=90)}
    loans = loans_of_new_case("B-1", [], [declared("L-1", 10)], records)
    assert loans.declared == () and loans.largest_days_past_due == 90


def test_every_foreign_loan_is_named_in_the_refusal():
    records = {i: LoanRecord(i, "B-2", LoanSource.COREBANKING, TODAY, days_past_due=0) for i in ("L-1", "L-2")}
    with pytest.raises(Conflict) as refused:
        loans_of_new_case("B-1", ["L-1", "L-2"], [], records)
    assert refused.value.reason == "loan_of_another_borrower"
    assert refused.value.message == "loans of another borrower: L-1, L-2"

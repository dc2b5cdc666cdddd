from datetime import date

import pytest
from forbear_intake.domain.loan_records import (
    Claim,
    LoanRecord,
    LoanRefusal,
    LoanSource,
    claim,
    declared_loan_refusals,
    snapshot_replaces,
)
from forbear_shared.events.schemas.common import LoanSnapshot
from forbear_shared.policy_loader import load_policy

TODAY = date(2026, 3, 2)


@pytest.fixture(scope="module")
def policy():
    return load_policy()


def record(borrower_id: str, source: LoanSource, as_of: date = TODAY) -> LoanRecord:
    return LoanRecord("L-1", borrower_id, source, as_of, days_past_due=0)


def snapshot(**changes: object) -> LoanSnapshot:
    data: dict[str, object] = {
        "loan_id": "L-1", "borrower_id": "B-1", "original_principal": "60000.00",
        "outstanding_principal": "42000.00", "annual_rate": "0.0800", "original_term_months": 36,
        "remaining_term_months": 20, "contractual_instalment": "1880.22", "as_of": TODAY.isoformat(),
    }
    data.update(changes)
    return LoanSnapshot.model_validate(data)


def test_a_loan_of_another_borrower_is_foreign_whoever_recorded_it():
    assert claim(record("B-2", LoanSource.COREBANKING), "B-1", declared=True) is Claim.FOREIGN
    assert claim(record("B-2", LoanSource.CASE), "B-1", declared=True) is Claim.FOREIGN
    assert claim(record("B-2", LoanSource.COREBANKING), "B-1", declared=False) is Claim.FOREIGN


def test_core_banking_records_are_referred_to_never_redeclared():
    assert claim(record("B-1", LoanSource.COREBANKING), "B-1", declared=True) is Claim.REFERENCE
    assert claim(record("B-1", LoanSource.COREBANKING), "B-1", declared=False) is Claim.REFERENCE


def test_the_borrowers_own_declaration_may_be_declared_again():
    assert claim(record("B-1", LoanSource.CASE), "B-1", declared=True) is Claim.REDECLARE
    assert claim(record("B-1", LoanSource.CASE), "B-1", declared=False) is Claim.REFERENCE


def test_an_unknown_loan_is_declared_when_given_and_unknown_when_only_named():
    assert claim(None, "B-1", declared=True) is Claim.DECLARE
    assert claim(None, "B-1", declared=False) is Claim.UNKNOWN


def test_core_banking_replaces_a_declaration_even_one_dated_9999():
    assert snapshot_replaces(record("B-1", LoanSource.CASE, as_of=date(9999, 12, 31)), TODAY)
    assert snapshot_replaces(None, TODAY)


def test_an_older_core_banking_snapshot_never_overwrites_a_newer_one():
    newer = record("B-1", LoanSource.COREBANKING, as_of=date(2026, 3, 2))
    assert not snapshot_replaces(newer, date(2026, 3, 1))
    assert snapshot_replaces(newer, date(2026, 3, 2))


def test_a_loan_within_the_demo_lenders_limits_is_taken(policy):
    assert declared_loan_refusals(snapshot(), TODAY, policy) == []


@pytest.mark.parametrize(("changes", "refusal"), [
    ({"currency": "USD"}, LoanRefusal.CURRENCY_NOT_ACCEPTED),
    ({"original_term_months": 61, "remaining_term_months": 20}, LoanRefusal.TERM_ABOVE_POLICY),
    ({"remaining_term_months": 37}, LoanRefusal.REMAINING_TERM_ABOVE_ORIGINAL),
    ({"as_of": "2026-01-29"}, LoanRefusal.AS_OF_OUTSIDE_WINDOW),  # 32 days before 2026-03-02
    ({"as_of": "2026-04-03"}, LoanRefusal.AS_OF_OUTSIDE_WINDOW),  # 32 days ahead
    ({"oldest_unpaid_due_date": "2026-03-03"}, LoanRefusal.OLDEST_UNPAID_DUE_DATE_OUT_OF_RANGE),
    # a 36-month loan seen on 2026-03-02 began no earlier than 2023-03-02
    ({"oldest_unpaid_due_date": "2023-03-01"}, LoanRefusal.OLDEST_UNPAID_DUE_DATE_OUT_OF_RANGE),
    ({"next_due_date": "2026-03-01"}, LoanRefusal.NEXT_DUE_DATE_OUT_OF_RANGE),
    ({"next_due_date": "2027-11-03"}, LoanRefusal.NEXT_DUE_DATE_OUT_OF_RANGE),  # beyond 20 remaining months
    # re-aged after the snapshot of 2026-03-02, or before the loan began (2023-03-02)
    ({"reaged_on": ["2026-03-03"]}, LoanRefusal.REAGED_ON_OUT_OF_RANGE),
    ({"reaged_on": ["2025-06-10", "2023-03-01"]}, LoanRefusal.REAGED_ON_OUT_OF_RANGE),
])
def test_a_declared_loan_outside_the_policy_is_refused_with_its_reason(policy, changes, refusal):
    assert declared_loan_refusals(snapshot(**changes), TODAY, policy) == [refusal]


def test_the_window_edges_are_inside(policy):
    """snapshot_window_days = 31 on either side of the business date; next due within the remaining term."""
    for changes in ({"as_of": "2026-01-30"}, {"as_of": "2026-04-02"}, {"next_due_date": "2027-11-02"},
                    {"oldest_unpaid_due_date": "2026-03-02", "next_due_date": "2026-03-02"},
                    {"oldest_unpaid_due_date": "2023-03-02"}, {"reaged_on": ["2023-03-02", "2026-03-02"]}):
        assert declared_loan_refusals(snapshot(**changes), TODAY, policy) == [], changes

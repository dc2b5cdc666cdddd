"""The rules of a supervisor's review, of the evidence deadline and of a submission without a statement (pure)."""

from __future__ import annotations

import datetime as dt

import pytest
from forbear_evaluation.domain.evaluate import Outcome, deadline_as_seen
from forbear_evaluation.domain.review import approved_ranks, check_open, written_reason
from forbear_evaluation.domain.without_statement import decide_without_statement
from forbear_shared.domain.hardship import DocumentType, EvidenceDocument, HardshipCategory, ReviewStatus
from forbear_shared.errors import Conflict, Unprocessable

DEADLINE = dt.date(2026, 3, 16)
LETTER = EvidenceDocument(DocumentType.TERMINATION_LETTER, ReviewStatus.ACCEPTED)


def test_without_a_statement_the_lender_asks_for_it_and_the_missing_documents_until_the_deadline() -> None:
    asked = decide_without_statement(HardshipCategory.UNEMPLOYMENT, (LETTER,), DEADLINE, DEADLINE)
    assert asked.outcome is Outcome.NEED_MORE_EVIDENCE  # on the deadline day itself there is still time
    assert asked.missing == ("income_expenditure_statement", "unemployment_registration")
    assert [r.code.value for r in asked.reasons] == ["statement_missing", "evidence_incomplete"]


def test_without_a_statement_the_day_after_the_deadline_the_case_is_declined_naming_what_never_came() -> None:
    declined = decide_without_statement(HardshipCategory.UNEMPLOYMENT, (LETTER,), DEADLINE,
                                        DEADLINE + dt.timedelta(days=1))
    assert declined.outcome is Outcome.DECLINE
    assert declined.reasons[1].detail == (
        "deadline 2026-03-16 passed without: income_expenditure_statement, unemployment_registration")


def test_without_a_statement_or_a_deadline_the_lender_keeps_asking() -> None:
    asked = decide_without_statement(HardshipCategory.UNEMPLOYMENT, (), None, dt.date(2027, 1, 1))
    assert asked.outcome is Outcome.NEED_MORE_EVIDENCE


def test_a_supervisor_approves_the_named_offers_in_their_order_once_each() -> None:
    assert approved_ranks([1, 2, 3], [3, 1, 3], "dec-1") == (3, 1)
    assert approved_ranks([1, 2], None, "dec-1") == (1, 2)


@pytest.mark.parametrize(("offered", "chosen", "reason"), [
    ([1, 2], [4], "unknown_offer_rank"),
    ([1, 2], [], "unknown_offer_rank"),
    ([], None, "no_offers_to_approve"),
])
def test_a_supervisor_approves_only_offers_the_rules_made(offered: list[int], chosen: list[int] | None,
                                                          reason: str) -> None:
    with pytest.raises(Conflict) as refused:
        approved_ranks(offered, chosen, "dec-1")
    assert refused.value.reason == reason


def test_a_decided_review_is_not_decided_again_and_a_reason_is_written() -> None:
    check_open("rev-1", "open", None)
    with pytest.raises(Conflict, match=r"review rev-1 is decided \(decision dec-2\)"):
        check_open("rev-1", "decided", "dec-2")
    with pytest.raises(Unprocessable):
        written_reason(" \n ")
    assert written_reason("  documented  ") == "documented"


def test_intakes_word_that_the_deadline_passed_is_final_even_when_our_business_date_lags() -> None:
    today = dt.date(2026, 3, 10)
    assert deadline_as_seen(dt.date(2026, 3, 10), True, today) == dt.date(2026, 3, 9)  # the day before, at the latest
    assert deadline_as_seen(dt.date(2026, 3, 20), True, today) == dt.date(2026, 3, 9)
    assert deadline_as_seen(dt.date(2026, 3, 5), True, today) == dt.date(2026, 3, 5)
    assert deadline_as_seen(None, True, today) == dt.date(2026, 3, 9)
    assert deadline_as_seen(dt.date(2026, 3, 20), False, today) == dt.date(2026, 3, 20)
    assert deadline_as_seen(None, False, today) is None

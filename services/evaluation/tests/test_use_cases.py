"""Evaluation's use cases on a fake unit of work: what each one records and announces.

The borrower of ``builders.submitted``: disposable income 1900.00, affordable instalment
0.7 x 1900.00 = 1330.00 (demo policy); the waterfall's plan is 1328.13 a month over 46 months.
The loan has run 36 - 22 = 14 months, and the policy caps the whole term at 60 months.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from forbear_evaluation.service_layer import decisions
from forbear_evaluation.service_layer.decisions import DecideReview
from forbear_shared.auth import Principal
from forbear_shared.domain.policy import Policy
from forbear_shared.errors import Conflict, NotFound, Unprocessable
from forbear_shared.events import DecodedEvent, new_event
from forbear_shared.events.schemas.agreement import OfferCountered
from forbear_shared.events.schemas.intake import CasePersonalDataErased
from pydantic import BaseModel

from services.evaluation.tests.builders import AS_OF, submitted
from services.evaluation.tests.fakes import NOW, FakeRepository, FakeUnitOfWork

SUPERVISOR = Principal(subject="sup-li", role="supervisor")
LATER = AS_OF + dt.timedelta(days=10)


@pytest.fixture()
def repo(monkeypatch: pytest.MonkeyPatch) -> FakeRepository:
    fake = FakeRepository()
    monkeypatch.setattr(decisions, "repo", fake)
    return fake


@pytest.fixture()
def uow(policy: Policy) -> FakeUnitOfWork:
    return FakeUnitOfWork(policy, AS_OF)


def event(type: str, payload: BaseModel, *, case_id: str = "C1", on: dt.date = AS_OF,
          producer: str = "intake") -> DecodedEvent:
    envelope = new_event(type=type, payload=payload, case_id=case_id, business_date=on, producer=producer,
                         occurred_at=NOW)
    return DecodedEvent(envelope, payload, 1)


def submit(uow: FakeUnitOfWork, on: dt.date = AS_OF, **changes: Any) -> None:
    decisions.on_case_submitted(event("case.submitted", submitted(**changes), on=on), uow)


def counter(uow: FakeUnitOfWork, offer_id: str, **terms: Any) -> None:
    payload = OfferCountered(offer_id=offer_id, borrower_id="B1", countered_on=AS_OF, **terms)
    decisions.on_offer_countered(event("offer.countered", payload, producer="agreement"), uow)


def decided(uow: FakeUnitOfWork) -> list[dict[str, Any]]:
    return [e.payload for e in uow.emitted if e.type == "case.decided"]


def reason_details(payload: dict[str, Any]) -> dict[str, str]:
    return {r["code"]: r["detail"] for r in payload["reasons"]}


# -- submissions ---------------------------------------------------------------------------------

def test_a_complete_submission_is_approved_recorded_and_announced_in_one_transaction(
    repo: FakeRepository, uow: FakeUnitOfWork,
) -> None:
    submit(uow)
    [announced] = decided(uow)
    [stored] = repo.decisions_of("C1")
    assert uow.committed and repo.locks == ["C1"]
    assert (announced["outcome"], announced["decision_id"], announced["submission"]) == ("approve", stored.decision_id, 1)
    assert announced["offers"][0]["new_instalment"] == "1328.13" and announced["offers"][0]["term_months"] == 46
    assert stored.event_id == uow.emitted[0].event_id and stored.decided_on == AS_OF
    assert stored.decision_id.startswith("dec-")
    assert repo.cases["C1"]["first_decided_on"] == AS_OF


def test_the_decision_is_dated_by_the_later_of_our_business_date_and_the_submissions(
    repo: FakeRepository, uow: FakeUnitOfWork,
) -> None:
    submit(uow, on=LATER)  # intake has already seen close of business ten days on
    assert decided(uow)[0]["decided_on"] == LATER.isoformat()


def test_a_submission_no_newer_than_the_last_one_changes_nothing(repo: FakeRepository, uow: FakeUnitOfWork) -> None:
    submit(uow)
    submit(uow)  # the same submission 1 again
    assert len(decided(uow)) == 1 and len(repo.decisions) == 1


def test_a_submission_naming_another_borrower_is_refused(repo: FakeRepository, uow: FakeUnitOfWork) -> None:
    submit(uow)
    with pytest.raises(ValueError, match="borrower"):
        submit(uow, submission=2, borrower_id="B2",
               loans=[{**submitted().loans[0].model_dump(mode="json"), "borrower_id": "B2"}])
    assert not uow.committed


def test_without_a_statement_more_evidence_is_asked_and_no_offer_is_made(
    repo: FakeRepository, uow: FakeUnitOfWork,
) -> None:
    submit(uow, statement=None)
    [announced] = decided(uow)
    assert announced["outcome"] == "need_more_evidence" and announced["offers"] == []
    assert [r["code"] for r in announced["reasons"]] == ["statement_missing", "evidence_incomplete"]
    assert reason_details(announced)["evidence_incomplete"] == "missing: income_expenditure_statement"
    assert repo.cases["C1"]["first_decided_on"] is None  # asking for evidence is not a first decision


def test_without_a_statement_past_the_deadline_intake_declared_the_case_is_declined(
    repo: FakeRepository, uow: FakeUnitOfWork,
) -> None:
    submit(uow, statement=None, evidence_deadline="2026-03-10", evidence_deadline_passed=True)
    [announced] = decided(uow)
    assert announced["outcome"] == "decline"
    # intake's word is final: the deadline is taken as the day before our business date at the latest
    assert reason_details(announced)["evidence_deadline_expired"] == (
        "deadline 2026-03-09 passed without: income_expenditure_statement")


def test_a_case_for_a_supervisor_opens_one_review_and_a_new_submission_supersedes_it(
    repo: FakeRepository, uow: FakeUnitOfWork,
) -> None:
    submit(uow, history={"no_contact_delinquencies_24m": 2})
    [review] = repo.reviews.values()
    [rules] = repo.decisions
    assert rules.outcome == "needs_supervisor" and review["decision_id"] == rules.decision_id
    assert review["review_id"].startswith("rev-") and repo.audit[0]["action"] == "opened"

    submit(uow, submission=2)
    latest = repo.decisions[-1]
    assert latest.outcome == "approve"
    assert (review["status"], review["closed_on"]) == ("superseded", AS_OF)
    assert repo.audit[-1]["action"] == "superseded"
    assert repo.audit[-1]["after"] == {"status": "superseded", "by_decision_id": latest.decision_id}


def test_erasing_personal_data_drops_the_statement_and_the_appeal_grounds_and_keeps_the_decisions(
    repo: FakeRepository, uow: FakeUnitOfWork,
) -> None:
    submit(uow)
    repo.appeals["apl-1"] = {"case_id": "C1", "statement": "the borrower's own words about the hospital stay"}
    erased = CasePersonalDataErased(borrower_id="B1", closed_on=AS_OF, erased_on=LATER, policy_version="demo",
                                    rule="closed_cases", document_ids=["d1", "d2"], borrower_erased=False)
    decisions.on_personal_data_erased(event("case.personal_data_erased", erased), uow)
    assert repo.cases["C1"]["submitted"]["statement"] is None and len(repo.decisions) == 1
    assert repo.appeals["apl-1"]["statement"] is None  # an appeal's grounds go with the personal data


# -- counter-proposals ---------------------------------------------------------------------------

def test_a_counter_proposal_is_answered_naming_the_approval_whose_offer_it_counters(
    repo: FakeRepository, uow: FakeUnitOfWork,
) -> None:
    submit(uow)
    [approval] = repo.decisions
    counter(uow, "off-1", proposed_instalment=Decimal("1200.00"))  # below the 1328.13 offered
    met = decided(uow)[1]
    assert repo.locks == ["C1", "C1"]
    assert met["outcome"] == "approve"
    assert reason_details(met)["counter_proposal_met"].startswith(f"offer off-1 of decision {approval.decision_id}: ")
    [offer] = met["offers"]
    assert Decimal(offer["new_instalment"]) <= Decimal("1200.00")

    # the next counter answers an offer made from the decision that met the first one
    counter(uow, "off-2", proposed_term_months=60)  # 14 months run + 60 = 74 > the 60-month cap
    declined = decided(uow)[2]
    detail = reason_details(declined)["counter_proposal_declined"]
    assert detail.startswith(f"offer off-2 of decision {met['decision_id']}: ")
    assert "max_total_term_months" in detail and "74 months" in detail
    assert declined["offers"][0]["new_instalment"] == "1328.13"  # the lender's own plans are offered again


def test_a_counter_on_a_case_without_a_statement_is_declined_for_it(repo: FakeRepository, uow: FakeUnitOfWork) -> None:
    submit(uow, statement=None)
    counter(uow, "off-1", proposed_term_months=40)
    answer = decided(uow)[1]
    assert answer["outcome"] == "need_more_evidence"
    # no approval yet: there is no decision to name
    assert reason_details(answer)["counter_proposal_declined"] == "offer off-1: no statement"


def test_a_counter_on_a_case_never_submitted_here_is_refused(repo: FakeRepository, uow: FakeUnitOfWork) -> None:
    with pytest.raises(NotFound):
        counter(uow, "off-1", proposed_term_months=40)
    assert uow.emitted == []


# -- supervisor review ---------------------------------------------------------------------------

def routed_to_a_supervisor(uow: FakeUnitOfWork, repo: FakeRepository) -> str:
    submit(uow, history={"no_contact_delinquencies_24m": 2})
    [review_id] = repo.reviews
    return review_id


def test_a_supervisor_approves_the_named_offer_with_a_written_reason(repo: FakeRepository, uow: FakeUnitOfWork) -> None:
    review_id = routed_to_a_supervisor(uow, repo)
    [rules] = repo.decisions
    answer = decisions.decide_review(
        DecideReview(review_id, "approve", "  hospital stay documented  ", SUPERVISOR, (1,)), uow)
    stored = repo.decisions[-1]
    assert uow.committed
    assert (answer.decision_id, answer.outcome, answer.decided_by) == (stored.decision_id, "approve", "supervisor")
    assert (answer.decided_by_subject, answer.override_reason) == ("sup-li", "hospital stay documented")
    assert answer.supersedes_decision_id == rules.decision_id and [o.rank for o in answer.offers] == [1]
    assert answer.offers[0].new_instalment == Decimal("1328.13")
    announced = decided(uow)[-1]
    assert (announced["decided_by"], announced["override_reason"]) == ("supervisor", "hospital stay documented")
    assert "supervisor_approved" in reason_details(announced)
    review = repo.reviews[review_id]
    assert (review["status"], review["outcome_decision_id"]) == ("decided", stored.decision_id)
    audit = repo.audit[-1]
    assert (audit["action"], audit["actor_subject"], audit["actor_role"]) == ("approved", "sup-li", "supervisor")
    assert audit["before"]["outcome"] == "needs_supervisor" and audit["after"]["decision_id"] == stored.decision_id


def test_a_supervisor_decline_makes_no_offer(repo: FakeRepository, uow: FakeUnitOfWork) -> None:
    review_id = routed_to_a_supervisor(uow, repo)
    answer = decisions.decide_review(DecideReview(review_id, "decline", "income hidden", SUPERVISOR), uow)
    assert answer.outcome == "decline" and answer.offers == []
    assert repo.audit[-1]["after"]["offer_ranks"] == []


def test_a_review_is_decided_once(repo: FakeRepository, uow: FakeUnitOfWork) -> None:
    review_id = routed_to_a_supervisor(uow, repo)
    first = decisions.decide_review(DecideReview(review_id, "approve", "documented", SUPERVISOR), uow)
    with pytest.raises(Conflict) as refused:
        decisions.decide_review(DecideReview(review_id, "decline", "changed my mind", SUPERVISOR), uow)
    assert refused.value.reason == "review_decided" and first.decision_id in refused.value.message


def test_a_supervisor_decision_needs_a_reason_and_offers_of_the_rules_decision(
    repo: FakeRepository, uow: FakeUnitOfWork,
) -> None:
    review_id = routed_to_a_supervisor(uow, repo)
    with pytest.raises(Unprocessable) as blank:
        decisions.decide_review(DecideReview(review_id, "approve", "   ", SUPERVISOR), uow)
    assert blank.value.reason == "reason_required"
    with pytest.raises(Conflict) as unknown:
        decisions.decide_review(DecideReview(review_id, "approve", "documented", SUPERVISOR, (9,)), uow)
    assert unknown.value.reason == "unknown_offer_rank"
    with pytest.raises(NotFound):
        decisions.decide_review(DecideReview("rev-unknown", "approve", "documented", SUPERVISOR), uow)
    assert repo.reviews[review_id]["status"] == "open"

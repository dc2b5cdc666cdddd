"""Intake's use cases against an in-memory repository and a unit of work that collects events:
the rules they apply, and that a refusal writes and announces nothing."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from forbear_intake.adapters.evidence_store import StagedUpload
from forbear_intake.bootstrap import Intake
from forbear_intake.domain.loan_records import LoanSource
from forbear_intake.service_layer import cases, contacts, evidence, representatives
from forbear_intake.service_layer.commands import (
    AuthoriseRepresentative,
    ContactIn,
    NewCase,
    OpenCase,
    RecordContact,
    RepresentativeIn,
    ReviewEvidence,
    ReviewIn,
    RevokeRepresentative,
    UploadEvidence,
)
from forbear_shared.auth import Principal
from forbear_shared.errors import Conflict, Forbidden, NotFound, Unprocessable
from forbear_shared.events.schemas.common import LoanSnapshot

TODAY = dt.date(2026, 3, 2)
AGENT = Principal(subject="agent-1", role="agent")
BORROWER = Principal(subject="b-1", role="borrower", borrower_id="B-1")


def loan(loan_id: str, borrower_id: str = "B-1", **changes: Any) -> LoanSnapshot:
    return LoanSnapshot.model_validate({
        "loan_id": loan_id, "borrower_id": borrower_id, "original_principal": "60000.00",
        "outstanding_principal": "42000.00", "annual_rate": "0.0800", "original_term_months": 36,
        "remaining_term_months": 20, "contractual_instalment": "1880.22", "as_of": TODAY.isoformat(), **changes,
    })


def open_request(**changes: Any) -> OpenCase:
    return OpenCase.model_validate({"borrower": {"borrower_id": "B-1"}, "hardship_category": "unemployment",
                                    "channel": "phone", "loan_ids": ["L-1"], **changes})


def open_case(intake: Intake, request: OpenCase, who: Principal = AGENT) -> tuple[Any, Any]:
    uow = intake.unit_of_work_at(TODAY)
    return cases.open_case(NewCase(request, who), uow), uow


# -- opening a case: whose loans -----------------------------------------------------------------


def test_a_case_naming_another_borrowers_loan_is_refused_and_nothing_is_written(intake, repo):
    repo.loans["L-9"] = (loan("L-9", borrower_id="B-2"), LoanSource.COREBANKING)
    with pytest.raises(Conflict) as refused:
        open_case(intake, open_request(loan_ids=["L-9"]))
    assert refused.value.reason == "loan_of_another_borrower"
    assert repo.cases == {} and repo.borrowers == {}


def test_a_loan_named_by_id_that_nobody_told_intake_about_is_refused(intake, repo):
    with pytest.raises(Conflict) as refused:
        open_case(intake, open_request(loan_ids=["L-404"]))
    assert refused.value.reason == "unknown_loan"


def test_a_borrower_opens_cases_only_for_themself(intake, repo):
    repo.loans["L-1"] = (loan("L-1", borrower_id="B-2"), LoanSource.COREBANKING)
    with pytest.raises(Forbidden) as refused:
        open_case(intake, open_request(borrower={"borrower_id": "B-2"}), who=BORROWER)
    assert refused.value.reason == "not_own_borrower"


def test_a_case_needs_a_loan(intake, repo):
    with pytest.raises(Unprocessable) as refused:
        open_case(intake, open_request(loan_ids=[]))
    assert refused.value.reason == "no_loans"


def test_a_declaration_never_replaces_core_bankings_record_and_a_new_one_is_stored(intake, repo):
    repo.loans["L-1"] = (loan("L-1", days_past_due=40), LoanSource.COREBANKING)
    declared_again = loan("L-1", outstanding_principal="1.00", days_past_due=5).model_dump(mode="json")
    new = loan("L-3", days_past_due=75).model_dump(mode="json")
    view, uow = open_case(intake, open_request(loan_ids=["L-1"], loans=[declared_again, new]))
    assert repo.loans["L-1"][1] is LoanSource.COREBANKING
    assert str(repo.loans["L-1"][0].outstanding_principal) == "42000.00"
    assert repo.loans["L-3"][1] is LoanSource.CASE
    # the DPD at first contact defaults to the largest of the case's loans: 75 (L-3), not L-1's 40
    assert view.dpd_at_first_contact == 75
    opened = next(a for a in repo.audits if a["action"] == "case_opened")
    assert opened["detail"]["declared_loan_ids"] == ["L-3"]


def test_a_case_opened_asks_for_the_hardships_evidence_within_fourteen_days(intake, repo):
    repo.loans["L-1"] = (loan("L-1", days_past_due=40), LoanSource.COREBANKING)
    view, uow = open_case(intake, open_request())
    assert uow.committed
    assert [e.type for e in uow.emitted] == ["case.opened", "evidence.requested"]
    requested = uow.emitted[1]
    assert requested.causation is uow.emitted[0]
    # policy evidence.deadline_days = 14: 2 March + 14 days
    assert requested.payload.deadline == dt.date(2026, 3, 16) == view.evidence_deadline
    assert requested.payload.missing_document_types == ["termination_letter", "unemployment_registration"]
    assert view.status == "awaiting_evidence" and view.dpd_at_first_contact == 40


# -- opening a case that renegotiates an agreement ----------------------------------------------


def with_agreement(repo: Any, renegotiated_on: dt.date | None) -> None:
    repo.loans["L-1"] = (loan("L-1"), LoanSource.COREBANKING)
    repo.agreements["A-1"] = {"agreement_id": "A-1", "case_id": "C-0", "borrower_id": "B-1"}
    if renegotiated_on is not None:
        repo.renegotiations.append(("C-old", "A-1", renegotiated_on))


def test_an_agreement_renegotiated_eleven_months_ago_cannot_be_renegotiated_again(intake, repo):
    # policy renegotiation: at most 1 in any 12 months
    with_agreement(repo, dt.date(2025, 4, 2))
    with pytest.raises(Conflict) as refused:
        open_case(intake, open_request(renegotiates_agreement_id="A-1"))
    assert refused.value.reason == "renegotiation_limit"
    assert repo.cases == {}


def test_an_agreement_renegotiated_twelve_months_ago_may_be_again(intake, repo):
    with_agreement(repo, dt.date(2025, 3, 2))
    _view, uow = open_case(intake, open_request(renegotiates_agreement_id="A-1"))
    assert [e.type for e in uow.emitted] == ["case.opened", "evidence.requested", "renegotiation.requested"]
    assert ("A-1", TODAY) in [(a, on) for _c, a, on in repo.renegotiations]


def test_another_borrowers_agreement_is_unknown_to_the_case(intake, repo):
    with_agreement(repo, None)
    repo.agreements["A-1"]["borrower_id"] = "B-2"
    with pytest.raises(Unprocessable) as refused:
        open_case(intake, open_request(renegotiates_agreement_id="A-1"))
    assert refused.value.reason == "unknown_agreement"


# -- contacts ----------------------------------------------------------------------------------


def opened(intake: Intake, repo) -> str:
    repo.loans["L-1"] = (loan("L-1"), LoanSource.COREBANKING)
    view, _uow = open_case(intake, open_request())
    return str(view.case_id)


def contact(intake: Intake, case_id: str, local_time: str, **changes: Any) -> tuple[Any, Any]:
    uow = intake.unit_of_work_at(TODAY)
    body = ContactIn.model_validate({"party": "borrower", "channel": "phone", "local_time": local_time, **changes})
    return contacts.record_contact(RecordContact(case_id, body, AGENT), uow), uow


def test_a_call_at_nine_in_the_evening_is_recorded_and_announced_as_refused(intake, repo):
    case_id = opened(intake, repo)
    # contact hours are 08:00 to 21:00, half-open: 21:00 is outside
    answer, uow = contact(intake, case_id, "21:00")
    assert answer.outcome == "refused" and answer.refusal_reasons == ["outside_contact_hours"]
    assert uow.committed and [e.type for e in uow.emitted] == ["contact.recorded"]
    assert uow.emitted[0].payload.refusal_reason == "outside_contact_hours"
    assert [c["outcome"] for c in repo.contacts] == ["refused"]


def test_the_eighth_outbound_attempt_in_seven_days_is_refused(intake, repo):
    case_id = opened(intake, repo)
    for hour in range(9, 16):  # seven allowed attempts today
        assert contact(intake, case_id, f"{hour:02d}:00")[0].outcome == "allowed"
    answer, _uow = contact(intake, case_id, "16:00")
    assert answer.refusal_reasons == ["too_many_attempts"]


def test_a_borrower_calling_in_late_is_logged_as_allowed(intake, repo):
    case_id = opened(intake, repo)
    answer, _uow = contact(intake, case_id, "23:30", direction="inbound")
    assert answer.outcome == "allowed"


def test_a_borrower_cannot_reach_another_borrowers_case(intake, repo):
    repo.loans["L-1"] = (loan("L-1", borrower_id="B-2"), LoanSource.COREBANKING)
    view, _uow = open_case(intake, open_request(borrower={"borrower_id": "B-2"}))
    uow = intake.unit_of_work_at(TODAY)
    body = ContactIn.model_validate({"party": "borrower", "channel": "phone", "local_time": "10:00"})
    with pytest.raises(NotFound):
        contacts.record_contact(RecordContact(view.case_id, body, BORROWER), uow)


# -- evidence ----------------------------------------------------------------------------------

PDF = b"%PDF-1.7\n" + b"x" * 100


def upload(intake: Intake, case_id: str, document_type: str) -> Any:
    staged = StagedUpload.read(io.BytesIO(PDF), intake.max_evidence_bytes)
    cmd = UploadEvidence(case_id, document_type, staged, "application/pdf", "letter.pdf", AGENT)
    return evidence.upload_evidence(cmd, intake.unit_of_work_at(TODAY))


def review(intake: Intake, case_id: str, document_id: str, outcome: str, reason: str | None = None
           ) -> tuple[Any, Any]:
    uow = intake.unit_of_work_at(TODAY)
    body = ReviewIn.model_validate({"outcome": outcome, "reason": reason})
    return evidence.review_evidence(ReviewEvidence(case_id, document_id, body, AGENT), uow), uow


def test_evidence_uploaded_waits_for_review_then_the_case_is_ready(intake, repo):
    case_id = opened(intake, repo)
    letter = upload(intake, case_id, "termination_letter")
    registration = upload(intake, case_id, "unemployment_registration")
    assert repo.cases[case_id]["status"] == "evidence_to_review"
    review(intake, case_id, letter.document_id, "accept")
    assert repo.cases[case_id]["status"] == "evidence_to_review"  # one still waits for review
    _answer, uow = review(intake, case_id, registration.document_id, "accept")
    assert repo.cases[case_id]["status"] == "ready_to_submit"
    assert [e.type for e in uow.emitted] == ["evidence.reviewed"]


def test_the_last_missing_document_accepted_sends_the_case_back_to_evaluation(intake, repo):
    case_id = opened(intake, repo)
    letter = upload(intake, case_id, "termination_letter")
    review(intake, case_id, letter.document_id, "accept")
    # evaluation heard a first submission and asked for more evidence
    repo.cases[case_id].update(submissions=1, awaiting_more_evidence=True)
    registration = upload(intake, case_id, "unemployment_registration")
    _answer, uow = review(intake, case_id, registration.document_id, "accept")
    assert [e.type for e in uow.emitted] == ["evidence.reviewed", "case.submitted"]
    submitted = uow.emitted[1]
    assert submitted.causation is uow.emitted[0]
    assert submitted.payload.submission == 2 and not submitted.payload.evidence_deadline_passed
    assert [d.status for d in submitted.payload.evidence] == ["accepted", "accepted"]
    assert repo.cases[case_id]["status"] == "under_evaluation"
    assert repo.cases[case_id]["awaiting_more_evidence"] is False


def test_a_document_is_reviewed_once(intake, repo):
    case_id = opened(intake, repo)
    letter = upload(intake, case_id, "termination_letter")
    review(intake, case_id, letter.document_id, "reject", "illegible")
    with pytest.raises(Conflict) as refused:
        review(intake, case_id, letter.document_id, "accept")
    assert refused.value.reason == "already_reviewed"


# -- representatives ---------------------------------------------------------------------------


def authorise(intake: Intake, case_id: str, document_id: str, who: Principal = AGENT, **changes: Any) -> tuple[Any, Any]:
    uow = intake.unit_of_work_at(TODAY)
    body = RepresentativeIn.model_validate({"kind": "lawyer", "name": "李律师", "channel": "phone",
                                            "scopes": ["communications"], "ends_on": "2026-06-30",
                                            "document_id": document_id, **changes})
    return representatives.authorise_representative(AuthoriseRepresentative(case_id, body, who), uow), uow


def test_an_authorisation_is_recorded_announced_without_the_name_and_shown_masked(intake, repo):
    case_id = opened(intake, repo)
    document = upload(intake, case_id, "representative_authorisation")
    view, uow = authorise(intake, case_id, document.document_id)
    assert view.name == "李**" and view.masked and view.active and view.communicates
    assert view.starts_on == TODAY  # no start given: the business date it is recorded on
    assert [e.type for e in uow.emitted] == ["representative.authorised"]
    assert "李" not in uow.emitted[0].payload.model_dump_json()
    assert not any("李" in str(a["detail"]) for a in repo.audits)
    # the next contact follows it: the lender calls the lawyer, not the borrower
    through, _ = contact(intake, case_id, "10:00", party="representative", representative_id=view.representative_id)
    direct, _ = contact(intake, case_id, "10:30")
    assert through.outcome == "allowed" and through.representative_id == view.representative_id
    assert direct.refusal_reasons == ["represented_borrower"]


def test_an_authorisation_needs_an_authorisation_document_of_the_same_case(intake, repo):
    case_id = opened(intake, repo)
    letter = upload(intake, case_id, "termination_letter")
    with pytest.raises(Unprocessable) as refused:
        authorise(intake, case_id, letter.document_id)
    assert refused.value.reason == "authorisation_document_not_found"
    with pytest.raises(Unprocessable) as refused:
        authorise(intake, case_id, "D-of-another-case")
    assert refused.value.reason == "authorisation_document_not_found"
    assert repo.representatives == []


def test_a_rejected_authorisation_document_authorises_nobody(intake, repo):
    case_id = opened(intake, repo)
    document = upload(intake, case_id, "representative_authorisation")
    review(intake, case_id, document.document_id, "reject", "unsigned")
    with pytest.raises(Unprocessable) as refused:
        authorise(intake, case_id, document.document_id)
    assert refused.value.reason == "authorisation_document_rejected"


def test_a_revocation_takes_effect_for_the_very_next_contact_and_is_recorded_once(intake, repo):
    case_id = opened(intake, repo)
    view, _ = authorise(intake, case_id, upload(intake, case_id, "representative_authorisation").document_id)
    uow = intake.unit_of_work_at(TODAY)
    revoked = representatives.revoke_representative(RevokeRepresentative(case_id, view.representative_id, AGENT), uow)
    assert revoked.revoked_on == TODAY and not revoked.active
    assert [e.type for e in uow.emitted] == ["representative.revoked"]
    through, _ = contact(intake, case_id, "10:00", party="representative", representative_id=view.representative_id)
    direct, _ = contact(intake, case_id, "10:30")
    assert through.refusal_reasons == ["representative_not_authorised"] and direct.outcome == "allowed"
    with pytest.raises(Conflict):
        representatives.revoke_representative(RevokeRepresentative(case_id, view.representative_id, AGENT),
                                              intake.unit_of_work_at(TODAY))


def test_a_contact_with_a_representative_names_which_one(intake, repo):
    case_id = opened(intake, repo)
    with pytest.raises(Unprocessable) as refused:
        contact(intake, case_id, "10:00", party="representative")
    assert refused.value.reason == "representative_id_required"
    with pytest.raises(Unprocessable) as refused:
        contact(intake, case_id, "10:00", representative_id="R-1")
    assert refused.value.reason == "representative_id_without_representative"
    assert repo.contacts == []


def test_a_representative_whose_authorisation_is_rejected_on_review_is_no_longer_contacted(intake, repo):
    case_id = opened(intake, repo)
    document = upload(intake, case_id, "representative_authorisation")
    view, _ = authorise(intake, case_id, document.document_id)
    assert view.document_status == "pending" and view.communicates  # pending review: it counts
    review(intake, case_id, document.document_id, "reject", "signature does not match")
    through, _ = contact(intake, case_id, "10:00", party="representative", representative_id=view.representative_id)
    direct, _ = contact(intake, case_id, "10:30")
    assert through.refusal_reasons == ["representative_not_authorised"] and direct.outcome == "allowed"

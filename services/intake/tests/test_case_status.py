
import pytest
from forbear_intake.domain.case_status import CaseStatus, gathering_status, may_submit, status_after_decision
from forbear_shared.domain.hardship import DocumentType, EvidenceDocument, ReviewStatus, evidence_completeness
from forbear_shared.policy_loader import load_policy


@pytest.fixture(scope="module")
def policy():
    return load_policy()


def completeness(*docs):
    return evidence_completeness("unemployment", [EvidenceDocument(t, s, "unreadable" if s == "rejected" else None)
                                                  for t, s in docs])


def test_a_new_case_awaits_its_evidence():
    assert gathering_status(completeness()) is CaseStatus.AWAITING_EVIDENCE


def test_an_uploaded_document_puts_the_case_in_the_review_queue():
    c = completeness((DocumentType.TERMINATION_LETTER, ReviewStatus.PENDING))
    assert gathering_status(c) is CaseStatus.EVIDENCE_TO_REVIEW


def test_every_required_document_accepted_makes_the_case_ready():
    c = completeness((DocumentType.TERMINATION_LETTER, ReviewStatus.ACCEPTED),
                     (DocumentType.UNEMPLOYMENT_REGISTRATION, ReviewStatus.ACCEPTED))
    assert gathering_status(c) is CaseStatus.READY_TO_SUBMIT


def test_a_request_for_more_evidence_sends_the_case_back_to_gathering():
    assert status_after_decision("need_more_evidence", completeness()) is CaseStatus.AWAITING_EVIDENCE
    assert status_after_decision("approve", completeness()) is CaseStatus.APPROVED
    assert status_after_decision("decline", completeness()) is CaseStatus.DECLINED


def test_a_case_under_evaluation_or_closed_cannot_be_submitted():
    assert may_submit(CaseStatus.AWAITING_EVIDENCE)
    assert not may_submit(CaseStatus.UNDER_EVALUATION)
    assert not may_submit(CaseStatus.DECLINED)


def test_the_evidence_deadline_counts_in_the_policys_unit(policy):
    from datetime import date

    from forbear_intake.domain.case_status import evidence_deadline
    from forbear_shared.domain.working_days import DayUnit

    # demo: 14 calendar days; opened Mon 28 Sep 2026 -> Mon 12 Oct
    assert evidence_deadline(date(2026, 9, 28), policy) == date(2026, 10, 12)
    units = policy.calendar.units.model_copy(update={"evidence_deadline": DayUnit.WORKING})
    working = policy.model_copy(update={"calendar": policy.calendar.model_copy(update={"units": units})})
    # 14 working days over National Day: 29, 30 Sep, [1-7 Oct closed], 8, 9, 10 (Sat, make-up day),
    # 12-16, 19-22 Oct -> Thu 22 Oct
    assert evidence_deadline(date(2026, 9, 28), working) == date(2026, 10, 22)

"""Where a case stands, in the words of the operations queues.

Before a decision the status follows the evidence: ``awaiting_evidence`` while a required
document is neither accepted nor waiting for review, ``evidence_to_review`` while the
reviewers have work, ``ready_to_submit`` when every required document is accepted. After a
submission evaluation owns the case until it decides; its decision and then the agreement
service's events move it on.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from forbear_shared.domain.hardship import EvidenceCompleteness
from forbear_shared.domain.policy import Policy


class CaseStatus(StrEnum):
    AWAITING_EVIDENCE = "awaiting_evidence"
    EVIDENCE_TO_REVIEW = "evidence_to_review"
    READY_TO_SUBMIT = "ready_to_submit"
    UNDER_EVALUATION = "under_evaluation"
    NEEDS_SUPERVISOR = "needs_supervisor"
    APPROVED = "approved"
    OFFER_ACCEPTED = "offer_accepted"
    AGREEMENT_ACTIVE = "agreement_active"
    COMPLETED = "completed"
    LEGAL_REFERRAL = "legal_referral"
    DECLINED = "declined"


#: statuses in which the borrower still builds the case (evidence, statement, submission)
GATHERING = frozenset({CaseStatus.AWAITING_EVIDENCE, CaseStatus.EVIDENCE_TO_REVIEW, CaseStatus.READY_TO_SUBMIT})
#: statuses after which nothing about the request can change any more
CLOSED = frozenset({CaseStatus.DECLINED, CaseStatus.COMPLETED, CaseStatus.LEGAL_REFERRAL})

_DECIDED = {
    "approve": CaseStatus.APPROVED,
    "needs_supervisor": CaseStatus.NEEDS_SUPERVISOR,
    "decline": CaseStatus.DECLINED,
}


def gathering_status(completeness: EvidenceCompleteness) -> CaseStatus:
    """The status of a case still gathering evidence."""
    if completeness.is_complete:
        return CaseStatus.READY_TO_SUBMIT
    if completeness.pending:
        return CaseStatus.EVIDENCE_TO_REVIEW
    return CaseStatus.AWAITING_EVIDENCE


def status_after_decision(outcome: str, completeness: EvidenceCompleteness) -> CaseStatus:
    """A decision asking for more evidence sends the case back to gathering."""
    if outcome == "need_more_evidence":
        return gathering_status(completeness)
    return _DECIDED[outcome]


def may_submit(status: CaseStatus) -> bool:
    return status in GATHERING


def may_add_evidence(status: CaseStatus) -> bool:
    return status not in CLOSED


def resubmits_on_evidence(status: CaseStatus, awaiting_more_evidence: bool, completeness: EvidenceCompleteness) -> bool:
    """Evaluation asked for more evidence and now has all of it: the case goes back to
    evaluation at once, without waiting for the borrower to submit again."""
    return status in GATHERING and awaiting_more_evidence and completeness.is_complete


def evidence_deadline(opened_on: date, policy: Policy) -> date:
    """The last day to provide the requested documents: ``evidence.deadline_days`` after the
    case opened, in the policy's unit (``calendar.units.evidence_deadline``; working days in
    the demo: employers, hospitals and courts that issue the documents close on holidays)."""
    unit = policy.calendar.units.evidence_deadline
    return policy.working_calendar.add(opened_on, policy.evidence.deadline_days, unit)

"""When a case's personal data and evidence may be erased: the lender's retention rule.

A closed case (declined, or its agreement completed) keeps them for the policy's years after
the business date it closed on; then they are erased. A case referred to legal is on legal
hold: never erased while it is referred, however old. Dates are business dates.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from forbear_shared.domain.calendar import add_days, add_months
from forbear_shared.domain.policy import RetentionPolicy

from forbear_intake.domain.case_status import CLOSED, CaseStatus

#: closed and not on legal hold: the statuses whose cases are erased once their retention ran out
ERASABLE = frozenset(CLOSED - {CaseStatus.LEGAL_REFERRAL})

#: the rule recorded with every erasure (beside the policy version)
RULE = "closed_case_retention"

#: a case's fields that describe the person, erased; the rest (hardship, channel, DPD, dates,
#: status, decisions, the audit of the lender's conduct) is what the statistics keep
CASE_FIELDS = ("story", "statement")
CONTACT_FIELDS = ("note",)
DOCUMENT_FIELDS = ("file", "original_filename")
BORROWER_FIELDS = ("name", "national_id", "phone")
#: a representative's name; what the authorisation was (kind, scope, dates, document) is kept
REPRESENTATIVE_FIELDS = ("name",)


class Erasure(StrEnum):
    DUE = "due"
    ALREADY_ERASED = "already_erased"
    LEGAL_HOLD = "legal_hold"
    CASE_OPEN = "case_open"
    RETENTION_RUNNING = "retention_running"


def erasure_due_on(closed_on: date, policy: RetentionPolicy) -> date:
    return add_months(closed_on, 12 * policy.personal_data_years)


def erasure(status: CaseStatus, closed_on: date | None, erased_on: date | None, today: date,
            policy: RetentionPolicy) -> Erasure:
    """Whether the case's personal data is to be erased on business date ``today``, or why not."""
    if erased_on is not None:
        return Erasure.ALREADY_ERASED
    if status is CaseStatus.LEGAL_REFERRAL:
        return Erasure.LEGAL_HOLD
    if status not in CLOSED or closed_on is None:
        return Erasure.CASE_OPEN
    if today < erasure_due_on(closed_on, policy):
        return Erasure.RETENTION_RUNNING
    return Erasure.DUE


def candidates_closed_by(today: date, policy: RetentionPolicy) -> date:
    """Cases closed on or before this date may be due on ``today`` (a few days more than exact,
    for month ends; ``erasure`` decides each)."""
    return add_days(add_months(today, -12 * policy.personal_data_years), 3)

"""What intake answers: cases, documents, contacts, timelines, with personal data masked.

Only supervisors see a borrower's personal data in clear (see ``domain.masking``); every
other role, the borrower included, sees it masked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from forbear_shared.auth import Principal
from forbear_shared.events.schemas.common import LoanSnapshot
from forbear_shared.events.schemas.intake import BorrowerHistory, Statement
from pydantic import BaseModel

from forbear_intake.domain.masking import mask_name, mask_national_id, mask_phone

Row = dict[str, Any]


class BorrowerView(BaseModel):
    borrower_id: str
    name: str | None = None
    national_id: str | None = None
    phone: str | None = None
    masked: bool


class DocumentView(BaseModel):
    document_id: str
    case_id: str
    document_type: str
    media_type: str
    size_bytes: int
    sha256: str
    status: str
    rejection_reason: str | None = None
    found_false: bool = False
    uploaded_on: dt.date
    reviewed_on: dt.date | None = None
    reviewed_by: str | None = None


class ContactView(BaseModel):
    contact_id: str
    case_id: str
    party: str
    channel: str
    direction: str
    on: dt.date
    local_time: str
    outcome: str
    refusal_reasons: list[str]
    note: str | None = None
    recorded_by: str


class TimelineEntry(BaseModel):
    at: dt.datetime
    business_date: dt.date
    actor: str
    actor_role: str
    action: str
    reason: str | None = None
    detail: dict[str, Any]


class EvidenceSummary(BaseModel):
    required: list[str]
    accepted: list[str]
    missing: list[str]
    pending: list[str]
    complete: bool


class CaseSummary(BaseModel):
    case_id: str
    borrower_id: str
    hardship_category: str
    channel: str
    status: str
    dpd_at_first_contact: int
    opened_on: dt.date
    evidence_deadline: dt.date
    submissions: int
    last_outcome: str | None = None
    renegotiates_agreement_id: str | None = None


class CaseView(CaseSummary):
    borrower: BorrowerView
    story: str
    loans: list[LoanSnapshot]
    statement: Statement | None = None
    history: BorrowerHistory
    evidence: EvidenceSummary
    documents: list[DocumentView]
    contacts: list[ContactView]
    timeline: list[TimelineEntry]


def borrower_view(row: Row | None, borrower_id: str, who: Principal) -> BorrowerView:
    row = row or {}
    if who.role == "supervisor":
        return BorrowerView(borrower_id=borrower_id, name=row.get("name"), national_id=row.get("national_id"),
                            phone=row.get("phone"), masked=False)
    return BorrowerView(borrower_id=borrower_id, name=mask_name(row.get("name")),
                        national_id=mask_national_id(row.get("national_id")), phone=mask_phone(row.get("phone")),
                        masked=True)


def case_summary(row: Row) -> CaseSummary:
    return CaseSummary.model_validate({k: row[k] for k in CaseSummary.model_fields})


def document_view(row: Row) -> DocumentView:
    return DocumentView.model_validate({k: row.get(k) for k in DocumentView.model_fields})


def contact_view(row: Row) -> ContactView:
    return ContactView(
        contact_id=row["contact_id"], case_id=row["case_id"], party=row["party"], channel=row["channel"],
        direction=row["direction"], on=row["on_date"], local_time=row["local_time"].strftime("%H:%M"),
        outcome=row["outcome"], refusal_reasons=list(row["refusal_reasons"]), note=row["note"],
        recorded_by=row["recorded_by"],
    )


def timeline_entry(row: Row) -> TimelineEntry:
    return TimelineEntry.model_validate({k: row[k] for k in TimelineEntry.model_fields})

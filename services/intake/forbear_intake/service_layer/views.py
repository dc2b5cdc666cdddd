"""What intake answers: cases, documents, contacts, timelines, with personal data masked.

Only supervisors see a borrower's personal data in clear (see ``domain.masking``); every
other role, the borrower included, sees it masked. The reads the API serves are the
functions at the end, ``read(uow, ...)``: each opens its own transaction (``with uow:``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import psycopg
from forbear_shared.auth import Principal, visible
from forbear_shared.domain.hardship import (
    DocumentType,
    EvidenceCompleteness,
    EvidenceDocument,
    ReviewStatus,
    evidence_completeness,
)
from forbear_shared.domain.policy import RepresentativeKind
from forbear_shared.errors import ForbearError
from forbear_shared.events.schemas.common import LoanSnapshot
from forbear_shared.events.schemas.intake import BorrowerHistory, Statement
from forbear_shared.unit_of_work import UnitOfWork
from pydantic import BaseModel

from forbear_intake.adapters import repository as repo
from forbear_intake.domain.case_status import CaseStatus
from forbear_intake.domain.masking import mask_name, mask_national_id, mask_phone
from forbear_intake.domain.representatives import Representative, RepresentativeScope

if TYPE_CHECKING:
    from forbear_intake.bootstrap import Intake

Row = dict[str, Any]


class EvidenceErased(ForbearError):
    """The document's file was erased under the retention policy; its record remains."""

    status_code = 410


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
    #: the agent or system that recorded it: the lender's own record, for staff and systems
    recorded_by: str | None = None
    #: the representative the contact went through (party ``representative``)
    representative_id: str | None = None


class RepresentativeView(BaseModel):
    representative_id: str
    case_id: str
    kind: str
    #: masked for every role but supervisor, like the borrower's
    name: str | None = None
    masked: bool
    channel: str
    scopes: list[str]
    starts_on: dt.date
    ends_on: dt.date
    document_id: str
    #: the authorisation document's review: pending, accepted, or rejected (then not active)
    document_status: str
    authorised_by: str
    authorised_on: dt.date
    revoked_on: dt.date | None = None
    revoked_by: str | None = None
    #: the lender communicates through this representative on the business date
    communicates: bool
    #: authorised, not revoked, and the business date within [starts_on, ends_on]
    active: bool


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
    representatives: list[RepresentativeView] = []
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


def contact_view(row: Row, who: Principal | None = None) -> ContactView:
    """A contact as ``who`` may see it: a borrower reads their own log without the staff's names."""
    return ContactView(
        contact_id=row["contact_id"], case_id=row["case_id"], party=row["party"], channel=row["channel"],
        direction=row["direction"], on=row["on_date"], local_time=row["local_time"].strftime("%H:%M"),
        outcome=row["outcome"], refusal_reasons=list(row["refusal_reasons"]), note=row["note"],
        recorded_by=row["recorded_by"] if who is None or who.role != "borrower" else None,
        representative_id=row.get("representative_id"),
    )


def representative(row: Row) -> Representative:
    """The authorisation as the rules see it (no name)."""
    return Representative(
        representative_id=row["representative_id"], kind=RepresentativeKind(row["kind"]),
        scopes=frozenset(RepresentativeScope(s) for s in row["scopes"]), starts_on=row["starts_on"],
        ends_on=row["ends_on"], revoked_on=row["revoked_on"], document_rejected=row["document_status"] == "rejected",
    )


def representative_view(row: Row, who: Principal, today: dt.date) -> RepresentativeView:
    rep = representative(row)
    clear = who.role == "supervisor"
    return RepresentativeView(
        representative_id=row["representative_id"], case_id=row["case_id"], kind=row["kind"],
        name=row["name"] if clear else mask_name(row["name"]), masked=not clear, channel=row["channel"],
        scopes=list(row["scopes"]), starts_on=row["starts_on"], ends_on=row["ends_on"],
        document_id=row["document_id"], document_status=row["document_status"], authorised_by=row["authorised_by"], authorised_on=row["authorised_on"],
        revoked_on=row["revoked_on"], revoked_by=row["revoked_by"], communicates=rep.communicates_on(today),
        active=rep.is_active(today),
    )


def timeline_entry(row: Row) -> TimelineEntry:
    return TimelineEntry.model_validate({k: row[k] for k in TimelineEntry.model_fields})


def case_view_of(conn: psycopg.Connection, case: Row, who: Principal, today: dt.date) -> CaseView:
    """The case as ``who`` may see it, with what ``conn``'s transaction holds of it."""
    case_id = case["case_id"]
    documents = repo.list_documents(conn, case_id)
    # a loan declared before core banking sent it may turn out to be another borrower's: not shown here
    loans = [loan for loan in repo.case_loans(conn, case_id) if loan.borrower_id == case["borrower_id"]]
    evidence = completeness(case, documents)
    staff_or_system = who.role != "borrower"
    return CaseView(
        **case_summary(case).model_dump(),
        borrower=borrower_view(repo.get_borrower(conn, case["borrower_id"]), case["borrower_id"], who),
        story=case["story"],
        loans=loans,
        statement=Statement.model_validate(case["statement"]) if case["statement"] else None,
        history=BorrowerHistory.model_validate(case["history"]),
        evidence=EvidenceSummary(
            required=[t.value for t in evidence.required], accepted=[t.value for t in evidence.accepted],
            missing=[t.value for t in evidence.missing], pending=[t.value for t in evidence.pending],
            complete=evidence.is_complete,
        ),
        documents=[document_view(d) for d in documents],
        # the contact log is the lender's record of its own conduct, for staff
        contacts=[contact_view(c) for c in repo.list_contacts(conn, case_id)] if staff_or_system else [],
        representatives=[representative_view(r, who, today) for r in repo.list_representatives(conn, case_id)],
        timeline=[timeline_entry(e) for e in repo.timeline(conn, case_id)
                  if staff_or_system or e["action"] != "contact_recorded"],
    )


def completeness(case: Row, documents: list[Row]) -> EvidenceCompleteness:
    """Which of the case's required documents are accepted, waiting for review, or missing."""
    return evidence_completeness(case["hardship_category"], [
        EvidenceDocument(document_type=DocumentType(d["document_type"]), status=ReviewStatus(d["status"]),
                         rejection_reason=d["rejection_reason"], document_id=d["document_id"])
        for d in documents
    ])


def _visible_case(conn: psycopg.Connection, case_id: str, who: Principal) -> Row:
    """A borrower asking for someone else's case learns nothing, not even that it exists: 404."""
    case = repo.find_case(conn, case_id)
    return visible(who, case, "case", case_id)


# -- the reads of the API ------------------------------------------------------------------------


def case(uow: UnitOfWork[Intake], case_id: str, who: Principal) -> CaseView:
    with uow:
        return case_view_of(uow.conn, _visible_case(uow.conn, case_id, who), who, uow.business_date)


def cases(uow: UnitOfWork[Intake], who: Principal, status: CaseStatus | None, borrower_id: str | None,
          limit: int, offset: int) -> list[CaseSummary]:
    """Cases by status, newest first; a borrower sees only their own."""
    if who.role == "borrower":
        borrower_id = who.borrower_id
    with uow:
        rows = repo.list_cases(uow.conn, status=status.value if status else None, borrower_id=borrower_id,
                               limit=limit, offset=offset)
    return [case_summary(r) for r in rows]


def contacts(uow: UnitOfWork[Intake], case_id: str, who: Principal) -> list[ContactView]:
    with uow:
        _visible_case(uow.conn, case_id, who)
        return [contact_view(c, who) for c in repo.list_contacts(uow.conn, case_id)]


def representatives(uow: UnitOfWork[Intake], case_id: str, who: Principal) -> list[RepresentativeView]:
    with uow:
        _visible_case(uow.conn, case_id, who)
        return [representative_view(r, who, uow.business_date) for r in repo.list_representatives(uow.conn, case_id)]


def documents(uow: UnitOfWork[Intake], case_id: str, who: Principal) -> list[DocumentView]:
    with uow:
        _visible_case(uow.conn, case_id, who)
        return [document_view(d) for d in repo.list_documents(uow.conn, case_id)]


def evidence_content(uow: UnitOfWork[Intake], case_id: str, document_id: str, who: Principal
                     ) -> tuple[DocumentView, bytes]:
    """A document as uploaded: its record, and its bytes from the evidence store (410 once the
    retention erased them)."""
    with uow:
        _visible_case(uow.conn, case_id, who)
        doc = repo.get_document(uow.conn, case_id, document_id)
    if doc["erased_on"] is not None:
        raise EvidenceErased("evidence_erased", f"document {document_id} was erased on {doc['erased_on']} "
                                                "under the lender's retention policy")
    return document_view(doc), uow.service.store.get(doc["sha256"])

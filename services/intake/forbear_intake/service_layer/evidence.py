"""Intake's use cases on evidence: upload a document, review it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from forbear_shared import metrics
from forbear_shared.domain.hardship import DocumentType
from forbear_shared.errors import Conflict, ForbearError, NotFound, Unprocessable
from forbear_shared.events.schemas.intake import EvidenceReceived, EvidenceReviewed
from forbear_shared.ids import new_id
from forbear_shared.unit_of_work import UnitOfWork

from forbear_intake.adapters import repository as repo
from forbear_intake.domain.case_status import (
    GATHERING,
    CaseStatus,
    gathering_status,
    may_add_evidence,
    resubmits_on_evidence,
)
from forbear_intake.domain.evidence_files import FileRefusal, check_evidence_file
from forbear_intake.service_layer import views
from forbear_intake.service_layer.cases import audit, load_case, set_status, submission, submit
from forbear_intake.service_layer.commands import ReviewEvidence, UploadEvidence
from forbear_intake.service_layer.views import completeness

if TYPE_CHECKING:
    from forbear_intake.bootstrap import Intake


class PayloadTooLarge(ForbearError):
    status_code = 413


def upload_evidence(cmd: UploadEvidence, uow: UnitOfWork[Intake]) -> views.DocumentView:
    """Store the file (content-addressed: the same bytes are one file) and record the document."""
    upload, limit = cmd.upload, uow.service.max_evidence_bytes
    check = check_evidence_file(upload.head, upload.size, cmd.declared_type, limit)
    if check.refusal is FileRefusal.FILE_TOO_LARGE:
        raise PayloadTooLarge("file_too_large", f"evidence files are limited to {limit} bytes")
    with uow:
        conn, today = uow.conn, uow.business_date
        case = load_case(conn, cmd.case_id, cmd.who)
        if not may_add_evidence(CaseStatus(case["status"])):
            raise Conflict("case_closed", f"no evidence can be added to a case that is {case['status']}")
        try:
            doc_type = DocumentType(cmd.document_type)
        except ValueError:
            raise Unprocessable("unknown_document_type",
                                f"document_type must be one of: {', '.join(t.value for t in DocumentType)}") from None
        if check.refusal is not None:
            raise Unprocessable(check.refusal.value, f"file refused: {check.refusal.value} (PDF, JPEG or PNG only)")
        assert check.media_type is not None
        documents = repo.list_documents(conn, cmd.case_id)
        # stored before the row that names it commits: a document row never points at bytes not
        # yet stored (an upload whose transaction then fails leaves an unreferenced object,
        # harmless and reused); an erasure of the same bytes elsewhere waits, or is waited for
        repo.lock_evidence_file(conn, upload.sha256)
        uow.service.store.put(upload.sha256, upload.file, upload.size)
        document = {
            "document_id": new_id("D"), "case_id": cmd.case_id, "document_type": doc_type.value,
            "media_type": check.media_type.value, "size_bytes": upload.size, "sha256": upload.sha256,
            "original_filename": (cmd.filename or "")[:200] or None, "uploaded_by": cmd.who.subject,
            "uploaded_on": today, "status": "pending", "rejection_reason": None, "found_false": False,
        }
        repo.insert_document(conn, document)
        audit(conn, cmd.case_id, today, cmd.who, "evidence_uploaded", None, document_id=document["document_id"],
              document_type=doc_type.value, sha256=upload.sha256, size_bytes=upload.size)
        uow.emit(type="evidence.received", case_id=cmd.case_id, business_date=today,
                 payload=EvidenceReceived(document_id=document["document_id"], document_type=doc_type.value,
                                          sha256=upload.sha256, size_bytes=upload.size, received_on=today))
        if CaseStatus(case["status"]) in GATHERING:
            status = gathering_status(completeness(case, [*documents, document]))
            set_status(conn, case, status, today, cmd.who, "evidence_uploaded")
        return views.document_view(document)


def review_evidence(cmd: ReviewEvidence, uow: UnitOfWork[Intake]) -> views.DocumentView:
    """Accept a document or reject it with a reason; a case evaluation sent back for more
    evidence goes back to evaluation once the last missing document is accepted."""
    review, who = cmd.review, cmd.who
    if not review.accepted and not review.reason:
        raise Unprocessable("rejection_needs_reason", "a rejected document needs a reason")
    if review.accepted and review.found_false:
        raise Unprocessable("found_false_needs_rejection", "a document found false must be rejected")
    with uow:
        conn, today = uow.conn, uow.business_date
        case = load_case(conn, cmd.case_id, who)
        documents = repo.list_documents(conn, cmd.case_id)
        doc = next((d for d in documents if d["document_id"] == cmd.document_id), None)
        if doc is None:
            raise NotFound("document", cmd.document_id)
        if doc["status"] != "pending":
            raise Conflict("already_reviewed", f"document {cmd.document_id} was already {doc['status']}")
        outcome = "accepted" if review.accepted else "rejected"
        reason = review.reason if not review.accepted else None
        repo.review_document(conn, cmd.document_id, status=outcome, reason=reason, found_false=review.found_false,
                             reviewed_by=who.subject, reviewed_on=today)
        doc.update(status=outcome, rejection_reason=reason, found_false=review.found_false, reviewed_by=who.subject,
                   reviewed_on=today)
        audit(conn, cmd.case_id, today, who, "evidence_reviewed", review.reason, document_id=cmd.document_id,
              document_type=doc["document_type"], outcome=outcome, found_false=review.found_false)
        reviewed = uow.emit(
            type="evidence.reviewed", case_id=cmd.case_id, business_date=today,
            payload=EvidenceReviewed(document_id=cmd.document_id, document_type=doc["document_type"], outcome=outcome,
                                     reason=reason, found_false=review.found_false, reviewed_on=today),
        )
        status = CaseStatus(case["status"])
        if status in GATHERING:
            evidence = completeness(case, documents)
            if resubmits_on_evidence(status, case["awaiting_more_evidence"], evidence):
                payload = submission(case, repo.case_loans(conn, cmd.case_id), documents, deadline_passed=False)
                submit(uow, case, payload, who, today, causation=reviewed, why="evidence_completed")
            else:
                set_status(conn, case, gathering_status(evidence), today, who, "evidence_reviewed")
        answer = views.document_view(doc)
    metrics.EVIDENCE_REVIEWED.labels(outcome).inc()
    return answer

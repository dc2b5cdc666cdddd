"""Intake's use cases: each opens one transaction, asks the domain, records state and events.

Callers pass the caller (``Principal``) and an ``Intake`` holding the explicit collaborators:
the service context (pool, business date, outbox), the lender's policy and the evidence store.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from forbear_shared import metrics
from forbear_shared.auth import Principal
from forbear_shared.db import transaction
from forbear_shared.domain.calendar import add_days
from forbear_shared.domain.hardship import (
    DocumentType,
    EvidenceCompleteness,
    EvidenceDocument,
    ReviewStatus,
    evidence_completeness,
    required_documents,
)
from forbear_shared.domain.policy import Policy
from forbear_shared.domain.renegotiation import renegotiation_allowed
from forbear_shared.errors import Conflict, ForbearError, Forbidden, NotFound, Unprocessable
from forbear_shared.events import Envelope
from forbear_shared.events.schemas.intake import (
    BorrowerHistory,
    CaseOpened,
    CaseSubmitted,
    ContactRecorded,
    EvidenceItem,
    EvidenceReceived,
    EvidenceRequested,
    EvidenceReviewed,
    RenegotiationRequested,
    Statement,
)
from forbear_shared.service import ServiceContext
from forbear_shared.topics import INTAKE_EVENTS

from forbear_intake.adapters import repository as repo
from forbear_intake.adapters.evidence_store import EvidenceStore, StagedUpload
from forbear_intake.domain.case_status import (
    CLOSED,
    GATHERING,
    CaseStatus,
    gathering_status,
    may_add_evidence,
    may_submit,
)
from forbear_intake.domain.contact_rules import check_contact
from forbear_intake.domain.evidence_files import check_evidence_file
from forbear_intake.domain.loan_records import Claim, LoanSource, claim, declared_loan_refusals
from forbear_intake.service_layer import views
from forbear_intake.service_layer.commands import (
    ContactIn,
    HistoryIn,
    OpenCase,
    ReviewIn,
    StatementIn,
)

log = logging.getLogger(__name__)

TOPIC = INTAKE_EVENTS.name
Row = dict[str, Any]


class PayloadTooLarge(ForbearError):
    status_code = 413


class EvidenceErased(ForbearError):
    """The document's file was erased under the retention policy; its record remains."""

    status_code = 410


@dataclass
class Intake:
    ctx: ServiceContext
    policy: Policy
    store: EvidenceStore
    max_evidence_bytes: int


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


# -- reading, with ownership ----------------------------------------------------------------


def load_case(conn: psycopg.Connection, case_id: str, who: Principal, *, for_update: bool = False) -> Row:
    """A borrower asking for someone else's case learns nothing, not even that it exists: 404."""
    case = repo.find_case(conn, case_id, for_update=for_update)
    if case is None or (who.role == "borrower" and case["borrower_id"] != who.borrower_id):
        raise NotFound("case", case_id)
    return case


def completeness_of(conn: psycopg.Connection, case: Row) -> EvidenceCompleteness:
    documents = [
        EvidenceDocument(
            document_type=DocumentType(d["document_type"]),
            status=ReviewStatus(d["status"]),
            rejection_reason=d["rejection_reason"],
            document_id=d["document_id"],
        )
        for d in repo.list_documents(conn, case["case_id"])
    ]
    return evidence_completeness(case["hardship_category"], documents)


def _audit(conn: psycopg.Connection, case_id: str, on: dt.date, who: Principal, action: str,
           reason: str | None = None, **detail: Any) -> None:
    repo.audit(conn, case_id, business_date=on, actor=who.subject, actor_role=who.role, action=action,
               reason=reason, detail=detail)


def _set_status(conn: psycopg.Connection, case: Row, status: CaseStatus, on: dt.date, who: Principal,
                why: str, **fields: Any) -> None:
    if case["status"] != status.value:
        _audit(conn, case["case_id"], on, who, "status_changed", why, **{"from": case["status"], "to": status.value})
        if status in CLOSED:
            fields["closed_on"] = on  # the personal data retention counts from this business date
    repo.update_case(conn, case["case_id"], status=status.value, **fields)
    case["status"] = status.value
    case.update(fields)


# -- open a case -----------------------------------------------------------------------------


def open_case(intake: Intake, command: OpenCase, who: Principal, conn: psycopg.Connection) -> Row:
    """Open a case inside the caller's transaction (which also holds its idempotency key)."""
    ctx, policy = intake.ctx, intake.policy
    borrower_id = command.borrower.borrower_id
    if who.role == "borrower":
        if borrower_id != who.borrower_id:
            raise Forbidden("not_own_borrower", "a borrower may open cases only for themself")
        if command.history is not None:
            raise Forbidden("history_is_lender_record", "the borrower's history comes from the lender's records")
    if not command.loan_ids and not command.loans:
        raise Unprocessable("no_loans", "a case needs at least one loan (loan_ids or loans)")
    for loan in command.loans:
        if loan.borrower_id != borrower_id:
            raise Conflict("loan_not_of_borrower", f"loan {loan.loan_id} belongs to another borrower")
    today = ctx.business_date(conn)
    for loan in command.loans:
        refusals = [r.value for r in declared_loan_refusals(loan, today, policy)]
        if refusals:
            # valid in form, refused by the lender's policy on this business date
            raise Conflict(refusals[0], f"loan {loan.loan_id} refused: {', '.join(refusals)}")

    declared = {loan.loan_id: loan for loan in command.loans}
    loan_ids = list(dict.fromkeys([*command.loan_ids, *declared]))
    records = repo.loan_records(conn, loan_ids, for_update=True)
    claims = {i: claim(records.get(i), borrower_id, declared=i in declared) for i in loan_ids}
    foreign = [i for i in loan_ids if claims[i] is Claim.FOREIGN]
    if foreign:
        raise Conflict("loan_of_another_borrower", f"loans of another borrower: {', '.join(foreign)}")
    unknown = [i for i in loan_ids if claims[i] is Claim.UNKNOWN]
    if unknown:
        raise Conflict("unknown_loan", f"loans not known from core banking: {', '.join(unknown)}")
    for loan_id in loan_ids:
        if claims[loan_id] is Claim.DECLARE and not repo.insert_loan(conn, declared[loan_id], LoanSource.CASE):
            # core banking's snapshot (or another case) recorded it meanwhile: decide again on that record
            record = repo.loan_records(conn, [loan_id], for_update=True)[loan_id]
            claims[loan_id] = claim(record, borrower_id, declared=True)
            if claims[loan_id] is Claim.FOREIGN:
                raise Conflict("loan_of_another_borrower", f"loans of another borrower: {loan_id}")
        if claims[loan_id] is Claim.REDECLARE:
            repo.replace_loan(conn, declared[loan_id], LoanSource.CASE)
    known = repo.get_loans(conn, loan_ids)

    case_id = _new_id("C")
    agreement_id = command.renegotiates_agreement_id
    if agreement_id is not None:
        agreement = repo.get_agreement(conn, agreement_id)
        if agreement is None or agreement["borrower_id"] != borrower_id:
            raise Unprocessable("unknown_agreement", f"no active agreement {agreement_id} of this borrower")
        if not renegotiation_allowed(repo.renegotiation_dates(conn, agreement_id), on=today, policy=policy).allowed:
            raise Conflict(
                "renegotiation_limit",
                f"agreement {agreement_id} was already renegotiated {policy.renegotiation.max_per_agreement} time(s) "
                f"in the last {policy.renegotiation.window_months} months",
            )

    repo.upsert_borrower(conn, borrower_id, command.borrower.name, command.borrower.national_id, command.borrower.phone)
    dpd = command.dpd_at_first_contact
    if dpd is None:
        dpd = max(known[i].days_past_due for i in loan_ids)
    history = command.history or BorrowerHistory()
    deadline = add_days(today, policy.evidence.deadline_days)
    case = {
        "case_id": case_id, "borrower_id": borrower_id, "hardship_category": command.hardship_category,
        "story": command.story, "channel": command.channel, "dpd_at_first_contact": dpd, "opened_on": today,
        "status": CaseStatus.AWAITING_EVIDENCE.value, "evidence_deadline": deadline,
        "history": history.model_dump(mode="json"), "renegotiates_agreement_id": agreement_id,
        "created_by": who.subject,
    }
    repo.insert_case(conn, case, loan_ids)
    _audit(conn, case_id, today, who, "case_opened", None, hardship_category=command.hardship_category,
           channel=command.channel, dpd_at_first_contact=dpd, loan_ids=loan_ids,
           declared_loan_ids=[i for i in loan_ids if claims[i] in (Claim.DECLARE, Claim.REDECLARE)])
    opened = ctx.emit(
        conn, type="case.opened", case_id=case_id, topic=TOPIC, business_date=today,
        payload=CaseOpened(borrower_id=borrower_id, hardship_category=command.hardship_category,
                           channel=command.channel, dpd_at_first_contact=dpd, opened_on=today, loan_ids=loan_ids,
                           renegotiates_agreement_id=agreement_id),
    )
    required = [t.value for t in required_documents(command.hardship_category)]
    ctx.emit(conn, type="evidence.requested", case_id=case_id, topic=TOPIC, business_date=today, causation=opened,
             payload=EvidenceRequested(missing_document_types=required, deadline=deadline))
    _audit(conn, case_id, today, who, "evidence_requested", None, document_types=required, deadline=deadline)
    if agreement_id is not None:
        repo.insert_renegotiation(conn, case_id, agreement_id, today)
        ctx.emit(conn, type="renegotiation.requested", case_id=case_id, topic=TOPIC, business_date=today,
                 causation=opened,
                 payload=RenegotiationRequested(agreement_id=agreement_id, borrower_id=borrower_id, requested_on=today))
        _audit(conn, case_id, today, who, "renegotiation_requested", None, agreement_id=agreement_id)
    metrics.CASES_OPENED.labels(command.hardship_category, command.channel).inc()
    log.info("case opened", extra={"case_id": case_id, "hardship": command.hardship_category})
    return repo.get_case(conn, case_id)


# -- statement and history -------------------------------------------------------------------


def put_statement(intake: Intake, case_id: str, command: StatementIn, who: Principal) -> Row:
    with transaction(intake.ctx.pool) as conn:
        case = load_case(conn, case_id, who, for_update=True)
        if CaseStatus(case["status"]) not in GATHERING:
            raise Conflict("case_not_gathering", f"the statement cannot change while the case is {case['status']}")
        statement = Statement.model_validate(command.model_dump(mode="json"))
        today = intake.ctx.business_date(conn)
        repo.update_case(conn, case_id, statement=statement.model_dump(mode="json"))
        _audit(conn, case_id, today, who, "statement_recorded", None, income_lines=len(command.income),
               expenditure_lines=len(command.essential_expenditure), dependants=command.dependants)
        return repo.get_case(conn, case_id)


def correct_history(intake: Intake, case_id: str, command: HistoryIn, who: Principal) -> Row:
    with transaction(intake.ctx.pool) as conn:
        case = load_case(conn, case_id, who, for_update=True)
        if CaseStatus(case["status"]) not in GATHERING:
            raise Conflict("case_not_gathering", f"the history cannot change while the case is {case['status']}")
        today = intake.ctx.business_date(conn)
        repo.update_case(conn, case_id, history=command.history.model_dump(mode="json"))
        _audit(conn, case_id, today, who, "history_corrected", command.reason,
               before=case["history"], after=command.history.model_dump(mode="json"))
        return repo.get_case(conn, case_id)


# -- evidence --------------------------------------------------------------------------------


def upload_evidence(intake: Intake, conn: psycopg.Connection, case_id: str, document_type: str, upload: StagedUpload,
                    declared_type: str | None, filename: str | None, who: Principal) -> Row:
    case = load_case(conn, case_id, who, for_update=True)
    if not may_add_evidence(CaseStatus(case["status"])):
        raise Conflict("case_closed", f"no evidence can be added to a case that is {case['status']}")
    try:
        doc_type = DocumentType(document_type)
    except ValueError:
        raise Unprocessable("unknown_document_type",
                            f"document_type must be one of: {', '.join(t.value for t in DocumentType)}") from None
    check = check_evidence_file(upload.head, upload.size, declared_type, intake.max_evidence_bytes)
    if check.refusal is not None:
        if check.refusal == "file_too_large":
            raise PayloadTooLarge("file_too_large", f"evidence files are limited to {intake.max_evidence_bytes} bytes")
        raise Unprocessable(check.refusal.value, f"file refused: {check.refusal.value} (PDF, JPEG or PNG only)")
    assert check.media_type is not None
    digest = upload.sha256
    # before the row that names it commits: a document row never points at bytes not yet stored
    # (an upload whose transaction then fails leaves an unreferenced object, harmless and reused)
    repo.lock_evidence_file(conn, digest)  # an erasure of the same bytes elsewhere waits, or is waited for
    intake.store.put(digest, upload.file, upload.size)
    today = intake.ctx.business_date(conn)
    document_id = _new_id("D")
    repo.insert_document(conn, {
        "document_id": document_id, "case_id": case_id, "document_type": doc_type.value,
        "media_type": check.media_type.value, "size_bytes": upload.size, "sha256": digest,
        "original_filename": (filename or "")[:200] or None, "uploaded_by": who.subject, "uploaded_on": today,
    })
    _audit(conn, case_id, today, who, "evidence_uploaded", None, document_id=document_id,
           document_type=doc_type.value, sha256=digest, size_bytes=upload.size)
    intake.ctx.emit(conn, type="evidence.received", case_id=case_id, topic=TOPIC, business_date=today,
                    payload=EvidenceReceived(document_id=document_id, document_type=doc_type.value, sha256=digest,
                                             size_bytes=upload.size, received_on=today))
    if CaseStatus(case["status"]) in GATHERING:
        _set_status(conn, case, gathering_status(completeness_of(conn, case)), today, who, "evidence_uploaded")
    return repo.get_document(conn, case_id, document_id)


def evidence_content(intake: Intake, case_id: str, document_id: str, who: Principal) -> tuple[Row, bytes]:
    with transaction(intake.ctx.pool) as conn:
        load_case(conn, case_id, who)
        doc = repo.get_document(conn, case_id, document_id)
    if doc["erased_on"] is not None:
        raise EvidenceErased("evidence_erased", f"document {document_id} was erased on {doc['erased_on']} "
                                                "under the lender's retention policy")
    return doc, intake.store.get(doc["sha256"])


def review_evidence(intake: Intake, case_id: str, document_id: str, command: ReviewIn, who: Principal) -> Row:
    ctx = intake.ctx
    if not command.accepted and not command.reason:
        raise Unprocessable("rejection_needs_reason", "a rejected document needs a reason")
    if command.accepted and command.found_false:
        raise Unprocessable("found_false_needs_rejection", "a document found false must be rejected")
    with transaction(ctx.pool) as conn:
        case = load_case(conn, case_id, who, for_update=True)
        doc = repo.get_document(conn, case_id, document_id, for_update=True)
        if doc["status"] != "pending":
            raise Conflict("already_reviewed", f"document {document_id} was already {doc['status']}")
        today = ctx.business_date(conn)
        outcome = "accepted" if command.accepted else "rejected"
        repo.review_document(conn, document_id, status=outcome, reason=command.reason if not command.accepted else None,
                             found_false=command.found_false, reviewed_by=who.subject, reviewed_on=today)
        _audit(conn, case_id, today, who, "evidence_reviewed", command.reason, document_id=document_id,
               document_type=doc["document_type"], outcome=outcome, found_false=command.found_false)
        reviewed = ctx.emit(
            conn, type="evidence.reviewed", case_id=case_id, topic=TOPIC, business_date=today,
            payload=EvidenceReviewed(document_id=document_id, document_type=doc["document_type"], outcome=outcome,
                                     reason=command.reason if not command.accepted else None,
                                     found_false=command.found_false, reviewed_on=today),
        )
        metrics.EVIDENCE_REVIEWED.labels(outcome).inc()
        if CaseStatus(case["status"]) in GATHERING:
            completeness = completeness_of(conn, case)
            if case["awaiting_more_evidence"] and completeness.is_complete:
                # evaluation asked for more evidence and now has it: re-evaluate without waiting
                submit_in(intake, conn, case, who, today, deadline_passed=False, causation=reviewed,
                          why="evidence_completed")
            else:
                _set_status(conn, case, gathering_status(completeness), today, who, "evidence_reviewed")
        return repo.get_document(conn, case_id, document_id)


# -- contacts --------------------------------------------------------------------------------


def record_contact(intake: Intake, conn: psycopg.Connection, case_id: str, command: ContactIn,
                   who: Principal) -> Row:
    """Record a contact attempt; a refused one is stored and announced too (the refusal is the record)."""
    ctx, policy = intake.ctx, intake.policy
    case = load_case(conn, case_id, who, for_update=True)
    today = ctx.business_date(conn)
    at_local = dt.datetime.combine(today, dt.time.fromisoformat(command.local_time))
    reasons: list[str] = []
    if command.direction == "outbound":
        # the rules protect borrowers from the lender's attempts; a call the borrower makes is always logged
        since = add_days(today, -policy.contact.window_days)
        decision = check_contact(party=command.party, at_local=at_local,
                                 previous_attempts=repo.outbound_attempts_since(conn, case_id, since), policy=policy)
        reasons = [r.value for r in decision.reasons]
    elif command.party not in {p.value for p in policy.contact.allowed_parties}:
        reasons = ["party_not_allowed"]
    outcome = "refused" if reasons else "allowed"
    contact_id = _new_id("K")
    repo.insert_contact(conn, {
        "contact_id": contact_id, "case_id": case_id, "party": command.party, "channel": command.channel,
        "direction": command.direction, "on_date": today, "local_time": at_local.time(), "outcome": outcome,
        "refusal_reasons": reasons, "note": command.note, "recorded_by": who.subject,
    })
    _audit(conn, case_id, today, who, "contact_recorded", reasons[0] if reasons else None, contact_id=contact_id,
           party=command.party, channel=command.channel, direction=command.direction,
           local_time=command.local_time, outcome=outcome, refusal_reasons=reasons)
    ctx.emit(conn, type="contact.recorded", case_id=case_id, topic=TOPIC, business_date=today,
             payload=ContactRecorded(contact_id=contact_id, party=command.party, channel=command.channel,
                                     direction=command.direction, outcome=outcome,
                                     refusal_reason=",".join(reasons) or None, local_time=command.local_time,
                                     on=today))
    metrics.CONTACTS.labels(command.channel, outcome).inc()
    if reasons:
        log.info("contact refused", extra={"case_id": case_id, "reasons": ",".join(reasons)})
    del case
    return next(c for c in repo.list_contacts(conn, case_id) if c["contact_id"] == contact_id)


# -- submission ------------------------------------------------------------------------------


def build_submission(conn: psycopg.Connection, case: Row, *, deadline_passed: bool) -> CaseSubmitted:
    loan_ids = repo.case_loan_ids(conn, case["case_id"])
    loans = repo.get_loans(conn, loan_ids)
    evidence = [
        EvidenceItem(document_id=d["document_id"], document_type=d["document_type"], status=d["status"],
                     rejection_reason=d["rejection_reason"], found_false=d["found_false"], sha256=d["sha256"])
        for d in repo.list_documents(conn, case["case_id"])
    ]
    return CaseSubmitted(
        borrower_id=case["borrower_id"], submission=case["submissions"] + 1,
        hardship_category=case["hardship_category"], channel=case["channel"],
        dpd_at_first_contact=case["dpd_at_first_contact"], opened_on=case["opened_on"],
        loans=[loans[i] for i in loan_ids if i in loans],
        statement=Statement.model_validate(case["statement"]) if case["statement"] else None,
        evidence=evidence, evidence_deadline=case["evidence_deadline"], evidence_deadline_passed=deadline_passed,
        history=BorrowerHistory.model_validate(case["history"]),
        renegotiates_agreement_id=case["renegotiates_agreement_id"],
    )


def submit_in(intake: Intake, conn: psycopg.Connection, case: Row, who: Principal, today: dt.date, *,
              deadline_passed: bool, causation: Envelope | None, why: str) -> CaseSubmitted:
    payload = build_submission(conn, case, deadline_passed=deadline_passed)
    intake.ctx.emit(conn, type="case.submitted", case_id=case["case_id"], topic=TOPIC, business_date=today,
                    payload=payload, causation=causation)
    fields: dict[str, Any] = {"submissions": payload.submission, "awaiting_more_evidence": False}
    if deadline_passed:
        fields["deadline_submitted"] = True
    _audit(conn, case["case_id"], today, who, "case_submitted", why, submission=payload.submission,
           evidence_deadline_passed=deadline_passed)
    _set_status(conn, case, CaseStatus.UNDER_EVALUATION, today, who, why, **fields)
    return payload


def submit_case(intake: Intake, case_id: str, who: Principal) -> Row:
    with transaction(intake.ctx.pool) as conn:
        case = load_case(conn, case_id, who, for_update=True)
        if not may_submit(CaseStatus(case["status"])):
            raise Conflict("case_not_submittable", f"the case is {case['status']}; it cannot be submitted now")
        today = intake.ctx.business_date(conn)
        submit_in(intake, conn, case, who, today, deadline_passed=False, causation=None, why="submitted")
        return repo.get_case(conn, case_id)


# -- views -----------------------------------------------------------------------------------


def case_view(intake: Intake, case_id: str, who: Principal) -> views.CaseView:
    with transaction(intake.ctx.pool) as conn:
        return case_view_in(conn, case_id, who)


def case_view_in(conn: psycopg.Connection, case_id: str, who: Principal) -> views.CaseView:
    case = load_case(conn, case_id, who)
    # a loan declared before core banking sent it may turn out to be another borrower's: not shown here
    loans = {i: loan for i, loan in repo.get_loans(conn, repo.case_loan_ids(conn, case_id)).items()
             if loan.borrower_id == case["borrower_id"]}
    completeness = completeness_of(conn, case)
    staff_or_system = who.role != "borrower"
    return views.CaseView(
        **views.case_summary(case).model_dump(),
        borrower=views.borrower_view(repo.get_borrower(conn, case["borrower_id"]), case["borrower_id"], who),
        story=case["story"],
        loans=list(loans.values()),
        statement=Statement.model_validate(case["statement"]) if case["statement"] else None,
        history=BorrowerHistory.model_validate(case["history"]),
        evidence=views.EvidenceSummary(
            required=[t.value for t in completeness.required], accepted=[t.value for t in completeness.accepted],
            missing=[t.value for t in completeness.missing], pending=[t.value for t in completeness.pending],
            complete=completeness.is_complete,
        ),
        documents=[views.document_view(d) for d in repo.list_documents(conn, case_id)],
        contacts=[views.contact_view(c) for c in repo.list_contacts(conn, case_id)] if staff_or_system else [],
        # the contact log is the lender's record of its own conduct, for staff
        timeline=[views.timeline_entry(e) for e in repo.timeline(conn, case_id)
                  if staff_or_system or e["action"] != "contact_recorded"],
    )


def list_cases(intake: Intake, who: Principal, status: str | None, borrower_id: str | None, limit: int,
               offset: int) -> list[views.CaseSummary]:
    if who.role == "borrower":
        borrower_id = who.borrower_id
    with transaction(intake.ctx.pool) as conn:
        rows = repo.list_cases(conn, status=status, borrower_id=borrower_id, limit=limit, offset=offset)
    return [views.case_summary(r) for r in rows]


def list_contacts(intake: Intake, case_id: str, who: Principal) -> list[views.ContactView]:
    with transaction(intake.ctx.pool) as conn:
        load_case(conn, case_id, who)
        return [views.contact_view(c) for c in repo.list_contacts(conn, case_id)]


def list_documents(intake: Intake, case_id: str, who: Principal) -> list[views.DocumentView]:
    with transaction(intake.ctx.pool) as conn:
        load_case(conn, case_id, who)
        return [views.document_view(d) for d in repo.list_documents(conn, case_id)]

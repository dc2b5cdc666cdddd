"""Intake's use cases on a case: open it, record its statement, correct its history, submit it.

Each is ``use_case(command, uow)``: it opens the one transaction (``with uow:``), loads what it
needs, lets the domain decide, writes, and records its events with ``uow.emit``. The helpers
below (``load_case``, ``audit``, ``set_status``, ``submit``) are the steps the other use cases
of intake (evidence, contacts, reactions, erasure) share.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

import psycopg
from forbear_shared import metrics
from forbear_shared.auth import Principal, visible
from forbear_shared.domain.hardship import required_documents
from forbear_shared.errors import Conflict
from forbear_shared.events import Envelope
from forbear_shared.events.schemas.common import LoanSnapshot
from forbear_shared.events.schemas.intake import (
    BorrowerHistory,
    CaseOpened,
    CaseSubmitted,
    EvidenceItem,
    EvidenceRequested,
    RenegotiationRequested,
    Statement,
)
from forbear_shared.ids import new_id
from forbear_shared.unit_of_work import UnitOfWork

from forbear_intake.adapters import repository as repo
from forbear_intake.domain import ownership
from forbear_intake.domain.case_status import CLOSED, GATHERING, CaseStatus, evidence_deadline, may_submit
from forbear_intake.domain.loan_records import LoanSource
from forbear_intake.service_layer import views
from forbear_intake.service_layer.commands import CorrectHistory, NewCase, RecordStatement, SubmitCase

if TYPE_CHECKING:
    from forbear_intake.bootstrap import Intake

log = logging.getLogger(__name__)

Row = dict[str, Any]


# -- the steps every use case on a case shares -------------------------------------------------


def load_case(conn: psycopg.Connection, case_id: str, who: Principal) -> Row:
    """The case, locked for the change; a borrower asking for someone else's case learns
    nothing, not even that it exists: 404."""
    case = repo.lock_case(conn, case_id)
    return visible(who, case, "case", case_id)


def audit(conn: psycopg.Connection, case_id: str, on: dt.date, who: Principal, action: str,
          reason: str | None = None, **detail: Any) -> None:
    repo.audit(conn, case_id, business_date=on, actor=who.subject, actor_role=who.role, action=action,
               reason=reason, detail=detail)


def set_status(conn: psycopg.Connection, case: Row, status: CaseStatus, on: dt.date, who: Principal,
               why: str, **fields: Any) -> None:
    """Write the case's status (audited when it changes) and ``fields``; ``case`` follows."""
    if case["status"] != status.value:
        audit(conn, case["case_id"], on, who, "status_changed", why, **{"from": case["status"], "to": status.value})
        if status in CLOSED:
            fields["closed_on"] = on  # the personal data retention counts from this business date
    repo.update_case(conn, case["case_id"], status=status.value, **fields)
    case["status"] = status.value
    case.update(fields)


def submission(case: Row, loans: list[LoanSnapshot], documents: list[Row], *, deadline_passed: bool
               ) -> CaseSubmitted:
    """What evaluation is sent: the case as it stands, its loans and every document's review."""
    return CaseSubmitted(
        borrower_id=case["borrower_id"], submission=case["submissions"] + 1,
        hardship_category=case["hardship_category"], channel=case["channel"],
        dpd_at_first_contact=case["dpd_at_first_contact"], opened_on=case["opened_on"], loans=loans,
        statement=Statement.model_validate(case["statement"]) if case["statement"] else None,
        evidence=[
            EvidenceItem(document_id=d["document_id"], document_type=d["document_type"], status=d["status"],
                         rejection_reason=d["rejection_reason"], found_false=d["found_false"], sha256=d["sha256"])
            for d in documents
        ],
        evidence_deadline=case["evidence_deadline"], evidence_deadline_passed=deadline_passed,
        history=BorrowerHistory.model_validate(case["history"]),
        renegotiates_agreement_id=case["renegotiates_agreement_id"],
    )


def submit(uow: UnitOfWork[Intake], case: Row, payload: CaseSubmitted, who: Principal, today: dt.date, *,
           causation: Envelope | None, why: str) -> None:
    """Send the case to evaluation (``payload``: ``submission``) and hand it over."""
    uow.emit(type="case.submitted", case_id=case["case_id"], business_date=today, payload=payload,
             causation=causation)
    fields: dict[str, Any] = {"submissions": payload.submission, "awaiting_more_evidence": False}
    if payload.evidence_deadline_passed:
        fields["deadline_submitted"] = True
    audit(uow.conn, case["case_id"], today, who, "case_submitted", why, submission=payload.submission,
          evidence_deadline_passed=payload.evidence_deadline_passed)
    set_status(uow.conn, case, CaseStatus.UNDER_EVALUATION, today, who, why, **fields)


# -- open a case -------------------------------------------------------------------------------


def open_case(cmd: NewCase, uow: UnitOfWork[Intake]) -> views.CaseView:
    request, who = cmd.request, cmd.who
    borrower_id = request.borrower.borrower_id
    ownership.check_opener(who.role, who.borrower_id, borrower_id, history_given=request.history is not None)
    with uow:
        conn, policy, today = uow.conn, uow.policy, uow.business_date
        ownership.check_declarations(borrower_id, request.loan_ids, request.loans, today, policy)
        records = repo.lock_loans(conn, ownership.named_loans(request.loan_ids, request.loans))
        loans = ownership.loans_of_new_case(borrower_id, request.loan_ids, request.loans, records)
        agreement_id = request.renegotiates_agreement_id
        if agreement_id is not None:
            row = repo.get_agreement(conn, agreement_id)
            ownership.check_renegotiation(
                agreement_id, ownership.AgreementHeld(row["agreement_id"], row["borrower_id"]) if row else None,
                borrower_id, repo.renegotiation_dates(conn, agreement_id), today, policy)

        declared = {loan.loan_id: loan for loan in request.loans}
        for loan_id in loans.declare:
            repo.insert_loan(conn, declared[loan_id], LoanSource.CASE)
        for loan_id in loans.redeclare:
            repo.replace_loan(conn, declared[loan_id], LoanSource.CASE)
        repo.upsert_borrower(conn, borrower_id, request.borrower.name, request.borrower.national_id,
                             request.borrower.phone)
        case_id = new_id("C")
        dpd = request.dpd_at_first_contact if request.dpd_at_first_contact is not None else loans.largest_days_past_due
        loan_ids = list(loans.loan_ids)
        deadline = evidence_deadline(today, policy)
        case: Row = {
            "case_id": case_id, "borrower_id": borrower_id, "hardship_category": request.hardship_category,
            "story": request.story, "channel": request.channel, "dpd_at_first_contact": dpd, "opened_on": today,
            "status": CaseStatus.AWAITING_EVIDENCE.value, "evidence_deadline": deadline,
            "history": (request.history or BorrowerHistory()).model_dump(mode="json"),
            "renegotiates_agreement_id": agreement_id, "created_by": who.subject,
            "submissions": 0, "last_outcome": None, "statement": None,
        }
        repo.insert_case(conn, case, loan_ids)
        audit(conn, case_id, today, who, "case_opened", None, hardship_category=request.hardship_category,
              channel=request.channel, dpd_at_first_contact=dpd, loan_ids=loan_ids,
              declared_loan_ids=list(loans.declared))
        opened = uow.emit(
            type="case.opened", case_id=case_id, business_date=today,
            payload=CaseOpened(borrower_id=borrower_id, hardship_category=request.hardship_category,
                               channel=request.channel, dpd_at_first_contact=dpd, opened_on=today,
                               loan_ids=loan_ids, renegotiates_agreement_id=agreement_id),
        )
        required = [t.value for t in required_documents(request.hardship_category)]
        uow.emit(type="evidence.requested", case_id=case_id, business_date=today, causation=opened,
                 payload=EvidenceRequested(missing_document_types=required, deadline=deadline))
        audit(conn, case_id, today, who, "evidence_requested", None, document_types=required, deadline=deadline)
        if agreement_id is not None:
            repo.insert_renegotiation(conn, case_id, agreement_id, today)
            uow.emit(type="renegotiation.requested", case_id=case_id, business_date=today, causation=opened,
                     payload=RenegotiationRequested(agreement_id=agreement_id, borrower_id=borrower_id,
                                                    requested_on=today))
            audit(conn, case_id, today, who, "renegotiation_requested", None, agreement_id=agreement_id)
        answer = views.case_view_of(conn, case, who, today)
    metrics.CASES_OPENED.labels(request.hardship_category, request.channel).inc()
    log.info("case opened", extra={"case_id": case_id, "hardship": request.hardship_category})
    return answer


# -- statement and history ---------------------------------------------------------------------


def record_statement(cmd: RecordStatement, uow: UnitOfWork[Intake]) -> views.CaseView:
    with uow:
        case = load_case(uow.conn, cmd.case_id, cmd.who)
        if CaseStatus(case["status"]) not in GATHERING:
            raise Conflict("case_not_gathering", f"the statement cannot change while the case is {case['status']}")
        statement = Statement.model_validate(cmd.statement.model_dump(mode="json")).model_dump(mode="json")
        repo.update_case(uow.conn, cmd.case_id, statement=statement)
        case["statement"] = statement
        audit(uow.conn, cmd.case_id, uow.business_date, cmd.who, "statement_recorded", None,
              income_lines=len(cmd.statement.income), expenditure_lines=len(cmd.statement.essential_expenditure),
              dependants=cmd.statement.dependants)
        return views.case_view_of(uow.conn, case, cmd.who, uow.business_date)


def correct_history(cmd: CorrectHistory, uow: UnitOfWork[Intake]) -> views.CaseView:
    with uow:
        case = load_case(uow.conn, cmd.case_id, cmd.who)
        if CaseStatus(case["status"]) not in GATHERING:
            raise Conflict("case_not_gathering", f"the history cannot change while the case is {case['status']}")
        history = cmd.correction.history.model_dump(mode="json")
        repo.update_case(uow.conn, cmd.case_id, history=history)
        audit(uow.conn, cmd.case_id, uow.business_date, cmd.who, "history_corrected", cmd.correction.reason,
              before=case["history"], after=history)
        case["history"] = history
        return views.case_view_of(uow.conn, case, cmd.who, uow.business_date)


# -- submission --------------------------------------------------------------------------------


def submit_case(cmd: SubmitCase, uow: UnitOfWork[Intake]) -> views.CaseView:
    with uow:
        case = load_case(uow.conn, cmd.case_id, cmd.who)
        if not may_submit(CaseStatus(case["status"])):
            raise Conflict("case_not_submittable", f"the case is {case['status']}; it cannot be submitted now")
        payload = submission(case, repo.case_loans(uow.conn, cmd.case_id), repo.list_documents(uow.conn, cmd.case_id),
                             deadline_passed=False)
        submit(uow, case, payload, cmd.who, uow.business_date, causation=None, why="submitted")
        return views.case_view_of(uow.conn, case, cmd.who, uow.business_date)

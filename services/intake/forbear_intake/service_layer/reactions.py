"""What intake does when it hears from core banking, evaluation, agreement and monitoring.

Each is a use case ``on_<event>(event, uow)``; the worker joins its unit of work to the inbox
transaction of the consumed event, so its effect and the record that the event was consumed
commit together.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from forbear_shared import projections
from forbear_shared.auth import Principal
from forbear_shared.events import DecodedEvent
from forbear_shared.events.schemas.agreement import (
    AgreementActivated,
    AgreementSigned,
    OfferAccepted,
    OfferCountered,
    OfferExpired,
    OfferMade,
)
from forbear_shared.events.schemas.corebanking import LoanSnapshotted
from forbear_shared.events.schemas.evaluation import CaseDecided
from forbear_shared.events.schemas.monitoring import AgreementCompleted, AgreementReferred
from forbear_shared.unit_of_work import UnitOfWork

from forbear_intake.adapters import repository as repo
from forbear_intake.domain.case_status import GATHERING, CaseStatus, status_after_decision
from forbear_intake.domain.loan_records import LoanSource, snapshot_replaces
from forbear_intake.service_layer.cases import audit, set_status, submission, submit
from forbear_intake.service_layer.views import completeness

if TYPE_CHECKING:
    from forbear_intake.bootstrap import Intake

log = logging.getLogger(__name__)

#: once the borrower has accepted an offer, a decision heard late no longer moves the case
_PAST_DECISIONS = frozenset({CaseStatus.OFFER_ACCEPTED, CaseStatus.AGREEMENT_ACTIVE, CaseStatus.COMPLETED,
                             CaseStatus.LEGAL_REFERRAL})


def _producer(event: DecodedEvent) -> Principal:
    return Principal(subject=event.envelope.producer, role="system")


def on_loan_snapshot(event: DecodedEvent, uow: UnitOfWork[Intake]) -> None:
    """Core banking's record of a loan replaces a declaration, and an older snapshot of its own."""
    payload = event.payload
    assert isinstance(payload, LoanSnapshotted)
    loan = payload.loan
    with uow:
        record = repo.lock_loans(uow.conn, [loan.loan_id]).get(loan.loan_id)
        if record is None:
            repo.insert_loan(uow.conn, loan, LoanSource.COREBANKING)
        elif snapshot_replaces(record, loan.as_of):
            repo.replace_loan(uow.conn, loan, LoanSource.COREBANKING)


def on_case_decided(event: DecodedEvent, uow: UnitOfWork[Intake]) -> None:
    decided = event.payload
    assert isinstance(decided, CaseDecided)
    with uow:
        conn = uow.conn
        case = repo.lock_case(conn, event.envelope.case_id)
        if case is None:
            log.warning("decision for an unknown case ignored")
            return
        documents = repo.list_documents(conn, case["case_id"])
        fresh = repo.insert_decision(conn, {
            "decision_id": decided.decision_id, "case_id": case["case_id"], "outcome": decided.outcome,
            "submission": decided.submission, "decided_by": decided.decided_by, "decided_on": decided.decided_on,
            "reasons": [r.model_dump(mode="json") for r in decided.reasons],
        })
        if not fresh:
            return
        who = _producer(event)
        today = event.envelope.business_date
        audit(conn, case["case_id"], today, who, "decision_heard", decided.override_reason,
              decision_id=decided.decision_id, outcome=decided.outcome, decided_by=decided.decided_by,
              submission=decided.submission, reasons=[r.code for r in decided.reasons],
              policy_version=decided.policy_version)
        if decided.submission < case["submissions"]:
            return  # a decision on an earlier submission; a newer one is under evaluation
        if CaseStatus(case["status"]) in _PAST_DECISIONS:
            return
        status = status_after_decision(decided.outcome, completeness(case, documents))
        set_status(conn, case, status, today, who, f"decision_{decided.outcome}", last_outcome=decided.outcome,
                   awaiting_more_evidence=decided.outcome == "need_more_evidence")


def _move(uow: UnitOfWork[Intake], event: DecodedEvent, action: str, to: CaseStatus | None,
          only_from: frozenset[CaseStatus] | None = None, *, case_id: str | None = None, **detail: object) -> None:
    """Audit what was heard on the case (``case_id``, or the event's), and move it to ``to``
    when it stands in ``only_from``."""
    case = repo.lock_case(uow.conn, case_id or event.envelope.case_id)
    if case is None:
        return
    who = _producer(event)
    today = event.envelope.business_date
    audit(uow.conn, case["case_id"], today, who, action, None, **detail)
    if to is not None and (only_from is None or CaseStatus(case["status"]) in only_from):
        set_status(uow.conn, case, to, today, who, action)


def on_offer_made(event: DecodedEvent, uow: UnitOfWork[Intake]) -> None:
    p = event.payload
    assert isinstance(p, OfferMade)
    with uow:
        _move(uow, event, "offer_made", None, offer_id=p.offer_id, option=p.option, rank=p.rank,
              new_instalment=str(p.new_instalment), term_months=p.term_months, expires_on=p.expires_on)


def on_offer_accepted(event: DecodedEvent, uow: UnitOfWork[Intake]) -> None:
    p = event.payload
    assert isinstance(p, OfferAccepted)
    with uow:
        _move(uow, event, "offer_accepted", CaseStatus.OFFER_ACCEPTED,
              frozenset({CaseStatus.APPROVED, CaseStatus.NEEDS_SUPERVISOR, CaseStatus.UNDER_EVALUATION}),
              offer_id=p.offer_id, agreement_id=p.agreement_id)


def on_offer_countered(event: DecodedEvent, uow: UnitOfWork[Intake]) -> None:
    p = event.payload
    assert isinstance(p, OfferCountered)
    with uow:
        _move(uow, event, "offer_countered", CaseStatus.UNDER_EVALUATION, frozenset({CaseStatus.APPROVED}),
              offer_id=p.offer_id)


def on_offer_expired(event: DecodedEvent, uow: UnitOfWork[Intake]) -> None:
    p = event.payload
    assert isinstance(p, OfferExpired)
    with uow:
        _move(uow, event, "offer_expired", None, offer_id=p.offer_id)


def on_agreement_signed(event: DecodedEvent, uow: UnitOfWork[Intake]) -> None:
    p = event.payload
    assert isinstance(p, AgreementSigned)
    with uow:
        _move(uow, event, "agreement_signed", None, agreement_id=p.agreement_id, party=p.party,
              document_sha256=p.document_sha256)


def on_agreement_activated(event: DecodedEvent, uow: UnitOfWork[Intake]) -> None:
    p = event.payload
    assert isinstance(p, AgreementActivated)
    with uow:
        repo.upsert_agreement(uow.conn, p.agreement_id, event.envelope.case_id, p.borrower_id, p.activated_on)
        _move(uow, event, "agreement_activated", CaseStatus.AGREEMENT_ACTIVE,
              frozenset(set(CaseStatus) - {CaseStatus.DECLINED, CaseStatus.COMPLETED, CaseStatus.LEGAL_REFERRAL}),
              agreement_id=p.agreement_id, option=p.option, supersedes_agreement_id=p.supersedes_agreement_id)


def on_agreement_completed(event: DecodedEvent, uow: UnitOfWork[Intake]) -> None:
    """Monitoring's events name the agreement; the case is the one the agreement was made on."""
    p = event.payload
    assert isinstance(p, AgreementCompleted)
    with uow:
        agreement = repo.get_agreement(uow.conn, p.agreement_id)
        if agreement is not None:
            _move(uow, event, "agreement_completed", CaseStatus.COMPLETED, frozenset({CaseStatus.AGREEMENT_ACTIVE}),
                  case_id=agreement["case_id"], agreement_id=p.agreement_id)


def on_agreement_referred(event: DecodedEvent, uow: UnitOfWork[Intake]) -> None:
    p = event.payload
    assert isinstance(p, AgreementReferred)
    with uow:
        agreement = repo.get_agreement(uow.conn, p.agreement_id)
        if agreement is not None:
            _move(uow, event, "agreement_referred", CaseStatus.LEGAL_REFERRAL, frozenset({CaseStatus.AGREEMENT_ACTIVE}),
                  case_id=agreement["case_id"], agreement_id=p.agreement_id, route=p.route)


def on_business_date_advanced(event: DecodedEvent, uow: UnitOfWork[Intake]) -> None:
    """Take the new date; then every case whose evidence deadline has passed incomplete goes to
    evaluation once, flagged, so that it is declined for missing evidence with that reason."""
    projections.on_business_date_advanced(event, uow)
    with uow:
        conn, today = uow.conn, uow.business_date
        who = _producer(event)
        for case in repo.cases_past_evidence_deadline(conn, today, [s.value for s in GATHERING]):
            documents = repo.list_documents(conn, case["case_id"])
            if completeness(case, documents).is_complete:
                continue
            payload = submission(case, repo.case_loans(conn, case["case_id"]), documents, deadline_passed=True)
            submit(uow, case, payload, who, today, causation=event.envelope, why="evidence_deadline_passed")

"""What intake does when it hears from core banking, evaluation, agreement and monitoring.

Each handler runs inside the inbox transaction of the consumed event, so its effect and the
record that the event was consumed commit together.
"""

from __future__ import annotations

import logging

import psycopg
from forbear_shared import business_date
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
from forbear_shared.events.schemas.monitoring import AgreementCompleted, AgreementReferred, BusinessDateAdvanced
from forbear_shared.inbox import Handler

from forbear_intake.adapters import repository as repo
from forbear_intake.domain.case_status import GATHERING, CaseStatus, status_after_decision
from forbear_intake.domain.loan_records import LoanSource, snapshot_replaces
from forbear_intake.service_layer.cases import Intake, _audit, _set_status, completeness_of, submit_in

log = logging.getLogger(__name__)


def _producer(event: DecodedEvent) -> Principal:
    return Principal(subject=event.envelope.producer, role="system")


def on_loan_snapshot(intake: Intake, conn: psycopg.Connection, event: DecodedEvent) -> None:
    payload = event.payload
    assert isinstance(payload, LoanSnapshotted)
    loan = payload.loan
    record = repo.loan_records(conn, [loan.loan_id], for_update=True).get(loan.loan_id)
    if record is None:
        if repo.insert_loan(conn, loan, LoanSource.COREBANKING):
            return
        # a case declared it in the meantime: core banking's record replaces the declaration
        record = repo.loan_records(conn, [loan.loan_id], for_update=True)[loan.loan_id]
    if snapshot_replaces(record, loan.as_of):
        repo.replace_loan(conn, loan, LoanSource.COREBANKING)


def on_case_decided(intake: Intake, conn: psycopg.Connection, event: DecodedEvent) -> None:
    decided = event.payload
    assert isinstance(decided, CaseDecided)
    case = repo.find_case(conn, event.envelope.case_id, for_update=True)
    if case is None:
        log.warning("decision for an unknown case ignored")
        return
    fresh = repo.insert_decision(conn, {
        "decision_id": decided.decision_id, "case_id": case["case_id"], "outcome": decided.outcome,
        "submission": decided.submission, "decided_by": decided.decided_by, "decided_on": decided.decided_on,
        "reasons": [r.model_dump(mode="json") for r in decided.reasons],
    })
    if not fresh:
        return
    who = _producer(event)
    today = event.envelope.business_date
    _audit(conn, case["case_id"], today, who, "decision_heard", decided.override_reason,
           decision_id=decided.decision_id, outcome=decided.outcome, decided_by=decided.decided_by,
           submission=decided.submission, reasons=[r.code for r in decided.reasons],
           policy_version=decided.policy_version)
    if decided.submission < case["submissions"]:
        return  # a decision on an earlier submission; a newer one is under evaluation
    if CaseStatus(case["status"]) in (CaseStatus.OFFER_ACCEPTED, CaseStatus.AGREEMENT_ACTIVE,
                                      CaseStatus.COMPLETED, CaseStatus.LEGAL_REFERRAL):
        return
    status = status_after_decision(decided.outcome, completeness_of(conn, case))
    _set_status(conn, case, status, today, who, f"decision_{decided.outcome}", last_outcome=decided.outcome,
                awaiting_more_evidence=decided.outcome == "need_more_evidence")


def _move(conn: psycopg.Connection, event: DecodedEvent, action: str, to: CaseStatus | None,
          only_from: frozenset[CaseStatus] | None = None, **detail: object) -> None:
    case = repo.find_case(conn, event.envelope.case_id, for_update=True)
    if case is None:
        return
    who = _producer(event)
    today = event.envelope.business_date
    _audit(conn, case["case_id"], today, who, action, None, **detail)
    if to is not None and (only_from is None or CaseStatus(case["status"]) in only_from):
        _set_status(conn, case, to, today, who, action)


def on_offer_made(intake: Intake, conn: psycopg.Connection, event: DecodedEvent) -> None:
    p = event.payload
    assert isinstance(p, OfferMade)
    _move(conn, event, "offer_made", None, offer_id=p.offer_id, option=p.option, rank=p.rank,
          new_instalment=str(p.new_instalment), term_months=p.term_months, expires_on=p.expires_on)


def on_offer_accepted(intake: Intake, conn: psycopg.Connection, event: DecodedEvent) -> None:
    p = event.payload
    assert isinstance(p, OfferAccepted)
    _move(conn, event, "offer_accepted", CaseStatus.OFFER_ACCEPTED,
          frozenset({CaseStatus.APPROVED, CaseStatus.NEEDS_SUPERVISOR, CaseStatus.UNDER_EVALUATION}),
          offer_id=p.offer_id, agreement_id=p.agreement_id)


def on_offer_countered(intake: Intake, conn: psycopg.Connection, event: DecodedEvent) -> None:
    p = event.payload
    assert isinstance(p, OfferCountered)
    _move(conn, event, "offer_countered", CaseStatus.UNDER_EVALUATION, frozenset({CaseStatus.APPROVED}),
          offer_id=p.offer_id)


def on_offer_expired(intake: Intake, conn: psycopg.Connection, event: DecodedEvent) -> None:
    p = event.payload
    assert isinstance(p, OfferExpired)
    _move(conn, event, "offer_expired", None, offer_id=p.offer_id)


def on_agreement_signed(intake: Intake, conn: psycopg.Connection, event: DecodedEvent) -> None:
    p = event.payload
    assert isinstance(p, AgreementSigned)
    _move(conn, event, "agreement_signed", None, agreement_id=p.agreement_id, party=p.party,
          document_sha256=p.document_sha256)


def on_agreement_activated(intake: Intake, conn: psycopg.Connection, event: DecodedEvent) -> None:
    p = event.payload
    assert isinstance(p, AgreementActivated)
    repo.upsert_agreement(conn, p.agreement_id, event.envelope.case_id, p.borrower_id, p.activated_on)
    _move(conn, event, "agreement_activated", CaseStatus.AGREEMENT_ACTIVE,
          frozenset(set(CaseStatus) - {CaseStatus.DECLINED, CaseStatus.COMPLETED, CaseStatus.LEGAL_REFERRAL}),
          agreement_id=p.agreement_id, option=p.option, supersedes_agreement_id=p.supersedes_agreement_id)


def _agreement_case(conn: psycopg.Connection, event: DecodedEvent, agreement_id: str) -> DecodedEvent | None:
    agreement = repo.get_agreement(conn, agreement_id)
    if agreement is None:
        return None
    envelope = event.envelope.model_copy(update={"case_id": agreement["case_id"]})
    return DecodedEvent(envelope, event.payload, event.original_version)


def on_agreement_completed(intake: Intake, conn: psycopg.Connection, event: DecodedEvent) -> None:
    p = event.payload
    assert isinstance(p, AgreementCompleted)
    routed = _agreement_case(conn, event, p.agreement_id)
    if routed:
        _move(conn, routed, "agreement_completed", CaseStatus.COMPLETED,
              frozenset({CaseStatus.AGREEMENT_ACTIVE}), agreement_id=p.agreement_id)


def on_agreement_referred(intake: Intake, conn: psycopg.Connection, event: DecodedEvent) -> None:
    p = event.payload
    assert isinstance(p, AgreementReferred)
    routed = _agreement_case(conn, event, p.agreement_id)
    if routed:
        _move(conn, routed, "agreement_referred", CaseStatus.LEGAL_REFERRAL,
              frozenset({CaseStatus.AGREEMENT_ACTIVE}), agreement_id=p.agreement_id, route=p.route)


def on_business_date_advanced(intake: Intake, conn: psycopg.Connection, event: DecodedEvent) -> None:
    """Take the new date; then every case whose evidence deadline has passed incomplete goes to
    evaluation once, flagged, so that it is declined for missing evidence with that reason."""
    p = event.payload
    assert isinstance(p, BusinessDateAdvanced)
    business_date.apply_advanced(conn, event, intake.ctx.name)
    today = intake.ctx.business_date(conn)
    who = _producer(event)
    for case in repo.cases_past_evidence_deadline(conn, today, [s.value for s in GATHERING]):
        if completeness_of(conn, case).is_complete:
            continue
        submit_in(intake, conn, case, who, today, deadline_passed=True, causation=event.envelope,
                  why="evidence_deadline_passed")


def handlers(intake: Intake) -> dict[str, Handler]:
    def bind(fn):  # type: ignore[no-untyped-def]
        return lambda conn, event: fn(intake, conn, event)

    return {
        "loan.snapshot": bind(on_loan_snapshot),
        "case.decided": bind(on_case_decided),
        "offer.made": bind(on_offer_made),
        "offer.accepted": bind(on_offer_accepted),
        "offer.countered": bind(on_offer_countered),
        "offer.expired": bind(on_offer_expired),
        "agreement.signed": bind(on_agreement_signed),
        "agreement.activated": bind(on_agreement_activated),
        "agreement.completed": bind(on_agreement_completed),
        "agreement.referred": bind(on_agreement_referred),
        "business_date.advanced": bind(on_business_date_advanced),
    }

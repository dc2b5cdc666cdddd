"""Agreements enter monitoring when activated; the guard's and the dossier's projections.

Every use case here is ``(event, uow)``: the worker joins the unit of work to the inbox's
transaction, so the effect and the record that the event was consumed commit together. The
renegotiation's moves are the domain's (``domain/renegotiation.py``); this module loads the
renegotiation, lets the domain move it, and writes what changed.
"""

from __future__ import annotations

import datetime as dt
import logging

from forbear_shared import metrics
from forbear_shared.db import on_commit
from forbear_shared.domain.arrears import LoanLedger, known_grace_cutoff
from forbear_shared.domain.renegotiation import renegotiation_allowed
from forbear_shared.domain.schedule import Schedule
from forbear_shared.events import DecodedEvent
from forbear_shared.events.schemas.agreement import AgreementActivated, OfferAccepted, OfferExpired, OfferMade
from forbear_shared.events.schemas.evaluation import AppealDecided, AppealLodged, CaseDecided
from forbear_shared.events.schemas.intake import (
    CaseSubmitted,
    ContactRecorded,
    EvidenceReviewed,
    RenegotiationRequested,
)
from forbear_shared.unit_of_work import UnitOfWork
from psycopg.types.json import Jsonb

from forbear_monitoring.adapters import repository as repo
from forbear_monitoring.bootstrap import Monitoring
from forbear_monitoring.domain import renegotiation as rn

log = logging.getLogger(__name__)


def on_agreement_activated(event: DecodedEvent, uow: UnitOfWork[Monitoring]) -> None:
    p = event.payload
    assert isinstance(p, AgreementActivated)
    schedule_doc = p.schedule.model_dump(mode="json")
    schedule = Schedule.from_dict(schedule_doc)  # parsed once: the ledger and the cache share it
    policy = uow.policy
    with uow:
        inserted = repo.insert_agreement(uow.conn, {
            "agreement_id": p.agreement_id, "case_id": event.envelope.case_id, "borrower_id": p.borrower_id,
            "loan_ids": p.loan_ids, "option": p.option, "document_sha256": p.document_sha256,
            "activated_on": p.activated_on, "policy_version": p.policy_version, "currency": schedule.currency,
            "schedule": Jsonb(schedule_doc), "supersedes_agreement_id": p.supersedes_agreement_id,
            "signed_pdf_sha256": p.signed_pdf_sha256, "signed_pdf_href": p.signed_pdf_href,
        })
        if not inserted:
            return  # the same agreement activated twice (a replayed event with a new id): nothing new
        ledger = LoanLedger.open(schedule, policy)
        repo.insert_instalments(uow.conn, [
            {"agreement_id": p.agreement_id, "number": i.number, "due_date": i.due_date,
             "grace_cutoff": known_grace_cutoff(i.due_date, policy), "kind": i.kind.value, "principal": i.principal.amount,
             "interest": i.interest.amount, "fee": i.fee.amount, "total": i.total.amount,
             "settled_on": ledger.position(i.number).settled_on}
            for i in schedule.instalments
        ])
        repo.insert_agreement_loans(uow.conn, p.agreement_id, p.loan_ids, p.activated_on)
        uow.service.schedules.put(p.agreement_id, schedule)
        if p.supersedes_agreement_id:
            _supersede(uow, p.supersedes_agreement_id, by=p.agreement_id, on=p.activated_on)
        repo.rematch_unmatched(uow.conn, p.loan_ids, p.activated_on)
        on_commit(uow.conn, metrics.AGREEMENTS.labels("monitored").inc)


def _supersede(uow: UnitOfWork[Monitoring], old_id: str, *, by: str, on: dt.date) -> None:
    """A renegotiated agreement replaces the old one: the old is closed, its renegotiations end."""
    conn = uow.conn
    repo.lock_ledger(conn)  # the old agreement's instalments close: the allocator's ledgers are stale
    old = repo.agreement(conn, old_id, for_update=True)
    if old is not None and old["status"] == "active":
        repo.close_agreement(conn, old_id, "superseded", on, superseded_by=by)
    pending = repo.lock_renegotiations_of(conn, old_id)
    repo.save_renegotiations(conn, [r for r in (rn.renegotiated(r, on) for r in pending) if r not in pending])


# -- the dual-tracking guard's projection ----------------------------------------------------------


def on_renegotiation_requested(event: DecodedEvent, uow: UnitOfWork[Monitoring]) -> None:
    p = event.payload
    assert isinstance(p, RenegotiationRequested)
    case_id = event.envelope.case_id
    with uow:
        earlier = repo.earlier_requests(uow.conn, p.agreement_id, other_than=case_id)
        # the guard must not become an endless stall: a request over the policy's limit does not hold referral
        allowed = renegotiation_allowed(earlier, on=p.requested_on, policy=uow.policy)
        repo.insert_renegotiation(uow.conn, rn.requested(case_id, p.agreement_id, p.requested_on,
                                                         within_limit=allowed.allowed))
    if not allowed.allowed:
        log.info("renegotiation over the policy limit does not pause referral", extra={"reason": allowed.reason})


def on_case_decided(event: DecodedEvent, uow: UnitOfWork[Monitoring]) -> None:
    """A decision on a renegotiation case (one monitoring may not have heard requested yet)."""
    p = event.payload
    assert isinstance(p, CaseDecided)
    case_id = event.envelope.case_id
    with uow:
        known = repo.lock_renegotiation(uow.conn, case_id)
        if known is None:
            if not p.renegotiates_agreement_id:
                return  # not a renegotiation: nothing for monitoring
            first = rn.requested(case_id, p.renegotiates_agreement_id, p.decided_on, within_limit=True)
            repo.insert_renegotiation(uow.conn, first)
            known = first
        _save(uow, known, rn.decided(known, p.outcome, p.decided_on))


def on_appeal_lodged(event: DecodedEvent, uow: UnitOfWork[Monitoring]) -> None:
    """An appeal of a renegotiation's decline holds referral again, as the renegotiation did."""
    p = event.payload
    assert isinstance(p, AppealLodged)
    with uow:
        known = repo.lock_renegotiation(uow.conn, event.envelope.case_id)
        if known is not None:
            _save(uow, known, rn.appeal_lodged(known, p.appeal_id))


def on_appeal_decided(event: DecodedEvent, uow: UnitOfWork[Monitoring]) -> None:
    p = event.payload
    assert isinstance(p, AppealDecided)
    with uow:
        known = repo.lock_renegotiation(uow.conn, event.envelope.case_id)
        if known is not None:
            _save(uow, known, rn.appeal_decided(known, p.outcome, p.decided_on))


def on_case_submitted(event: DecodedEvent, uow: UnitOfWork[Monitoring]) -> None:
    """The evidence list of a case (with hashes) for the dossier; a renegotiation is now in evaluation."""
    p = event.payload
    assert isinstance(p, CaseSubmitted)
    case_id = event.envelope.case_id
    with uow:
        repo.upsert_evidence(uow.conn, case_id,
                             [(e.document_id, e.document_type, e.status, e.sha256) for e in p.evidence])
        known = repo.lock_renegotiation(uow.conn, case_id)
        if known is not None:
            _save(uow, known, rn.submitted(known))


def on_evidence_reviewed(event: DecodedEvent, uow: UnitOfWork[Monitoring]) -> None:
    p = event.payload
    assert isinstance(p, EvidenceReviewed)
    with uow:
        repo.review_evidence(uow.conn, event.envelope.case_id, p.document_id, p.document_type, p.outcome)


def on_contact_recorded(event: DecodedEvent, uow: UnitOfWork[Monitoring]) -> None:
    p = event.payload
    assert isinstance(p, ContactRecorded)
    with uow:
        repo.insert_contact(uow.conn, {
            "contact_id": p.contact_id, "case_id": event.envelope.case_id, "party": p.party, "channel": p.channel,
            "direction": p.direction, "outcome": p.outcome, "on_date": p.on,
        })


def on_offer_made(event: DecodedEvent, uow: UnitOfWork[Monitoring]) -> None:
    p = event.payload
    assert isinstance(p, OfferMade)
    case_id = event.envelope.case_id
    with uow:
        known = repo.lock_renegotiation(uow.conn, case_id)
        if known is None:
            return  # offers of first negotiations do not concern monitoring
        repo.insert_offer(uow.conn, p.offer_id, case_id, p.expires_on)
        _save(uow, known, rn.offer_made(known))


def on_offer_expired(event: DecodedEvent, uow: UnitOfWork[Monitoring]) -> None:
    p = event.payload
    assert isinstance(p, OfferExpired)
    case_id = event.envelope.case_id
    with uow:
        repo.set_offer_state(uow.conn, p.offer_id, "expired", only_from="open")
        known = repo.lock_renegotiation(uow.conn, case_id)
        if known is not None:
            left = repo.offers_left(uow.conn, case_id)
            _save(uow, known, rn.offer_expired(known, p.expired_on, offers_left=left))


def on_offer_accepted(event: DecodedEvent, uow: UnitOfWork[Monitoring]) -> None:
    p = event.payload
    assert isinstance(p, OfferAccepted)
    case_id = event.envelope.case_id
    with uow:
        repo.set_offer_state(uow.conn, p.offer_id, "accepted")
        known = repo.lock_renegotiation(uow.conn, case_id)
        if known is not None:
            _save(uow, known, rn.offer_accepted(known))


def _save(uow: UnitOfWork[Monitoring], before: rn.Renegotiation, after: rn.Renegotiation) -> None:
    if after != before:
        repo.save_renegotiations(uow.conn, [after])

"""Where an agreement goes next: completion, cure, or a step up the escalation ladder.

One routine for both doors: a payment may complete or cure an agreement at once; the COB
sweep escalates by DPD and missed instalments. Every transition is recorded and announced
in the caller's transaction (events go through the outbox).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from forbear_shared import metrics
from forbear_shared.domain.arrears import LoanLedger, arrears_as_of
from forbear_shared.domain.money import Money
from forbear_shared.events.schemas.common import Reason, ScheduleDoc
from forbear_shared.events.schemas.monitoring import (
    AgreementCompleted,
    AgreementCured,
    AgreementEscalated,
    AgreementReferred,
    CreditStandingUpdated,
    Dossier,
    DossierContact,
    DossierEvidence,
    DossierNotice,
    DossierPayment,
    DossierSignedPdf,
    LegalReferral,
    NoticeRequested,
    ReferralBlocked,
)
from forbear_shared.topics import CREDIT_UPDATES, LEGAL_REFERRALS, MONITORING_EVENTS, NOTIFICATIONS
from forbear_shared.unit_of_work import UnitOfWork
from psycopg.types.json import Jsonb

from forbear_monitoring.adapters import repository as repo
from forbear_monitoring.bootstrap import Monitoring
from forbear_monitoring.domain import escalation
from forbear_monitoring.domain.dual_tracking import PendingKind, PendingMatter
from forbear_monitoring.domain.escalation import EscalationState, EscalationStep, ReviewOutcome, Stage

log = logging.getLogger(__name__)

NOTICE_LEVELS = {Stage.REMINDER, Stage.WARNING, Stage.BREACH_NOTICE}


@dataclass
class Effects:
    """Metric increments, applied by the caller once the transaction committed."""

    notices: Counter[str] = field(default_factory=Counter)
    transitions: Counter[str] = field(default_factory=Counter)
    referrals: Counter[str] = field(default_factory=Counter)
    missed: int = 0
    #: early warnings by outcome (near_breach, cleared, superseded)
    early_warnings: Counter[str] = field(default_factory=Counter)
    #: promises to pay judged, by outcome (kept, broken)
    promises: Counter[str] = field(default_factory=Counter)

    def merge(self, other: Effects) -> None:
        self.notices.update(other.notices)
        self.transitions.update(other.transitions)
        self.referrals.update(other.referrals)
        self.missed += other.missed
        self.early_warnings.update(other.early_warnings)
        self.promises.update(other.promises)

    def publish(self) -> None:
        for level, n in self.notices.items():
            metrics.NOTICES.labels(level).inc(n)
        for transition, n in self.transitions.items():
            metrics.AGREEMENTS.labels(transition).inc(n)
        for route, n in self.referrals.items():
            metrics.LEGAL_REFERRALS.labels(route).inc(n)
        if self.missed:
            metrics.INSTALMENTS_MISSED.inc(self.missed)
        for outcome, n in self.early_warnings.items():
            metrics.NEAR_BREACHES.labels(outcome).inc(n)
        for outcome, n in self.promises.items():
            metrics.PROMISES.labels(outcome).inc(n)


class Writes:
    """``review``'s writes, collected and recorded a few statements at a time.

    Escalation steps, notices, ladder moves, referral-block marks and events (outbox rows)
    are appended in the order ``review`` makes them and written by ``flush`` as one
    multi-row statement per table, in that order (outbox ids, and so publishing order, are
    unchanged). Anything that reads back what was written (a referral's dossier) or writes
    elsewhere flushes first, so it sees what one-by-one writes would have shown it. A sweep
    shares one collector over all agreements it moves.
    """

    def __init__(self, uow: UnitOfWork[Monitoring]) -> None:
        self.uow = uow
        self.steps: list[tuple[str, str, str, dt.date, str]] = []
        self.notices: list[dict[str, Any]] = []
        self.levels: list[tuple[str, str, dt.date, dt.date | None, bool]] = []
        self.blocked: list[tuple[str, dt.date | None]] = []
        self.events: list[tuple[Any, str]] = []

    def add_step(self, agreement_id: str, from_level: str, to_level: str, on: dt.date, reason: str) -> None:
        self.steps.append((agreement_id, from_level, to_level, on, reason))

    def add_notice(self, row: dict[str, Any]) -> None:
        self.notices.append(row)

    def set_level(self, agreement_id: str, *, level: str, since: dt.date, remedy_deadline: dt.date | None,
                  breached: bool) -> None:
        self.levels.append((agreement_id, level, since, remedy_deadline, breached))

    def set_referral_blocked(self, agreement_id: str, since: dt.date | None) -> None:
        self.blocked.append((agreement_id, since))

    def emit(self, *, type: str, payload: Any, case_id: str, topic: str, business_date: dt.date) -> None:
        self.events.append(self.uow.event(type=type, payload=payload, case_id=case_id, topic=topic,
                                          business_date=business_date))

    def flush(self) -> None:
        """Write everything collected so far (an agreement's updates never repeat in one flush:
        ``review`` sets each at most once per agreement)."""
        conn = self.uow.conn
        steps, self.steps = self.steps, []
        notices, self.notices = self.notices, []
        levels, self.levels = self.levels, []
        blocked, self.blocked = self.blocked, []
        events, self.events = self.events, []
        repo.add_steps(conn, steps)
        repo.add_notices(conn, notices)
        repo.set_levels(conn, levels)
        repo.set_referrals_blocked(conn, blocked)
        self.uow.emit_many(events)


def state_of(agreement: dict[str, Any]) -> EscalationState:
    return EscalationState(Stage(agreement["level"]), agreement["level_since"], agreement["remedy_deadline"])


def pending_matters(rows: list[dict[str, Any]]) -> dict[str, list[PendingMatter]]:
    """The guard's facts from the renegotiation projection: what is still open, per agreement."""
    kinds = {
        "requested": PendingKind.RENEGOTIATION_REQUEST,
        "evaluating": PendingKind.EVALUATION,
        "offered": PendingKind.OPEN_OFFER,
        "accepted": PendingKind.OPEN_OFFER,
        "appealed": PendingKind.APPEAL,
    }
    out: dict[str, list[PendingMatter]] = {}
    for r in rows:
        reference = r["offer_ids"] if r["state"] in ("offered", "accepted") and r["offer_ids"] else r["case_id"]
        if r["state"] == "appealed" and r.get("appeal_id"):
            reference = r["appeal_id"]
        out.setdefault(r["agreement_id"], []).append(PendingMatter(kinds[r["state"]], r["agreement_id"], reference))
    return out


def review(
    uow: UnitOfWork[Monitoring],
    agreement: dict[str, Any],
    ledger: LoanLedger,
    as_of: dt.date,
    *,
    escalate: bool,
    referral_block: str | None = None,
    broken_agreements: int = 0,
    writes: Writes | None = None,
    promise_broken: bool = False,
    promise_open: bool = False,
) -> Effects:
    """Let the domain decide one agreement's next move (``domain.escalation.review``) on what
    the caller loaded, then record and announce it. With ``writes`` (a sweep's collector) the
    caller flushes; without, everything is written before returning."""
    w = writes if writes is not None else Writes(uow)
    effects = Effects()
    if agreement["status"] == "active":
        decision = escalation.review(
            uow.service.ladder, state_of(agreement), ledger, as_of=as_of, policy=uow.policy, escalate=escalate,
            referral_block=referral_block, blocked_since=agreement["referral_blocked_since"],
            broken_agreements=broken_agreements, promise_broken=promise_broken, promise_open=promise_open)
        effects = _record(uow, w, agreement, ledger, as_of, decision)
    if writes is None:
        w.flush()
    return effects


def _record(uow: UnitOfWork[Monitoring], w: Writes, agreement: dict[str, Any], ledger: LoanLedger, as_of: dt.date,
            decision: escalation.Review) -> Effects:
    effects = Effects()
    agreement_id = agreement["agreement_id"]
    if decision.outcome is ReviewOutcome.COMPLETED:
        _record_step(w, agreement, decision.steps[0], dpd=0, missed=0)
        w.flush()  # a direct write: what was collected goes first
        repo.close_agreement(uow.conn, agreement_id, "completed", as_of, level=Stage.COMPLETED.value)
        _emit(w, agreement, "agreement.completed",
              AgreementCompleted(agreement_id=agreement_id, borrower_id=agreement["borrower_id"], on=as_of),
              MONITORING_EVENTS.name, as_of)
        _emit(w, agreement, "credit.standing_updated",
              CreditStandingUpdated(borrower_id=agreement["borrower_id"], agreement_id=agreement_id,
                                    standing="plan_completed", on=as_of),
              CREDIT_UPDATES.name, as_of)
        effects.transitions["completed"] += 1
        return effects
    if decision.outcome is ReviewOutcome.CURED:
        _record_step(w, agreement, decision.steps[0], dpd=0, missed=0)
        w.set_level(agreement_id, level=decision.state.stage.value, since=as_of, remedy_deadline=None, breached=False)
        w.set_referral_blocked(agreement_id, None)
        _emit(w, agreement, "agreement.cured",
              AgreementCured(agreement_id=agreement_id, from_level=agreement["level"], on=as_of),
              MONITORING_EVENTS.name, as_of)
        effects.transitions["cured"] += 1
        return effects

    dpd, missed = decision.days_past_due, decision.missed_instalments
    for step in decision.steps:
        _record_step(w, agreement, step, dpd=dpd, missed=missed)
        if step.to_stage in NOTICE_LEVELS:
            assert decision.amount_overdue is not None
            notice_id = uuid.uuid4()
            w.add_notice({
                "notice_id": notice_id, "agreement_id": agreement_id, "level": step.to_stage.value,
                "on_date": as_of, "days_past_due": dpd, "amount_overdue": decision.amount_overdue.amount,
                "remedy_deadline": step.remedy_deadline,
            })
            _emit(w, agreement, "notice.requested",
                  NoticeRequested(notice_id=str(notice_id), agreement_id=agreement_id,
                                  borrower_id=agreement["borrower_id"], level=step.to_stage.value,
                                  days_past_due=dpd, amount_overdue=decision.amount_overdue.amount,
                                  remedy_deadline=step.remedy_deadline, on=as_of),
                  NOTIFICATIONS.name, as_of)
            effects.notices[step.to_stage.value] += 1
            if step.to_stage is Stage.BREACH_NOTICE:
                effects.transitions["breached"] += 1
        elif step.to_stage is Stage.LEGAL_REFERRAL:
            _refer(uow, w, agreement, ledger, as_of, step, decision)
            assert decision.referral is not None
            effects.transitions["referred"] += 1
            effects.referrals[decision.referral.route.value] += 1
    final = decision.state
    if decision.referred:
        return effects  # closing the agreement set its level and cleared its block mark
    if decision.steps:
        w.set_level(agreement_id, level=final.stage.value, since=final.since,
                    remedy_deadline=final.remedy_deadline, breached=final.stage is Stage.BREACH_NOTICE)
    if decision.announce_block:
        assert decision.referral_held is not None
        reasons = [Reason(code=r.split(":", 1)[0], detail=r) for r in decision.referral_held.split(";")]
        _emit(w, agreement, "referral.blocked",
              ReferralBlocked(agreement_id=agreement_id, reasons=reasons, on=as_of), MONITORING_EVENTS.name, as_of)
    if decision.blocked_since != agreement["referral_blocked_since"]:
        w.set_referral_blocked(agreement_id, decision.blocked_since)
    return effects


def _record_step(w: Writes, agreement: dict[str, Any], step: EscalationStep, *, dpd: int, missed: int) -> None:
    w.add_step(agreement["agreement_id"], step.from_stage.value, step.to_stage.value, step.on, step.reason)
    if step.to_stage in (Stage.CURRENT, Stage.COMPLETED):
        return  # announced as agreement.cured / agreement.completed
    _emit(w, agreement, "agreement.escalated",
          AgreementEscalated(agreement_id=agreement["agreement_id"], from_level=step.from_stage.value,
                             to_level=step.to_stage.value, days_past_due=dpd, missed_instalments=missed,
                             remedy_deadline=step.remedy_deadline, on=step.on),
          MONITORING_EVENTS.name, step.on)


def _refer(uow: UnitOfWork[Monitoring], w: Writes, agreement: dict[str, Any], ledger: LoanLedger,
           as_of: dt.date, step: EscalationStep, decision: escalation.Review) -> None:
    """Record the referral the review decided, with its dossier: a copy of the records as they
    stand, this sweep's notices included (so they are written first)."""
    assert decision.referral is not None and decision.outstanding is not None
    w.flush()
    conn = uow.conn
    choice = decision.referral
    agreement_id = agreement["agreement_id"]
    dossier = build_dossier(uow, agreement, ledger, as_of, outstanding=decision.outstanding)
    referral_id = uuid.uuid4()
    reasons = [Reason(code=step.reason), Reason(code=choice.reason)]
    payload = LegalReferral(referral_id=str(referral_id), agreement_id=agreement_id,
                            borrower_id=agreement["borrower_id"], route=choice.route.value, reasons=reasons,
                            referred_on=as_of, dossier=dossier)
    repo.add_referral(conn, {
        "referral_id": referral_id, "agreement_id": agreement_id, "borrower_id": agreement["borrower_id"],
        "route": choice.route.value, "reasons": Jsonb([r.model_dump() for r in reasons]), "referred_on": as_of,
        "dossier": Jsonb(dossier.model_dump(mode="json")),
    })
    repo.close_agreement(conn, agreement_id, "referred", as_of, level=Stage.LEGAL_REFERRAL.value,
                         level_since=as_of, referral_blocked_since=None)
    _emit(w, agreement, "legal.referral", payload, LEGAL_REFERRALS.name, as_of)
    _emit(w, agreement, "agreement.referred",
          AgreementReferred(agreement_id=agreement_id, referral_id=str(referral_id), route=choice.route.value,
                            on=as_of),
          MONITORING_EVENTS.name, as_of)
    _emit(w, agreement, "credit.standing_updated",
          CreditStandingUpdated(borrower_id=agreement["borrower_id"], agreement_id=agreement_id,
                                standing="plan_breached", on=as_of),
          CREDIT_UPDATES.name, as_of)
    log.info("agreement referred to legal", extra={"agreement_id": agreement_id, "route": choice.route.value})


def build_dossier(uow: UnitOfWork[Monitoring], agreement: dict[str, Any], ledger: LoanLedger,
                  as_of: dt.date, *, outstanding: Money) -> Dossier:
    """Everything the legal team needs: agreement, schedule, payments, notices, contacts, evidence."""
    conn = uow.conn
    policy = uow.policy
    agreement_id = agreement["agreement_id"]
    arrears = arrears_as_of(ledger, as_of=as_of, policy=policy)
    cases = repo.dossier_case_ids(conn, agreement_id)
    return Dossier(
        agreement_id=agreement_id,
        document_sha256=agreement["document_sha256"],
        option=agreement["option"],
        activated_on=agreement["activated_on"],
        schedule=ScheduleDoc.model_validate(ledger.schedule.to_dict()),
        missed_instalments=[r["number"] for r in repo.missed_of(conn, agreement_id)],
        amount_overdue=arrears.total.amount,
        outstanding_balance=outstanding.amount,
        payments=[
            DossierPayment(reference=p["reference"], amount=p["amount"], received_on=p["received_on"], source=p["source"])
            for p in repo.payments_of(conn, agreement_id)
        ],
        notices=[
            DossierNotice(notice_id=str(n["notice_id"]), level=n["level"], on=n["on_date"],
                          remedy_deadline=n["remedy_deadline"])
            for n in repo.notices_of(conn, agreement_id)
        ],
        communications=[
            DossierContact(contact_id=c["contact_id"], party=c["party"], channel=c["channel"],
                           direction=c["direction"], outcome=c["outcome"], on=c["on_date"])
            for c in repo.contacts_of(conn, cases)
        ],
        evidence=[
            DossierEvidence(document_id=e["document_id"], document_type=e["document_type"], status=e["status"],
                            sha256=e["sha256"])
            for e in repo.evidence_of(conn, cases)
        ],
        signed_pdf=DossierSignedPdf(sha256=agreement["signed_pdf_sha256"], href=agreement["signed_pdf_href"])
        if agreement.get("signed_pdf_sha256") and agreement.get("signed_pdf_href") else None,
    )


def _emit(w: Writes, agreement: dict[str, Any], type_: str, payload: Any, topic: str, on: dt.date) -> None:
    w.emit(type=type_, payload=payload, case_id=agreement["case_id"], topic=topic, business_date=on)

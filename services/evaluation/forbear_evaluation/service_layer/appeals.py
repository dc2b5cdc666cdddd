"""Appeals of a decline: lodged by the borrower or their representative, decided by a second
supervisor (the rules are ``domain/appeals.py``).

An overturned appeal sets the decline aside the one way the case can honestly be evaluated
again: a new decision on the case's latest submission, ``need_more_evidence`` with the reason
``appeal_overturned``, made by the reviewing supervisor. It is the path a case already takes when
evaluation asks for more: intake moves the case back to gathering evidence (where the appeal's
new evidence is uploaded and reviewed), the case is submitted again, and the rules decide it
afresh on what it now holds. An overturn does not invent offers the rules never computed, and
the rules are never bypassed. Upheld, the decline stands and the appeal is closed.

Every step is one transaction: the appeal row, the decision (on an overturn), the audit and the
``appeal.lodged`` / ``appeal.decided`` (and ``case.decided``) events commit together.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from forbear_shared import metrics
from forbear_shared.auth import Principal
from forbear_shared.db import on_commit
from forbear_shared.domain.policy import RepresentativeKind
from forbear_shared.domain.representatives import Representative, RepresentativeScope
from forbear_shared.errors import NotFound
from forbear_shared.events import DecodedEvent
from forbear_shared.events.schemas.common import Phrase, Reason
from forbear_shared.events.schemas.evaluation import AppealDecided, AppealLodged
from forbear_shared.events.schemas.intake import (
    CaseSubmitted,
    EvidenceReviewed,
    RepresentativeAuthorised,
    RepresentativeRevoked,
)
from forbear_shared.ids import new_id
from forbear_shared.unit_of_work import UnitOfWork

from forbear_evaluation.adapters import repository as repo
from forbear_evaluation.bootstrap import Evaluation
from forbear_evaluation.domain import appeals as rules
from forbear_evaluation.domain import review as review_rules
from forbear_evaluation.service_layer import views
from forbear_evaluation.service_layer.decisions import CaseFacts, Verdict, record_decision

log = logging.getLogger(__name__)

REPRESENTATIVE_AUTHORISATION = "representative_authorisation"


@dataclass(frozen=True)
class LodgeAppeal:
    decision_id: str
    statement: str
    evidence: tuple[rules.NewEvidence, ...]
    who: Principal
    #: an agent recording the appeal of the borrower's authorised representative
    representative_id: str | None = None


@dataclass(frozen=True)
class DecideAppeal:
    appeal_id: str
    outcome: rules.AppealOutcome
    reason: str
    who: Principal


def _representatives(rows: list[dict[str, Any]]) -> list[Representative]:
    return [Representative(r["representative_id"], RepresentativeKind(r["kind"]),
                           frozenset(RepresentativeScope(s) for s in r["scopes"]), r["starts_on"], r["ends_on"],
                           r["revoked_on"], r["document_rejected"]) for r in rows]


def _facts(row: dict[str, Any]) -> rules.DecisionFacts:
    return rules.DecisionFacts(row["decision_id"], row["case_id"], row["borrower_id"], row["outcome"],
                               row["decided_on"], row["decided_by_subject"], bool(row["latest"]))


def lodge_appeal(cmd: LodgeAppeal, uow: UnitOfWork[Evaluation]) -> views.AppealView:
    """The borrower (or their representative) appeals a decline within the window."""
    with uow:
        row = repo.lock_decision_case(uow.conn, cmd.decision_id)
        if row is None:
            raise NotFound("decision", cmd.decision_id)
        today = uow.business_date
        facts = _facts(row)
        caller = rules.Caller(cmd.who.role, cmd.who.borrower_id)
        lodged_by = rules.check_appellant(facts, caller, cmd.representative_id,
                                          _representatives(repo.representatives_of(uow.conn, facts.case_id)), today)
        statement = rules.written_statement(cmd.statement, cmd.evidence, uow.policy)
        deadline = rules.check_appealable(facts, appeals_so_far=int(row["appeals_so_far"]), today=today,
                                          policy=uow.policy)
        appeal = {
            "appeal_id": new_id("apl"), "case_id": facts.case_id, "borrower_id": facts.borrower_id,
            "decision_id": facts.decision_id, "lodged_on": today, "deadline": deadline,
            "lodged_by": lodged_by.value, "representative_id": cmd.representative_id,
            "recorded_by_subject": cmd.who.subject, "recorded_by_role": cmd.who.role, "statement": statement,
            "evidence": [{"document_type": e.document_type, "description": e.description.strip()}
                         for e in cmd.evidence],
        }
        repo.insert_appeal(uow.conn, appeal)
        submitted = CaseSubmitted.model_validate(row["submitted"])
        uow.emit(type="appeal.lodged", case_id=facts.case_id, business_date=today, payload=AppealLodged(
            appeal_id=appeal["appeal_id"], decision_id=facts.decision_id, borrower_id=facts.borrower_id,
            lodged_on=today, deadline=deadline, lodged_by=lodged_by.value, representative_id=cmd.representative_id,
            evidence_types=[e.document_type for e in cmd.evidence],
            renegotiates_agreement_id=submitted.renegotiates_agreement_id,
        ))
        on_commit(uow.conn, metrics.APPEALS.labels("lodged").inc)
        log.info("appeal lodged", extra={"appeal_id": appeal["appeal_id"], "lodged_by": lodged_by.value})
        return views.appeal_view({**appeal, "status": rules.AppealStatus.PENDING.value,
                                  "decision_decided_by_subject": facts.decided_by_subject},
                                 staff=cmd.who.is_staff)


def decide_appeal(cmd: DecideAppeal, uow: UnitOfWork[Evaluation]) -> views.AppealView:
    """A supervisor other than the decider upholds the decline or overturns it, with a written reason."""
    reason = review_rules.written_reason(cmd.reason)
    with uow:
        row = repo.lock_appeal(uow.conn, cmd.appeal_id)
        if row is None:
            raise NotFound("appeal", cmd.appeal_id)
        rules.check_reviewer(status=row["status"], appeal_id=cmd.appeal_id,
                             decided_by_subject=row["decision_decided_by_subject"],
                             reviewer_subject=cmd.who.subject, reviewer_role=cmd.who.role)
        today = uow.business_date
        submitted = CaseSubmitted.model_validate(row["submitted"])
        outcome_decision_id = None
        if cmd.outcome is rules.AppealOutcome.OVERTURN:
            verdict = Verdict("need_more_evidence", [Reason(
                code="appeal_overturned",
                detail=f"appeal {cmd.appeal_id} set aside decline {row['decision_id']}: the case is evaluated "
                       "again once the appeal's evidence is in",
                phrase=Phrase(key="reason_detail.appeal_overturned",
                              args={"appeal": cmd.appeal_id, "decision": row["decision_id"]}))],
                [], uow.policy.for_case(row["case_id"]).version)
            decided = record_decision(uow, CaseFacts.of(row), submitted, verdict, today, trigger="appeal",
                                      causation=None, decided_by="supervisor", actor=cmd.who,
                                      override_reason=reason, supersedes=row["decision_id"])
            outcome_decision_id = decided.decision_id
        status = cmd.outcome.status
        written = repo.close_appeal(uow.conn, cmd.appeal_id, status=status.value, decided_on=today,
                                    decided_by_subject=cmd.who.subject, reason=reason,
                                    outcome_decision_id=outcome_decision_id)
        uow.emit(type="appeal.decided", case_id=row["case_id"], business_date=today, payload=AppealDecided(
            appeal_id=cmd.appeal_id, decision_id=row["decision_id"], borrower_id=row["borrower_id"],
            outcome=status.value, decided_on=today, outcome_decision_id=outcome_decision_id,  # type: ignore[arg-type]
            renegotiates_agreement_id=submitted.renegotiates_agreement_id,
        ))
        on_commit(uow.conn, metrics.APPEALS.labels(status.value).inc)
        log.info("appeal decided", extra={"appeal_id": cmd.appeal_id, "outcome": status.value})
        return views.appeal_view({**written, "decision_decided_by_subject": row["decision_decided_by_subject"]},
                                 staff=True)


# -- who may appeal for a borrower: intake's representatives, from its events -------------------

def on_representative_authorised(event: DecodedEvent, uow: UnitOfWork[Evaluation]) -> None:
    p = event.payload
    assert isinstance(p, RepresentativeAuthorised)
    with uow:
        repo.upsert_representative(uow.conn, event.envelope.case_id, {
            "representative_id": p.representative_id, "kind": p.kind, "scopes": list(p.scopes),
            "starts_on": p.starts_on, "ends_on": p.ends_on, "revoked_on": None, "document_id": p.document_id,
        })


def on_representative_revoked(event: DecodedEvent, uow: UnitOfWork[Evaluation]) -> None:
    p = event.payload
    assert isinstance(p, RepresentativeRevoked)
    with uow:
        repo.revoke_representative(uow.conn, event.envelope.case_id, p.representative_id, p.revoked_on)


def on_evidence_reviewed(event: DecodedEvent, uow: UnitOfWork[Evaluation]) -> None:
    """An authorisation rests on its document: a rejected one makes its representative inactive."""
    p = event.payload
    assert isinstance(p, EvidenceReviewed)
    with uow:
        if p.document_type != REPRESENTATIVE_AUTHORISATION:
            return
        repo.set_authorisation_document_rejected(uow.conn, event.envelope.case_id, p.document_id,
                                                 p.outcome == "rejected")

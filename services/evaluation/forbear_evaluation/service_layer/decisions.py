"""Evaluation use cases: decide a submitted case, answer a counter-proposal, decide a review.

Each use case is one transaction: the decision row, the review queue, the audit and the
``case.decided`` event in the outbox commit together or not at all. Decisions use the lender's
business date (our projection, or the date the triggering event was made on if that is later:
a sibling service has already seen that date), never the wall clock.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from forbear_shared import metrics
from forbear_shared.auth import Principal
from forbear_shared.domain.hardship import HardshipCategory
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import Policy
from forbear_shared.errors import NotFound
from forbear_shared.events import DecodedEvent, Envelope
from forbear_shared.events.schemas.agreement import OfferCountered
from forbear_shared.events.schemas.common import Phrase, Reason
from forbear_shared.events.schemas.evaluation import CaseDecided, OfferTerms
from forbear_shared.events.schemas.intake import CaseSubmitted
from forbear_shared.ids import new_id
from forbear_shared.unit_of_work import UnitOfWork

from forbear_evaluation.adapters import repository as repo
from forbear_evaluation.bootstrap import Evaluation
from forbear_evaluation.domain import review as review_rules
from forbear_evaluation.domain.appeals import appeal_deadline
from forbear_evaluation.domain.counter_proposal import CounterProposal, evaluate_counter
from forbear_evaluation.domain.evaluate import evaluate
from forbear_evaluation.domain.without_statement import decide_without_statement
from forbear_evaluation.service_layer.mapping import (
    assessment_of,
    case_from_submission,
    effective_deadline,
    evidence_of,
    offer_terms,
    reasons_of,
)
from forbear_evaluation.service_layer.views import DecisionView, decision_view

log = logging.getLogger(__name__)

Trigger = Literal["submission", "counter_proposal", "supervisor_review", "appeal"]
SYSTEM_ACTOR = "evaluation-rules"
SUPERVISOR_CODES = {"approve": "supervisor_approved", "decline": "supervisor_declined"}
SUPERVISOR_ACTIONS = {"approve": "approved", "decline": "declined"}


@dataclass(frozen=True)
class Verdict:
    """What is decided, in the contract's terms, before it is recorded."""

    outcome: str
    reasons: list[Reason]
    offers: list[OfferTerms]
    policy_version: str
    assessment: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DecideReview:
    """A supervisor approves (some of) the rules' offers, or declines, with a written reason."""

    review_id: str
    outcome: Literal["approve", "decline"]
    reason: str
    who: Principal
    #: approve only these offers of the rules' decision, in this order (None: all of them)
    offer_ranks: tuple[int, ...] | None = None


@dataclass(frozen=True)
class CaseFacts:
    """What recording a decision needs to know about its case, as loaded under the case's lock."""

    case_id: str
    borrower_id: str
    submission: int
    opened_on: dt.date
    first_decided_on: dt.date | None
    #: the review a new rules decision supersedes
    open_review_id: str | None = None

    @classmethod
    def of(cls, row: dict[str, Any]) -> CaseFacts:
        return cls(row["case_id"], row["borrower_id"], row["latest_submission"], row["opened_on"],
                   row["first_decided_on"], row.get("open_review_id"))


# -- the rules' verdict (pure: no I/O) ---------------------------------------------------------

def judge(case_id: str, submitted: CaseSubmitted, as_of: dt.date, policy: Policy) -> Verdict:
    """The rules' verdict on a submission, under the policy of the case's arm (``Policy.for_case``)."""
    policy = policy.for_case(case_id)
    if submitted.statement is None:
        decided = decide_without_statement(HardshipCategory(submitted.hardship_category), evidence_of(submitted),
                                           effective_deadline(submitted, as_of), as_of)
        return Verdict(decided.outcome.value, reasons_of(decided.reasons), [], policy.version,
                       {"as_of": as_of.isoformat(), "evidence_missing": list(decided.missing)})
    decision = evaluate(case_from_submission(case_id, submitted, policy.currency, as_of), policy, as_of)
    return Verdict(decision.outcome.value, reasons_of(decision.reasons), [offer_terms(o) for o in decision.offers],
                   decision.policy_version, assessment_of(decision))


def answer_counter(
    case_id: str, submitted: CaseSubmitted, counter: OfferCountered, answering: str, as_of: dt.date, policy: Policy,
) -> Verdict:
    """The rules re-run on the case with the borrower's proposal as a constraint, under the
    policy of the case's arm."""
    if submitted.statement is None:
        verdict = judge(case_id, submitted, as_of, policy)
        return Verdict(verdict.outcome, [*verdict.reasons, Reason(
            code="counter_proposal_declined", detail=f"{answering}: no statement",
            phrase=Phrase(key="reason_detail.counter_proposal_declined.no_statement", args={"offer": answering}))],
                       verdict.offers, verdict.policy_version, verdict.assessment)
    policy = policy.for_case(case_id)
    proposal = CounterProposal(
        Money.of(counter.proposed_instalment, policy.currency) if counter.proposed_instalment is not None else None,
        counter.proposed_term_months,
    )
    result = evaluate_counter(case_from_submission(case_id, submitted, policy.currency, as_of), policy, as_of, proposal)
    decision = result.decision
    return Verdict(decision.outcome.value,
                   [*reasons_of(decision.reasons), Reason(
                       code=result.code, detail=f"{answering}: {result.detail}",
                       phrase=Phrase(key=result.key, args={"offer": answering, **result.args}))],
                   [offer_terms(o) for o in decision.offers], decision.policy_version, assessment_of(decision))


def _as_of(uow: UnitOfWork[Evaluation], announced: Envelope) -> dt.date:
    """Our business date, or the date the event was made on if a sibling service is ahead of us."""
    return max(uow.business_date, announced.business_date)


# -- events in -----------------------------------------------------------------------------------

def on_case_submitted(event: DecodedEvent, uow: UnitOfWork[Evaluation]) -> None:
    env, submitted = event.envelope, event.payload
    assert isinstance(submitted, CaseSubmitted)
    with uow:
        existing = repo.lock_case(uow.conn, env.case_id)
        if existing is not None and existing["latest_submission"] >= submitted.submission:
            log.info("stale submission ignored", extra={"submission": submitted.submission,
                                                        "latest": existing["latest_submission"]})
            return
        if existing is not None and existing["borrower_id"] != submitted.borrower_id:
            raise ValueError("a case cannot change borrower between submissions")
        as_of = _as_of(uow, env)
        verdict = judge(env.case_id, submitted, as_of, uow.policy)
        repo.save_submission(
            uow.conn, case_id=env.case_id, borrower_id=submitted.borrower_id, opened_on=submitted.opened_on,
            submission=submitted.submission, submitted=submitted.model_dump(mode="json"), submitted_on=as_of,
        )
        case = CaseFacts(
            env.case_id, submitted.borrower_id, submitted.submission,
            existing["opened_on"] if existing is not None else submitted.opened_on,
            existing["first_decided_on"] if existing is not None else None,
            existing["open_review_id"] if existing is not None else None,
        )
        record_decision(uow, case, submitted, verdict, as_of, trigger="submission", causation=env)


def on_personal_data_erased(event: DecodedEvent, uow: UnitOfWork[Evaluation]) -> None:
    """Intake erased the closed case's personal data: the copy of its statement goes too, and the
    grounds of its appeals (the borrower's own words).
    The decisions stay: they are the lender's record of why it decided, in figures and codes."""
    with uow:
        repo.erase_statement(uow.conn, event.envelope.case_id)
        repo.erase_appeal_statements(uow.conn, event.envelope.case_id)


def on_offer_countered(event: DecodedEvent, uow: UnitOfWork[Evaluation]) -> None:
    """Re-run the rules on the case's latest submission with the proposal as a constraint.

    The countered offer is one agreement made from the case's latest approval (every decision
    withdraws the offers before it), so the answer names that decision."""
    env, counter = event.envelope, event.payload
    assert isinstance(counter, OfferCountered)
    with uow:
        row = repo.lock_case(uow.conn, env.case_id)
        if row is None:
            raise NotFound("case", env.case_id)  # a counter on a case never submitted here: dead-letter it
        submitted = CaseSubmitted.model_validate(row["submitted"])
        as_of = _as_of(uow, env)
        answering = f"offer {counter.offer_id}" + (f" of decision {row['approval_id']}" if row["approval_id"] else "")
        verdict = answer_counter(env.case_id, submitted, counter, answering, as_of, uow.policy)
        record_decision(uow, CaseFacts.of(row), submitted, verdict, as_of, trigger="counter_proposal", causation=env)


# -- supervisor review ---------------------------------------------------------------------------

def decide_review(cmd: DecideReview, uow: UnitOfWork[Evaluation]) -> DecisionView:
    """A supervisor approves (some of) the rules' offers or declines, with a written reason."""
    reason = review_rules.written_reason(cmd.reason)
    with uow:
        review = repo.lock_review(uow.conn, cmd.review_id)
        if review is None:
            raise NotFound("review", cmd.review_id)
        review_rules.check_open(cmd.review_id, review["status"], review["outcome_decision_id"])
        rules_id = review["decision_id"]
        offered = [OfferTerms.model_validate(o) for o in review["rules_offers"]]
        offers: list[OfferTerms] = []
        if cmd.outcome == "approve":
            by_rank = {o.rank: o for o in offered}
            ranks = review_rules.approved_ranks([o.rank for o in offered], cmd.offer_ranks, rules_id)
            offers = [by_rank[r].model_copy(update={"rank": i}) for i, r in enumerate(ranks, start=1)]
        verdict = Verdict(
            cmd.outcome,
            [Reason.model_validate(r) for r in review["rules_reasons"]]
            + [Reason(code=SUPERVISOR_CODES[cmd.outcome],
                      detail=f"review {cmd.review_id} decided by a supervisor (written reason recorded)",
                      phrase=Phrase(key="reason_detail.supervisor", args={"review": cmd.review_id}))],
            offers,
            review["rules_policy_version"],
            review["rules_assessment"],
        )
        as_of = uow.business_date
        decided = record_decision(
            uow, CaseFacts.of(review), CaseSubmitted.model_validate(review["submitted"]), verdict, as_of,
            trigger="supervisor_review", causation=None, decided_by="supervisor", actor=cmd.who,
            override_reason=reason, supersedes=rules_id,
        )
        repo.close_review(uow.conn, cmd.review_id, status="decided", closed_on=as_of,
                          outcome_decision_id=decided.decision_id)
        repo.append_audit(
            uow.conn, review_id=cmd.review_id, case_id=review["case_id"], action=SUPERVISOR_ACTIONS[cmd.outcome],
            actor_subject=cmd.who.subject, actor_role=cmd.who.role, reason=reason,
            before={"status": "open", "outcome": review["rules_outcome"], "decision_id": rules_id,
                    "offer_ranks": [o.rank for o in offered]},
            after={"status": "decided", "outcome": cmd.outcome, "decision_id": decided.decision_id,
                   "offer_ranks": [o.rank for o in offers]},
            business_date=as_of,
        )
        return decision_view(asdict(decided), uow.policy, staff=True)


# -- recording -----------------------------------------------------------------------------------

def record_decision(
    uow: UnitOfWork[Evaluation], case: CaseFacts, submitted: CaseSubmitted, verdict: Verdict, as_of: dt.date, *,
    trigger: Trigger, causation: Envelope | None, decided_by: Literal["rules", "supervisor"] = "rules",
    actor: Principal | None = None, override_reason: str | None = None, supersedes: str | None = None,
) -> repo.DecisionRow:
    """Store a decision, open/supersede reviews, emit ``case.decided``; return what was stored."""
    decision_id = new_id("dec")
    deadline = appeal_deadline(as_of, uow.policy) if verdict.outcome == "decline" else None
    envelope = uow.emit(
        type="case.decided", case_id=case.case_id, business_date=as_of, causation=causation,
        payload=CaseDecided(
            decision_id=decision_id,
            borrower_id=case.borrower_id,
            outcome=verdict.outcome,  # type: ignore[arg-type]
            reasons=verdict.reasons,
            policy_version=verdict.policy_version,
            offers=verdict.offers,
            decided_on=as_of,
            decided_by=decided_by,
            override_reason=override_reason,
            submission=case.submission,
            renegotiates_agreement_id=submitted.renegotiates_agreement_id,
            appeal_deadline=deadline,
        ),
    )
    if trigger not in ("supervisor_review", "appeal") and case.open_review_id is not None:
        # a new rules decision replaces whatever a supervisor was about to decide
        _supersede(uow, case, decision_id, as_of)
    decided = repo.DecisionRow(
        decision_id=decision_id, case_id=case.case_id, borrower_id=case.borrower_id,
        submission=case.submission, trigger=trigger, outcome=verdict.outcome, decided_by=decided_by,
        decided_by_subject=actor.subject if actor else None, override_reason=override_reason,
        reasons=[r.model_dump(mode="json") for r in verdict.reasons],
        offers=[o.model_dump(mode="json") for o in verdict.offers],
        assessment=verdict.assessment, policy_version=verdict.policy_version, decided_on=as_of,
        supersedes_decision_id=supersedes, event_id=envelope.event_id, appeal_deadline=deadline,
    )
    repo.insert_decision(uow.conn, decided)
    if verdict.outcome == "needs_supervisor":
        review_id = new_id("rev")
        repo.open_review(uow.conn, review_id=review_id, case_id=case.case_id, borrower_id=case.borrower_id,
                         decision_id=decision_id, opened_on=as_of)
        repo.append_audit(
            uow.conn, review_id=review_id, case_id=case.case_id, action="opened", actor_subject=SYSTEM_ACTOR,
            actor_role="system", reason="; ".join(r.code for r in verdict.reasons), before=None,
            after={"status": "open", "decision_id": decision_id}, business_date=as_of,
        )
    metrics.DECISIONS.labels(verdict.outcome).inc()
    if verdict.outcome in ("approve", "decline") and case.first_decided_on is None:
        repo.set_first_decision(uow.conn, case.case_id, as_of)
        # the lender's business dates advance one per close of business
        metrics.FIRST_DECISION_DAYS.observe(max(0, (as_of - case.opened_on).days))
    log.info("case decided", extra={"decision_id": decision_id, "outcome": verdict.outcome,
                                    "trigger": trigger, "decided_by": decided_by})
    return decided


def _supersede(uow: UnitOfWork[Evaluation], case: CaseFacts, decision_id: str, as_of: dt.date) -> None:
    assert case.open_review_id is not None
    repo.close_review(uow.conn, case.open_review_id, status="superseded", closed_on=as_of, outcome_decision_id=None)
    repo.append_audit(
        uow.conn, review_id=case.open_review_id, case_id=case.case_id, action="superseded",
        actor_subject=SYSTEM_ACTOR, actor_role="system", reason=f"re-evaluated as decision {decision_id}",
        before={"status": "open"}, after={"status": "superseded", "by_decision_id": decision_id},
        business_date=as_of,
    )

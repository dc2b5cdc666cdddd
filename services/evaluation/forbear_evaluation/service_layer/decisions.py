"""Evaluation use cases: decide a submitted case, answer a counter-proposal, decide a review.

Each use case runs inside one transaction: the decision row, the review queue, the audit and the
``case.decided`` event in the outbox commit together or not at all. Decisions use the lender's
business date (our projection, or the date the triggering event was made on if that is later:
a sibling service has already seen that date), never the wall clock.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import psycopg
from forbear_shared import metrics
from forbear_shared.auth import Principal
from forbear_shared.domain.hardship import (
    DocumentType,
    EvidenceDocument,
    HardshipCategory,
    ReviewStatus,
    evidence_completeness,
)
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import Policy
from forbear_shared.errors import Conflict, NotFound, Unprocessable
from forbear_shared.events import DecodedEvent, Envelope
from forbear_shared.events.schemas.agreement import OfferCountered, OfferMade
from forbear_shared.events.schemas.common import Reason
from forbear_shared.events.schemas.evaluation import CaseDecided, OfferTerms
from forbear_shared.events.schemas.intake import CaseSubmitted
from forbear_shared.service import ServiceContext
from forbear_shared.topics import EVALUATION_EVENTS

from forbear_evaluation.adapters import repository as repo
from forbear_evaluation.domain.counter_proposal import CounterProposal, evaluate_counter
from forbear_evaluation.domain.evaluate import Decision, evaluate
from forbear_evaluation.service_layer.mapping import (
    assessment_of,
    case_from_submission,
    effective_deadline,
    offer_terms,
    reasons_of,
)

log = logging.getLogger(__name__)

Trigger = Literal["submission", "counter_proposal", "supervisor_review"]
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
class ReviewCommand:
    outcome: Literal["approve", "decline"]
    reason: str
    offer_ranks: list[int] | None = None


def _verdict(decision: Decision, extra: list[Reason] | None = None) -> Verdict:
    return Verdict(
        decision.outcome.value,
        reasons_of(decision) + (extra or []),
        [offer_terms(o) for o in decision.offers],
        decision.policy_version,
        assessment_of(decision),
    )


class Evaluation:
    """The evaluation service's use cases, wired with their collaborators at start-up."""

    def __init__(self, ctx: ServiceContext, policy: Policy) -> None:
        self.ctx = ctx
        self.policy = policy

    # -- the rules ---------------------------------------------------------------------------

    def as_of(self, conn: psycopg.Connection, envelope: Envelope | None = None) -> dt.date:
        projected = self.ctx.business_date(conn)
        if envelope is not None and envelope.business_date > projected:
            return envelope.business_date
        return projected

    def judge(self, case_id: str, submitted: CaseSubmitted, as_of: dt.date) -> Verdict:
        """The rules' verdict on a submission (pure: no I/O)."""
        if submitted.statement is None:
            return self._without_statement(submitted, as_of)
        case = case_from_submission(case_id, submitted, self.policy.currency, as_of)
        return _verdict(evaluate(case, self.policy, as_of))

    def _without_statement(self, submitted: CaseSubmitted, as_of: dt.date) -> Verdict:
        """No income and expenditure statement: affordability cannot be assessed at all."""
        documents = [
            EvidenceDocument(DocumentType(e.document_type), ReviewStatus(e.status), e.rejection_reason or "rejected")
            if e.status == "rejected"
            else EvidenceDocument(DocumentType(e.document_type), ReviewStatus(e.status))
            for e in submitted.evidence
            if e.document_type in {t.value for t in DocumentType}
        ]
        completeness = evidence_completeness(HardshipCategory(submitted.hardship_category), documents)
        missing = ["income_expenditure_statement", *(t.value for t in completeness.missing)]
        reasons = [Reason(code="statement_missing", detail="no income and expenditure statement was submitted")]
        deadline = effective_deadline(submitted, as_of)
        if deadline is not None and as_of > deadline:
            reasons.append(Reason(
                code="evidence_deadline_expired",
                detail=f"deadline {deadline.isoformat()} passed without: {', '.join(missing)}",
            ))
            outcome = "decline"
        else:
            reasons.append(Reason(code="evidence_incomplete", detail=f"missing: {', '.join(missing)}"))
            outcome = "need_more_evidence"
        return Verdict(outcome, reasons, [], self.policy.version, {"as_of": as_of.isoformat(), "evidence_missing": missing})

    # -- events in -----------------------------------------------------------------------------

    def on_case_submitted(self, conn: psycopg.Connection, event: DecodedEvent) -> None:
        env = event.envelope
        submitted = event.payload
        assert isinstance(submitted, CaseSubmitted)
        existing = repo.get_case(conn, env.case_id, for_update=True)
        if existing is not None and existing["latest_submission"] >= submitted.submission:
            log.info("stale submission ignored", extra={"submission": submitted.submission,
                                                        "latest": existing["latest_submission"]})
            return
        if existing is not None and existing["borrower_id"] != submitted.borrower_id:
            raise ValueError("a case cannot change borrower between submissions")
        as_of = self.as_of(conn, env)
        repo.save_submission(
            conn, case_id=env.case_id, borrower_id=submitted.borrower_id, opened_on=submitted.opened_on,
            submission=submitted.submission, submitted=submitted.model_dump(mode="json"), submitted_on=as_of,
        )
        verdict = self.judge(env.case_id, submitted, as_of)
        self.record(conn, env.case_id, submitted, verdict, as_of, trigger="submission", causation=env)

    def on_personal_data_erased(self, conn: psycopg.Connection, event: DecodedEvent) -> None:
        """Intake erased the closed case's personal data: the copy of its statement goes too.
        The decisions stay: they are the lender's record of why it decided, in figures and codes."""
        repo.erase_statement(conn, event.envelope.case_id)

    def on_offer_made(self, conn: psycopg.Connection, event: DecodedEvent) -> None:
        made = event.payload
        assert isinstance(made, OfferMade)
        repo.record_offer_made(
            conn, offer_id=made.offer_id, case_id=event.envelope.case_id, decision_id=made.decision_id, rank=made.rank
        )

    def on_offer_countered(self, conn: psycopg.Connection, event: DecodedEvent) -> None:
        """Re-run the rules on the case's latest submission with the proposal as a constraint."""
        env = event.envelope
        counter = event.payload
        assert isinstance(counter, OfferCountered)
        row = repo.get_case(conn, env.case_id, for_update=True)
        if row is None:
            raise NotFound("case", env.case_id)  # a counter on a case never submitted here: dead-letter it
        submitted = CaseSubmitted.model_validate(row["submitted"])
        as_of = self.as_of(conn, env)
        offer = repo.get_offer_made(conn, counter.offer_id)
        answering = f"offer {counter.offer_id}" + (f" of decision {offer['decision_id']}" if offer else "")
        if submitted.statement is None:
            verdict = self.judge(env.case_id, submitted, as_of)
            verdict.reasons.append(Reason(code="counter_proposal_declined", detail=f"{answering}: no statement"))
        else:
            proposal = CounterProposal(
                Money.of(counter.proposed_instalment, self.policy.currency)
                if counter.proposed_instalment is not None else None,
                counter.proposed_term_months,
            )
            case = case_from_submission(env.case_id, submitted, self.policy.currency, as_of)
            result = evaluate_counter(case, self.policy, as_of, proposal)
            verdict = _verdict(result.decision, [Reason(code=result.code, detail=f"{answering}: {result.detail}")])
        self.record(conn, env.case_id, submitted, verdict, as_of, trigger="counter_proposal", causation=env)

    # -- recording -----------------------------------------------------------------------------

    def record(
        self, conn: psycopg.Connection, case_id: str, submitted: CaseSubmitted, verdict: Verdict, as_of: dt.date,
        *, trigger: Trigger, causation: Envelope | None, decided_by: Literal["rules", "supervisor"] = "rules",
        actor: Principal | None = None, override_reason: str | None = None, supersedes: str | None = None,
    ) -> str:
        """Store a decision, open/supersede reviews, emit ``case.decided``; return the decision id."""
        decision_id = repo.new_id("dec")
        case = repo.get_case(conn, case_id)
        assert case is not None
        payload = CaseDecided(
            decision_id=decision_id,
            borrower_id=case["borrower_id"],
            outcome=verdict.outcome,  # type: ignore[arg-type]
            reasons=verdict.reasons,
            policy_version=verdict.policy_version,
            offers=verdict.offers,
            decided_on=as_of,
            decided_by=decided_by,
            override_reason=override_reason,
            submission=case["latest_submission"],
            renegotiates_agreement_id=submitted.renegotiates_agreement_id,
        )
        envelope = self.ctx.emit(
            conn, type="case.decided", payload=payload, case_id=case_id, topic=EVALUATION_EVENTS.name,
            business_date=as_of, causation=causation,
        )
        if trigger != "supervisor_review":
            # a new rules decision replaces whatever a supervisor was about to decide
            self._supersede_open_review(conn, case_id, decision_id, as_of)
        repo.insert_decision(conn, repo.DecisionRow(
            decision_id=decision_id, case_id=case_id, borrower_id=case["borrower_id"],
            submission=case["latest_submission"], trigger=trigger, outcome=verdict.outcome, decided_by=decided_by,
            decided_by_subject=actor.subject if actor else None, override_reason=override_reason,
            reasons=[r.model_dump(mode="json") for r in verdict.reasons],
            offers=[o.model_dump(mode="json") for o in verdict.offers],
            assessment=verdict.assessment, policy_version=verdict.policy_version, decided_on=as_of,
            supersedes_decision_id=supersedes, event_id=envelope.event_id,
        ))
        if verdict.outcome == "needs_supervisor":
            review_id = repo.new_id("rev")
            repo.open_review(conn, review_id=review_id, case_id=case_id, borrower_id=case["borrower_id"],
                             decision_id=decision_id, opened_on=as_of)
            repo.append_audit(
                conn, review_id=review_id, case_id=case_id, action="opened", actor_subject=SYSTEM_ACTOR,
                actor_role="system", reason="; ".join(r.code for r in verdict.reasons), before=None,
                after={"status": "open", "decision_id": decision_id}, business_date=as_of,
            )
        metrics.DECISIONS.labels(verdict.outcome).inc()
        if verdict.outcome in ("approve", "decline") and repo.mark_first_decision(conn, case_id, as_of):
            # the lender's business dates advance one per close of business
            metrics.FIRST_DECISION_DAYS.observe(max(0, (as_of - case["opened_on"]).days))
        log.info("case decided", extra={"decision_id": decision_id, "outcome": verdict.outcome,
                                        "trigger": trigger, "decided_by": decided_by})
        return decision_id

    def _supersede_open_review(self, conn: psycopg.Connection, case_id: str, decision_id: str, as_of: dt.date) -> None:
        review = repo.open_review_of_case(conn, case_id)
        if review is None:
            return
        repo.close_review(conn, review["review_id"], status="superseded", closed_on=as_of, outcome_decision_id=None)
        repo.append_audit(
            conn, review_id=review["review_id"], case_id=case_id, action="superseded", actor_subject=SYSTEM_ACTOR,
            actor_role="system", reason=f"re-evaluated as decision {decision_id}",
            before={"status": "open"}, after={"status": "superseded", "by_decision_id": decision_id},
            business_date=as_of,
        )

    # -- supervisor review -----------------------------------------------------------------------

    def decide_review(self, conn: psycopg.Connection, review_id: str, command: ReviewCommand, who: Principal) -> str:
        """A supervisor approves (some of) the rules' offers or declines, with a written reason."""
        reason = command.reason.strip()
        if not reason:
            raise Unprocessable("reason_required", "a supervisor's decision needs a written reason")
        review = repo.get_review(conn, review_id, for_update=True)
        if review is None:
            raise NotFound("review", review_id)
        if review["status"] != "open":
            raise Conflict(
                f"review_{review['status']}",
                f"review {review_id} is {review['status']}"
                + (f" (decision {review['outcome_decision_id']})" if review["outcome_decision_id"] else ""),
            )
        rules = repo.get_decision(conn, review["decision_id"])
        row = repo.get_case(conn, review["case_id"], for_update=True)
        assert rules is not None and row is not None
        submitted = CaseSubmitted.model_validate(row["submitted"])
        as_of = self.as_of(conn)
        offers = [OfferTerms.model_validate(o) for o in rules["offers"]]
        if command.outcome == "approve":
            if command.offer_ranks is not None:
                wanted = list(dict.fromkeys(command.offer_ranks))
                known = {o.rank for o in offers}
                unknown = [r for r in wanted if r not in known]
                if unknown or not wanted:
                    raise Conflict(
                        "unknown_offer_rank",
                        f"offer_ranks must name offers of decision {rules['decision_id']}: {sorted(known)}",
                    )
                by_rank = {o.rank: o for o in offers}
                offers = [by_rank[r] for r in wanted]
            if not offers:
                raise Conflict("no_offers_to_approve", f"decision {rules['decision_id']} has no offer to approve")
            offers = [o.model_copy(update={"rank": i}) for i, o in enumerate(offers, start=1)]
        else:
            offers = []
        verdict = Verdict(
            command.outcome,
            [Reason.model_validate(r) for r in rules["reasons"]]
            + [Reason(code=SUPERVISOR_CODES[command.outcome],
                      detail=f"review {review_id} decided by a supervisor (written reason recorded)")],
            offers,
            rules["policy_version"],
            rules["assessment"],
        )
        repo.close_review(conn, review_id, status="decided", closed_on=as_of, outcome_decision_id=None)
        decision_id = self.record(
            conn, review["case_id"], submitted, verdict, as_of, trigger="supervisor_review", causation=None,
            decided_by="supervisor", actor=who, override_reason=reason, supersedes=rules["decision_id"],
        )
        conn.execute("update reviews set outcome_decision_id = %s where review_id = %s", (decision_id, review_id))
        repo.append_audit(
            conn, review_id=review_id, case_id=review["case_id"], action=SUPERVISOR_ACTIONS[command.outcome],
            actor_subject=who.subject, actor_role=who.role, reason=reason,
            before={"status": "open", "outcome": rules["outcome"], "decision_id": rules["decision_id"],
                    "offer_ranks": [o["rank"] for o in rules["offers"]]},
            after={"status": "decided", "outcome": command.outcome, "decision_id": decision_id,
                   "offer_ranks": [o.rank for o in offers]},
            business_date=as_of,
        )
        return decision_id

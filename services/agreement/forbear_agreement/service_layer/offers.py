"""Use cases of offers: made from a decision, expired by close of business, accepted or countered.

Each takes the unit of work (``conn``, one transaction: the inbox's for events, the API's for
commands) and records its events in the outbox within it, so a change and its announcement
are never separated.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

import psycopg
from forbear_shared import metrics
from forbear_shared.auth import Principal
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import Policy
from forbear_shared.domain.schedule import Schedule
from forbear_shared.errors import Conflict, NotFound, Unprocessable
from forbear_shared.events import DecodedEvent, Envelope
from forbear_shared.events.schemas.agreement import (
    OfferAccepted,
    OfferCountered,
    OfferExpired,
    OfferMade,
    OfferWithdrawn,
)
from forbear_shared.events.schemas.evaluation import CaseDecided, OfferTerms
from forbear_shared.events.schemas.monitoring import BusinessDateAdvanced
from forbear_shared.service import ServiceContext
from forbear_shared.topics import AGREEMENT_EVENTS

from forbear_agreement.adapters import repository as repo
from forbear_agreement.domain import offers as rules
from forbear_agreement.domain.document import AgreementDraft, OfferedTerms, PaymentMethod, make_document
from forbear_agreement.domain.offers import CounterProposal, OfferStatus
from forbear_agreement.service_layer import views

log = logging.getLogger(__name__)

TOPIC = AGREEMENT_EVENTS.name
#: the actor recorded in the audit log for changes the worker makes on events
SYSTEM_ACTOR = ("agreement-worker", "system")


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def _money(value: object | None, currency: str) -> Money | None:
    return None if value is None else Money.of(str(value), currency)


def _withdrawn(ctx: ServiceContext, conn: psycopg.Connection, rows: list[repo.Row], actor: tuple[str, str],
               causation: Envelope | None = None) -> None:
    """Announce and audit offers just withdrawn (``close_open_offers``)."""
    for row in rows:
        ctx.emit(
            conn, type="offer.withdrawn", case_id=row["case_id"], topic=TOPIC, business_date=row["status_on"],
            causation=causation,
            payload=OfferWithdrawn(offer_id=row["offer_id"], borrower_id=row["borrower_id"],
                                   withdrawn_on=row["status_on"], reason=row["status_reason"]),
        )
        repo.audit(
            conn, case_id=row["case_id"], subject_kind="offer", subject_id=row["offer_id"], action="withdrawn",
            actor=actor[0], actor_role=actor[1], business_date=row["status_on"], at=ctx.now(),
            detail={"reason": row["status_reason"]},
        )
        metrics.OFFERS.labels("withdrawn").inc()


# -- events -------------------------------------------------------------------------


def on_case_decided(ctx: ServiceContext, policy: Policy, conn: psycopg.Connection, event: DecodedEvent) -> None:
    """A decision replaces the case's open offers; an approval makes one offer per ranked plan."""
    decided = event.payload
    assert isinstance(decided, CaseDecided)
    case_id = event.envelope.case_id
    if repo.decision_seen(conn, decided.decision_id):
        log.info("decision already applied", extra={"decision_id": decided.decision_id})
        return
    today = ctx.business_date(conn)
    known = repo.lock_case(conn, case_id)
    if known is not None and known["borrower_id"] != decided.borrower_id:
        raise ValueError(f"case {case_id} belongs to another borrower than decision {decided.decision_id} names")
    repo.record_decision(
        conn, case_id=case_id, borrower_id=decided.borrower_id, decision_id=decided.decision_id,
        outcome=decided.outcome, decided_on=decided.decided_on,
        renegotiates_agreement_id=decided.renegotiates_agreement_id,
    )
    repo.lock_case(conn, case_id)
    repo.lock_case_offers(conn, case_id)
    withdrawn = repo.close_open_offers(conn, case_id, status="withdrawn", on=today, reason="superseded_by_decision")
    _withdrawn(ctx, conn, withdrawn, SYSTEM_ACTOR, causation=event.envelope)
    if decided.outcome != "approve":
        return
    if not decided.offers:
        log.warning("approval without offers", extra={"decision_id": decided.decision_id})
        return
    in_play = repo.agreement_of_case(conn, case_id)
    if in_play is not None and in_play["agreement_id"] != decided.renegotiates_agreement_id:
        # the borrower already took up an offer of this case; only a renegotiation of that
        # agreement may put new offers in front of them
        log.warning("decision after acceptance makes no offers", extra={"decision_id": decided.decision_id})
        repo.audit(
            conn, case_id=case_id, subject_kind="decision", subject_id=decided.decision_id,
            action="no_offers_agreement_in_play", actor=SYSTEM_ACTOR[0], actor_role=SYSTEM_ACTOR[1],
            business_date=today, at=ctx.now(), detail={"agreement_id": in_play["agreement_id"]},
        )
        return
    expires_on = rules.expiry_date(decided.decided_on, policy)
    for terms in sorted(decided.offers, key=lambda t: t.rank):
        # a schedule that does not add up must never be offered: the domain refuses it here
        Schedule.from_dict(terms.schedule.model_dump(mode="json"))
        offer_id = new_id("off")
        repo.insert_offer(
            conn, offer_id=offer_id, case_id=case_id, decision_id=decided.decision_id,
            borrower_id=decided.borrower_id, rank=terms.rank, option=terms.option,
            terms=terms.model_dump(mode="json"), new_instalment=terms.new_instalment,
            term_months=terms.term_months, policy_version=decided.policy_version,
            renegotiates_agreement_id=decided.renegotiates_agreement_id, decided_on=decided.decided_on,
            expires_on=expires_on,
        )
        ctx.emit(
            conn, type="offer.made", case_id=case_id, topic=TOPIC, business_date=today, causation=event.envelope,
            payload=OfferMade(
                offer_id=offer_id, decision_id=decided.decision_id, borrower_id=decided.borrower_id,
                rank=terms.rank, option=terms.option, new_instalment=terms.new_instalment,
                term_months=terms.term_months, expires_on=expires_on,
            ),
        )
        repo.audit(
            conn, case_id=case_id, subject_kind="offer", subject_id=offer_id, action="made",
            actor=SYSTEM_ACTOR[0], actor_role=SYSTEM_ACTOR[1], business_date=today, at=ctx.now(),
            detail={"decision_id": decided.decision_id, "rank": terms.rank, "expires_on": expires_on.isoformat()},
        )
        metrics.OFFERS.labels("made").inc()


def on_business_date_advanced(ctx: ServiceContext, conn: psycopg.Connection, event: DecodedEvent) -> None:
    """Close of business: every open offer past its last acceptable day expires, exactly once."""
    advanced = event.payload
    assert isinstance(advanced, BusinessDateAdvanced)
    for row in repo.expire_offers_due(conn, advanced.current):
        ctx.emit(
            conn, type="offer.expired", case_id=row["case_id"], topic=TOPIC, business_date=advanced.current,
            causation=event.envelope,
            payload=OfferExpired(
                offer_id=row["offer_id"], borrower_id=row["borrower_id"], expired_on=rules.expired_on(row["expires_on"])
            ),
        )
        repo.audit(
            conn, case_id=row["case_id"], subject_kind="offer", subject_id=row["offer_id"], action="expired",
            actor=SYSTEM_ACTOR[0], actor_role=SYSTEM_ACTOR[1], business_date=advanced.current, at=ctx.now(),
            detail={"expires_on": row["expires_on"].isoformat()},
        )
        metrics.OFFERS.labels("expired").inc()


# -- commands -----------------------------------------------------------------------


@dataclass(frozen=True)
class AcceptOffer:
    offer_id: str
    payment_method: PaymentMethod = PaymentMethod.ACCOUNT_DEBIT


@dataclass(frozen=True)
class CounterOffer:
    offer_id: str
    proposal: CounterProposal


def _open_offer_for(conn: psycopg.Connection, offer_id: str, who: Principal, today: dt.date) -> repo.Row:
    row = repo.get_offer(conn, offer_id)
    if row is None:
        raise NotFound("offer", offer_id)
    views.ensure_visible(who, row["borrower_id"], "offer", offer_id)
    repo.lock_case(conn, row["case_id"])
    repo.lock_case_offers(conn, row["case_id"])
    locked = repo.get_offer(conn, offer_id)
    assert locked is not None
    try:
        rules.check_open(OfferStatus(locked["status"]), locked["expires_on"], today)
    except rules.Refused as refused:
        raise Conflict(refused.reason, refused.message) from None
    return locked


def accept_offer(
    ctx: ServiceContext, policy: Policy, conn: psycopg.Connection, cmd: AcceptOffer, who: Principal
) -> views.AgreementView:
    """The borrower takes up one plan: the agreement document is drawn up, awaiting signatures."""
    today = ctx.business_date(conn)
    offer = _open_offer_for(conn, cmd.offer_id, who, today)
    case = repo.get_case(conn, offer["case_id"])
    assert case is not None
    terms = OfferTerms.model_validate(offer["terms"])
    schedule = Schedule.from_dict(terms.schedule.model_dump(mode="json"))
    currency = schedule.currency
    agreement_id = new_id("agr")
    supersedes = offer["renegotiates_agreement_id"]
    draft = AgreementDraft(
        agreement_id=agreement_id,
        case_id=offer["case_id"],
        offer_id=offer["offer_id"],
        decision_id=offer["decision_id"],
        borrower_id=offer["borrower_id"],
        loan_ids=list(terms.loan_ids),
        terms=OfferedTerms(
            option=terms.option,
            new_instalment=Money.of(str(terms.new_instalment), currency),
            old_instalment=Money.of(str(terms.old_instalment), currency),
            term_months=terms.term_months,
            annual_rate=terms.annual_rate,
            capitalised_arrears=_money(terms.capitalised_arrears, currency),
            waived_amount=_money(terms.waived_amount, currency),
            fees=_money(terms.fees, currency),
            summary=terms.summary,
        ),
        schedule=schedule,
        policy_version=offer["policy_version"],
        accepted_on=today,
        offer_expires_on=offer["expires_on"],
        payment_method=cmd.payment_method,
        supersedes_agreement_id=supersedes,
    )
    document = make_document(draft, policy)
    repo.insert_agreement(
        conn,
        agreement_id=agreement_id,
        case_id=offer["case_id"],
        offer_id=offer["offer_id"],
        borrower_id=offer["borrower_id"],
        option=terms.option,
        loan_ids=list(terms.loan_ids),
        schedule=schedule.to_dict(),
        policy_version=offer["policy_version"],
        payment_method=cmd.payment_method.value,
        supersedes_agreement_id=supersedes,
        document_canonical=document.canonical_json,
        document_rendered=document.rendered_text,
        document_sha256=document.sha256,
        accepted_on=today,
    )
    repo.set_offer_status(conn, offer["offer_id"], status="accepted", on=today)
    others = repo.close_open_offers(
        conn, offer["case_id"], status="withdrawn", on=today, reason="another_offer_accepted",
        except_offer_id=offer["offer_id"],
    )
    ctx.emit(
        conn, type="offer.accepted", case_id=offer["case_id"], topic=TOPIC, business_date=today,
        payload=OfferAccepted(
            offer_id=offer["offer_id"], agreement_id=agreement_id, borrower_id=offer["borrower_id"], accepted_on=today
        ),
    )
    _withdrawn(ctx, conn, others, (who.subject, who.role))
    repo.audit(
        conn, case_id=offer["case_id"], subject_kind="offer", subject_id=offer["offer_id"], action="accepted",
        actor=who.subject, actor_role=who.role, business_date=today, at=ctx.now(),
        detail={"agreement_id": agreement_id, "document_sha256": document.sha256,
                "payment_method": cmd.payment_method.value},
    )
    metrics.OFFERS.labels("accepted").inc()
    return views.agreement(conn, agreement_id, who)


def counter_offer(
    ctx: ServiceContext, policy: Policy, conn: psycopg.Connection, cmd: CounterOffer, who: Principal
) -> views.OfferView:
    """The borrower proposes other terms: this offer is countered and the case goes back to evaluation.

    A counter-proposal rejects the whole set of offers in front of the borrower (as a counter-offer
    does in contract law), so the case's other open offers are withdrawn with it; the new decision
    brings the next set. That keeps one negotiation in flight per case.
    """
    try:
        cmd.proposal.validate(policy)
    except rules.Invalid as invalid:
        raise Unprocessable(invalid.reason, invalid.message) from None
    except rules.Refused as refused:
        raise Conflict(refused.reason, refused.message) from None
    today = ctx.business_date(conn)
    offer = _open_offer_for(conn, cmd.offer_id, who, today)
    proposal = cmd.proposal
    instalment = proposal.proposed_instalment
    recorded = {
        "proposed_instalment": instalment.to_str() if instalment is not None else None,
        "proposed_term_months": proposal.proposed_term_months,
    }
    repo.set_offer_status(
        conn, offer["offer_id"], status="countered", on=today, reason="counter_proposed", counter_proposal=recorded
    )
    others = repo.close_open_offers(
        conn, offer["case_id"], status="withdrawn", on=today, reason="counter_proposed",
        except_offer_id=offer["offer_id"],
    )
    ctx.emit(
        conn, type="offer.countered", case_id=offer["case_id"], topic=TOPIC, business_date=today,
        payload=OfferCountered(
            offer_id=offer["offer_id"], borrower_id=offer["borrower_id"],
            proposed_instalment=instalment.amount if instalment is not None else None,
            proposed_term_months=proposal.proposed_term_months, countered_on=today,
        ),
    )
    _withdrawn(ctx, conn, others, (who.subject, who.role))
    repo.audit(
        conn, case_id=offer["case_id"], subject_kind="offer", subject_id=offer["offer_id"], action="countered",
        actor=who.subject, actor_role=who.role, business_date=today, at=ctx.now(), detail=recorded,
    )
    metrics.OFFERS.labels("countered").inc()
    return views.offer(conn, offer["offer_id"], who)

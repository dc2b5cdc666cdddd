"""Use cases of offers: made from a decision, expired by close of business, accepted or countered.

Each is ``use_case(command_or_event, uow)``: it opens the one transaction (the inbox's for events,
the Idempotency-Key's for commands, joined), loads what the decision needs, lets the domain
decide, writes, and records its events with ``uow.emit`` in that transaction, so a change and
its announcement are never separated.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from forbear_shared import metrics, projections
from forbear_shared.auth import Principal, visible
from forbear_shared.domain.apr import schedule_apr
from forbear_shared.domain.money import Money
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
from forbear_shared.ids import new_id
from forbear_shared.unit_of_work import UnitOfWork

from forbear_agreement.adapters import repository as repo
from forbear_agreement.bootstrap import Agreement
from forbear_agreement.domain import offers as rules
from forbear_agreement.domain.document import AgreementDraft, OfferedTerms, PaymentMethod, make_document
from forbear_agreement.domain.offers import CounterProposal, OfferStatus
from forbear_agreement.service_layer import views

log = logging.getLogger(__name__)

#: the actor recorded in the audit log for changes the worker makes on events
SYSTEM_ACTOR = ("agreement-worker", "system")


# -- events -------------------------------------------------------------------------


def on_case_decided(event: DecodedEvent, uow: UnitOfWork[Agreement]) -> None:
    """A decision replaces the case's open offers; an approval makes one offer per ranked plan."""
    decided = event.payload
    assert isinstance(decided, CaseDecided)
    case_id = event.envelope.case_id
    with uow:
        if repo.decision_seen(uow.conn, decided.decision_id):
            log.info("decision already applied", extra={"decision_id": decided.decision_id})
            return
        today = uow.business_date
        case = repo.lock_case(uow.conn, case_id)
        in_play = repo.agreement_of_case(uow.conn, case_id)
        rules.check_same_borrower(case["borrower_id"] if case else None, decided.borrower_id)
        why_none = rules.why_no_offers(decided.outcome, len(decided.offers),
                                       in_play["agreement_id"] if in_play else None,
                                       decided.renegotiates_agreement_id)
        expires_on = rules.expiry_date(decided.decided_on, uow.policy)
        plans = sorted(decided.offers, key=lambda t: t.rank) if why_none is None else []
        for terms in plans:
            # a schedule that does not add up must never be offered: the domain refuses it here
            views.schedule_of(terms)

        repo.record_decision(
            uow.conn, case_id=case_id, borrower_id=decided.borrower_id, decision_id=decided.decision_id,
            outcome=decided.outcome, decided_on=decided.decided_on,
            renegotiates_agreement_id=decided.renegotiates_agreement_id,
        )
        withdrawn = repo.close_open_offers(uow.conn, case_id, status="withdrawn", on=today,
                                           reason="superseded_by_decision")
        _withdrawn(uow, withdrawn, SYSTEM_ACTOR, causation=event.envelope)
        if why_none == "approval_without_offers":
            log.warning("approval without offers", extra={"decision_id": decided.decision_id})
        elif why_none == "agreement_in_play":
            assert in_play is not None
            log.warning("decision after acceptance makes no offers", extra={"decision_id": decided.decision_id})
            repo.audit(
                uow.conn, case_id=case_id, subject_kind="decision", subject_id=decided.decision_id,
                action="no_offers_agreement_in_play", actor=SYSTEM_ACTOR[0], actor_role=SYSTEM_ACTOR[1],
                business_date=today, at=uow.now(), detail={"agreement_id": in_play["agreement_id"]},
            )
        for terms in plans:
            _make_offer(uow, event, decided, terms, expires_on)


def _make_offer(uow: UnitOfWork[Agreement], event: DecodedEvent, decided: CaseDecided, terms: OfferTerms,
                expires_on: dt.date) -> None:
    case_id = event.envelope.case_id
    today = uow.business_date
    offer_id = new_id("off")
    repo.insert_offer(
        uow.conn, offer_id=offer_id, case_id=case_id, decision_id=decided.decision_id,
        borrower_id=decided.borrower_id, rank=terms.rank, option=terms.option,
        terms=terms.model_dump(mode="json"), new_instalment=terms.new_instalment,
        term_months=terms.term_months, policy_version=decided.policy_version,
        renegotiates_agreement_id=decided.renegotiates_agreement_id, decided_on=decided.decided_on,
        expires_on=expires_on,
    )
    uow.emit(
        type="offer.made", case_id=case_id, business_date=today, causation=event.envelope,
        payload=OfferMade(
            offer_id=offer_id, decision_id=decided.decision_id, borrower_id=decided.borrower_id,
            rank=terms.rank, option=terms.option, new_instalment=terms.new_instalment,
            term_months=terms.term_months, expires_on=expires_on, apr=terms.apr,
        ),
    )
    repo.audit(
        uow.conn, case_id=case_id, subject_kind="offer", subject_id=offer_id, action="made",
        actor=SYSTEM_ACTOR[0], actor_role=SYSTEM_ACTOR[1], business_date=today, at=uow.now(),
        detail={"decision_id": decided.decision_id, "rank": terms.rank, "expires_on": expires_on.isoformat()},
    )
    metrics.OFFERS.labels("made").inc()


def on_business_date_advanced(event: DecodedEvent, uow: UnitOfWork[Agreement]) -> None:
    """Close of business moves the business-date projection and, in the same transaction,
    expires every open offer past its last acceptable day, exactly once."""
    advanced = event.payload
    assert isinstance(advanced, BusinessDateAdvanced)
    with uow:
        # joined to this transaction: the projection and the expiries commit together
        projections.on_business_date_advanced(event, uow.service.unit_of_work(uow.conn))
        for row in repo.expire_offers_due(uow.conn, advanced.current):
            uow.emit(
                type="offer.expired", case_id=row["case_id"], business_date=advanced.current,
                causation=event.envelope,
                payload=OfferExpired(offer_id=row["offer_id"], borrower_id=row["borrower_id"],
                                     expired_on=rules.expired_on(row["expires_on"])),
            )
            repo.audit(
                uow.conn, case_id=row["case_id"], subject_kind="offer", subject_id=row["offer_id"], action="expired",
                actor=SYSTEM_ACTOR[0], actor_role=SYSTEM_ACTOR[1], business_date=advanced.current, at=uow.now(),
                detail={"expires_on": row["expires_on"].isoformat()},
            )
            metrics.OFFERS.labels("expired").inc()


# -- commands -----------------------------------------------------------------------


@dataclass(frozen=True)
class AcceptOffer:
    offer_id: str
    payment_method: PaymentMethod
    who: Principal


@dataclass(frozen=True)
class CounterOffer:
    offer_id: str
    proposal: CounterProposal
    who: Principal


def accept_offer(cmd: AcceptOffer, uow: UnitOfWork[Agreement]) -> views.AgreementView:
    """The borrower takes up one plan: the agreement document is drawn up, awaiting signatures."""
    with uow:
        offer = _lock_offer(uow, cmd.offer_id, cmd.who)
        today = uow.business_date
        rules.check_open(OfferStatus(offer["status"]), offer["expires_on"], today)
        draft = draft_of(offer, new_id("agr"), cmd.payment_method, accepted_on=today)
        document = make_document(draft, uow.policy)
        written = repo.insert_agreement(uow.conn, draft, document)
        repo.set_offer_status(uow.conn, draft.offer_id, status="accepted", on=today)
        others = repo.close_open_offers(uow.conn, draft.case_id, status="withdrawn", on=today,
                                        reason="another_offer_accepted", except_offer_id=draft.offer_id)
        uow.emit(
            type="offer.accepted", case_id=draft.case_id, business_date=today,
            payload=OfferAccepted(offer_id=draft.offer_id, agreement_id=draft.agreement_id,
                                  borrower_id=draft.borrower_id, accepted_on=today),
        )
        _withdrawn(uow, others, (cmd.who.subject, cmd.who.role))
        repo.audit(
            uow.conn, case_id=draft.case_id, subject_kind="offer", subject_id=draft.offer_id, action="accepted",
            actor=cmd.who.subject, actor_role=cmd.who.role, business_date=today, at=uow.now(),
            detail={"agreement_id": draft.agreement_id, "document_sha256": document.sha256,
                    "payment_method": cmd.payment_method.value},
        )
        metrics.OFFERS.labels("accepted").inc()
        return views.agreement_view(written, signatures=[])


def counter_offer(cmd: CounterOffer, uow: UnitOfWork[Agreement]) -> views.OfferView:
    """The borrower proposes other terms: this offer is countered and the case goes back to evaluation.

    A counter-proposal rejects the whole set of offers in front of the borrower (as a counter-offer
    does in contract law), so the case's other open offers are withdrawn with it; the new decision
    brings the next set. That keeps one negotiation in flight per case.
    """
    proposal = cmd.proposal
    proposal.validate()
    with uow:
        offer = _lock_offer(uow, cmd.offer_id, cmd.who)
        proposal.within(uow.policy.for_case(offer["case_id"]))
        today = uow.business_date
        rules.check_open(OfferStatus(offer["status"]), offer["expires_on"], today)
        instalment = proposal.proposed_instalment
        recorded = {
            "proposed_instalment": instalment.to_str() if instalment is not None else None,
            "proposed_term_months": proposal.proposed_term_months,
        }
        countered = repo.set_offer_status(uow.conn, offer["offer_id"], status="countered", on=today,
                                          reason="counter_proposed", counter_proposal=recorded)
        others = repo.close_open_offers(uow.conn, offer["case_id"], status="withdrawn", on=today,
                                        reason="counter_proposed", except_offer_id=offer["offer_id"])
        uow.emit(
            type="offer.countered", case_id=offer["case_id"], business_date=today,
            payload=OfferCountered(
                offer_id=offer["offer_id"], borrower_id=offer["borrower_id"],
                proposed_instalment=instalment.amount if instalment is not None else None,
                proposed_term_months=proposal.proposed_term_months, countered_on=today,
            ),
        )
        _withdrawn(uow, others, (cmd.who.subject, cmd.who.role))
        repo.audit(
            uow.conn, case_id=offer["case_id"], subject_kind="offer", subject_id=offer["offer_id"],
            action="countered", actor=cmd.who.subject, actor_role=cmd.who.role, business_date=today,
            at=uow.now(), detail=recorded,
        )
        metrics.OFFERS.labels("countered").inc()
        # a countered offer never became an agreement
        return views.offer_view({**countered, "agreement_id": None})


# -- what the use cases share ---------------------------------------------------------


def _lock_offer(uow: UnitOfWork[Agreement], offer_id: str, who: Principal) -> repo.Row:
    """The offer, locked with its case (404 if unknown or not the caller's)."""
    offer = repo.lock_offer(uow.conn, offer_id)
    visible(who, offer, "offer", offer_id)
    return offer


def draft_of(offer: repo.Row, agreement_id: str, payment_method: PaymentMethod, *,
             accepted_on: dt.date) -> AgreementDraft:
    """What the agreement document states, from the offer as evaluation made it."""
    terms = OfferTerms.model_validate(offer["terms"])
    schedule = views.schedule_of(terms)
    currency = schedule.currency

    def money(value: object | None) -> Money | None:
        return None if value is None else Money.of(str(value), currency)

    return AgreementDraft(
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
            capitalised_arrears=money(terms.capitalised_arrears),
            waived_amount=money(terms.waived_amount),
            fees=money(terms.fees),
            summary=terms.summary,
            # decisions made before the APR was disclosed: the APR of the schedule itself
            apr=terms.apr if terms.apr is not None else schedule_apr(schedule).apr,
        ),
        schedule=schedule,
        policy_version=offer["policy_version"],
        accepted_on=accepted_on,
        offer_expires_on=offer["expires_on"],
        payment_method=payment_method,
        supersedes_agreement_id=offer["renegotiates_agreement_id"],
    )


def _withdrawn(uow: UnitOfWork[Agreement], rows: list[repo.Row], actor: tuple[str, str],
               causation: Envelope | None = None) -> None:
    """Announce and audit offers just withdrawn (``close_open_offers``)."""
    for row in rows:
        uow.emit(
            type="offer.withdrawn", case_id=row["case_id"], business_date=row["status_on"], causation=causation,
            payload=OfferWithdrawn(offer_id=row["offer_id"], borrower_id=row["borrower_id"],
                                   withdrawn_on=row["status_on"], reason=row["status_reason"]),
        )
        repo.audit(
            uow.conn, case_id=row["case_id"], subject_kind="offer", subject_id=row["offer_id"], action="withdrawn",
            actor=actor[0], actor_role=actor[1], business_date=row["status_on"], at=uow.now(),
            detail={"reason": row["status_reason"]},
        )
        metrics.OFFERS.labels("withdrawn").inc()

"""Monitoring's use cases on a fake unit of work: the guard's projection of renegotiations and
one agreement's review, without Postgres."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from forbear_monitoring.bootstrap import Monitoring
from forbear_monitoring.domain.renegotiation import EndReason, RenegotiationState
from forbear_monitoring.service_layer import agreements
from forbear_monitoring.service_layer.review import Writes, review
from forbear_shared.domain.allocation import Payment, apply_payment
from forbear_shared.domain.arrears import LoanLedger
from forbear_shared.domain.money import Money
from forbear_shared.domain.schedule import equal_principal_schedule
from forbear_shared.events import DecodedEvent, new_event
from forbear_shared.events.schemas.agreement import OfferExpired, OfferMade
from forbear_shared.events.schemas.evaluation import CaseDecided
from forbear_shared.events.schemas.intake import RenegotiationRequested

from services.monitoring.tests.fakes import Book, FakeUnitOfWork

TODAY = dt.date(2026, 3, 2)


@pytest.fixture
def svc(policy) -> Monitoring:
    return Monitoring(ctx=None, policy=policy)  # type: ignore[arg-type]  # no database, no broker


@pytest.fixture
def book(monkeypatch) -> Book:
    book = Book()
    book.install(monkeypatch)
    return book


def on(payload, case_id: str = "CASE-1") -> DecodedEvent:
    type_ = {RenegotiationRequested: "renegotiation.requested", CaseDecided: "case.decided",
             OfferMade: "offer.made", OfferExpired: "offer.expired"}[type(payload)]
    envelope = new_event(type=type_, payload=payload, case_id=case_id, business_date=TODAY, producer="test",
                         occurred_at=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC))
    return DecodedEvent(envelope, payload, 1)


def decided(outcome: str, renegotiates: str | None = "AGR-1") -> CaseDecided:
    return CaseDecided.model_construct(decision_id=str(uuid.uuid4()), outcome=outcome, decided_on=TODAY,
                                       renegotiates_agreement_id=renegotiates)


def test_a_decision_on_a_renegotiation_monitoring_never_heard_requested_is_followed_from_then(svc, book):
    agreements.on_case_decided(on(decided("approve")), FakeUnitOfWork(svc, TODAY))
    r = book.renegotiations["CASE-1"]
    assert (r.agreement_id, r.requested_on, r.state) == ("AGR-1", TODAY, RenegotiationState.OFFERED)


def test_a_decision_on_a_first_negotiation_is_nothing_to_monitoring(svc, book):
    agreements.on_case_decided(on(decided("approve", renegotiates=None)), FakeUnitOfWork(svc, TODAY))
    assert book.renegotiations == {}


def test_a_second_request_within_twelve_months_holds_no_referral(svc, book):
    """renegotiation.max_per_agreement = 1 in 12 months (demo lender): one on 2 Mar 2026 leaves
    the next one, on 1 Mar 2027, over the limit; on 2 Mar 2027 it would count again."""
    uow = FakeUnitOfWork(svc, TODAY)
    agreements.on_renegotiation_requested(on(RenegotiationRequested(
        agreement_id="AGR-1", borrower_id="B-1", requested_on=TODAY), "CASE-1"), uow)
    agreements.on_renegotiation_requested(on(RenegotiationRequested(
        agreement_id="AGR-1", borrower_id="B-1", requested_on=dt.date(2027, 3, 1)), "CASE-2"), uow)
    assert book.renegotiations["CASE-1"].state is RenegotiationState.REQUESTED
    assert book.renegotiations["CASE-2"].state is RenegotiationState.OVER_LIMIT


def test_the_renegotiation_ends_when_its_last_open_offer_expires(svc, book):
    uow = FakeUnitOfWork(svc, TODAY)
    agreements.on_case_decided(on(decided("approve")), uow)
    for offer_id in ("OFF-1", "OFF-2"):
        agreements.on_offer_made(on(OfferMade.model_construct(offer_id=offer_id, expires_on=dt.date(2026, 3, 16))),
                                 uow)
    agreements.on_offer_expired(on(OfferExpired.model_construct(offer_id="OFF-1", expired_on=dt.date(2026, 3, 16))),
                                uow)
    assert book.renegotiations["CASE-1"].state is RenegotiationState.OFFERED  # OFF-2 is still open
    agreements.on_offer_expired(on(OfferExpired.model_construct(offer_id="OFF-2", expired_on=dt.date(2026, 3, 17))),
                                uow)
    ended = book.renegotiations["CASE-1"]
    assert (ended.state, ended.ended_on, ended.ended_reason) == (
        RenegotiationState.ENDED, dt.date(2026, 3, 17), EndReason.OFFERS_EXPIRED)


# -- one agreement's review ------------------------------------------------------------------------

def agreement_row(level: str, since: dt.date, blocked_since: dt.date | None = None) -> dict:
    return {"agreement_id": "AGR-1", "case_id": "CASE-1", "borrower_id": "B-1", "status": "active", "level": level,
            "level_since": since, "remedy_deadline": None, "referral_blocked_since": blocked_since, "breached": False}


def three_months(policy) -> LoanLedger:
    """3,000.00 at 12 % over 3 months, due 10 Feb, 10 Mar, 10 Apr 2025: 1,030.00, 1,020.00, 1,010.00."""
    schedule = equal_principal_schedule(Money.of("3000.00"), Decimal("0.12"), 3, dt.date(2025, 2, 10))
    return LoanLedger.open(schedule, policy)


def test_paying_the_arrears_of_a_warning_cures_it_and_ends_the_blocking_episode(svc, policy):
    # instalment 1 (1,030.00, due 10 Feb) paid on 20 Feb, 10 days late: penalty on the 1,000.00
    # principal at 12 % x 1.5 = 18 % a year, ACT/360: 1,000.00 x 0.18 x 10 / 360 = 5.00; 1,035.00
    # pays penalty, interest and principal, and nothing is overdue on 20 Feb any more
    ledger, _ = apply_payment(three_months(policy), Payment("P1", dt.date(2025, 2, 20), Money.of("1035.00")), policy)
    uow = FakeUnitOfWork(svc, dt.date(2025, 2, 20))
    writes = Writes(uow)
    effects = review(uow, agreement_row("warning", dt.date(2025, 2, 20), blocked_since=dt.date(2025, 2, 18)), ledger,
                     dt.date(2025, 2, 20), escalate=False, writes=writes)
    assert effects.transitions == {"cured": 1}
    assert writes.steps == [("AGR-1", "warning", "current", dt.date(2025, 2, 20), "arrears_paid")]
    assert writes.levels == [("AGR-1", "current", dt.date(2025, 2, 20), None, False)]
    assert writes.blocked == [("AGR-1", None)]
    assert [(t, topic) for t, topic, _ in writes.events] == [("agreement.cured", "monitoring.events")]


def test_a_held_referral_is_announced_once_per_blocking_episode(svc, policy):
    """Nothing paid: on 1 May 2025 all three instalments are missed (grace ended 13 Feb, 13 Mar,
    13 Apr), the policy's 3 for a referral: a breach notice, then a referral that a pending
    evaluation holds."""
    uow = FakeUnitOfWork(svc, dt.date(2025, 5, 1))
    writes = Writes(uow)
    first = review(uow, agreement_row("warning", dt.date(2025, 2, 20)), three_months(policy), dt.date(2025, 5, 1),
                   escalate=True, referral_block="pending_evaluation:CASE-9", writes=writes)
    assert first.transitions == {"breached": 1} and first.referrals == {}
    assert writes.blocked == [("AGR-1", dt.date(2025, 5, 1))]
    assert [t for t, _, _ in writes.events] == ["agreement.escalated", "notice.requested", "referral.blocked"]
    again = Writes(uow)
    row = {**agreement_row("breach_notice", dt.date(2025, 5, 1), blocked_since=dt.date(2025, 5, 1)),
           "remedy_deadline": dt.date(2025, 5, 15)}
    review(uow, row, three_months(policy), dt.date(2025, 5, 2), escalate=True,
           referral_block="pending_evaluation:CASE-9", writes=again)
    assert again.events == [] and again.blocked == []  # still held: nothing new to say

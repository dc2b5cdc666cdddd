"""Offers: what a borrower may still do with a plan the lender proposed, and until when.

An offer is open from the decision that made it until the borrower accepts it, counters it,
a newer decision replaces it, or its validity (policy ``offers.validity_days``) runs out.
The validity counts in business days of the lender's calendar date, from the decision's
business date: an offer decided on 5 January with 14 days is still acceptable on
19 January and expired from 20 January.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import Policy
from forbear_shared.errors import Conflict, Unprocessable


class OfferStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    COUNTERED = "countered"
    EXPIRED = "expired"
    #: replaced by a newer decision, or closed because another offer of the case was taken up
    WITHDRAWN = "withdrawn"


class Refused(Conflict):
    """A request valid in form that the offer's or agreement's state does not allow (HTTP 409)."""


class Invalid(Unprocessable):
    """A request that can never be right, whatever the state (HTTP 422)."""


def expiry_date(decided_on: date, policy: Policy) -> date:
    """The last business date on which the offer can be accepted: ``validity_days`` after the
    decision in the policy's unit (``calendar.units.offer_validity``; working days in the demo,
    so an offer made before 春节 is not spent while the lender is closed)."""
    unit = policy.calendar.units.offer_validity
    return policy.working_calendar.add(decided_on, policy.offers.validity_days, unit)


def is_past_expiry(expires_on: date, business_date: date) -> bool:
    return business_date > expires_on


def expired_on(expires_on: date) -> date:
    """The first business date on which the offer was no longer acceptable.

    A close of business that catches up over several days still dates the expiry to the
    day it happened, so acceptance-rate KPIs do not depend on when COB ran.
    """
    return expires_on + timedelta(days=1)


def check_same_borrower(case_borrower_id: str | None, decided_borrower_id: str) -> None:
    """A case belongs to one borrower: a decision naming another is not this case's (the event
    is inconsistent, never applied)."""
    if case_borrower_id is not None and case_borrower_id != decided_borrower_id:
        raise ValueError("the case belongs to another borrower than the decision names")


def why_no_offers(outcome: str, offered: int, agreement_in_play: str | None,
                  renegotiates_agreement_id: str | None) -> str | None:
    """Why a decision puts no new offer in front of the borrower, or None when it makes its offers.

    Once the borrower took up an offer of the case, only a renegotiation of that agreement may
    put new offers in front of them.
    """
    if outcome != "approve":
        return "not_approved"
    if offered == 0:
        return "approval_without_offers"
    if agreement_in_play is not None and agreement_in_play != renegotiates_agreement_id:
        return "agreement_in_play"
    return None


def check_open(status: OfferStatus, expires_on: date, business_date: date) -> None:
    """The borrower may accept or counter only an open offer within its validity."""
    if status is OfferStatus.EXPIRED or (status is OfferStatus.OPEN and is_past_expiry(expires_on, business_date)):
        raise Refused("offer_expired", f"the offer expired: it could be accepted until {expires_on.isoformat()}")
    if status is not OfferStatus.OPEN:
        raise Refused("offer_not_open", f"the offer is {status.value}, not open")


@dataclass(frozen=True)
class CounterProposal:
    """The borrower's own terms: an instalment they can pay and/or a term they ask for."""

    proposed_instalment: Money | None
    proposed_term_months: int | None

    def validate(self) -> None:
        """The proposal's own shape, before anything is loaded."""
        if self.proposed_instalment is None and self.proposed_term_months is None:
            raise Invalid("counter_proposal_empty", "propose an instalment, a term in months, or both")
        if self.proposed_instalment is not None and not self.proposed_instalment.is_positive():
            raise Invalid("proposed_instalment_not_positive", "the proposed instalment must be more than zero")

    def within(self, policy: Policy) -> None:
        """The policy's limits: the policy of the case's arm (``Policy.for_case``)."""
        if self.proposed_term_months is not None:
            limit = policy.restructuring.max_total_term_months
            if not 1 <= self.proposed_term_months <= limit:
                # the lender's policy refuses it, not the form (which bounds every term)
                raise Refused(
                    "proposed_term_out_of_policy",
                    f"the proposed term must be between 1 and {limit} months (policy limit)",
                )

"""Events produced by the agreement service (topic ``agreement.events``, key: case id)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from forbear_shared.events.registry import registry
from forbear_shared.events.schemas.common import DecimalStr, Payload, PositiveMoney, ScheduleDoc, TermMonths


@registry.register("offer.made", 1)
class OfferMade(Payload):
    offer_id: str
    decision_id: str
    borrower_id: str
    rank: int = Field(ge=1)
    option: str
    new_instalment: DecimalStr
    term_months: int
    expires_on: dt.date
    #: the plan's annualised rate (IRR method), as the decision disclosed it
    apr: DecimalStr | None = Field(default=None, exclude_if=lambda value: value is None)


@registry.register("offer.accepted", 1)
class OfferAccepted(Payload):
    offer_id: str
    agreement_id: str
    borrower_id: str
    accepted_on: dt.date


@registry.register("offer.expired", 1)
class OfferExpired(Payload):
    offer_id: str
    borrower_id: str
    expired_on: dt.date


@registry.register("offer.withdrawn", 1)
class OfferWithdrawn(Payload):
    """An open offer withdrawn: a newer decision replaced it, or another offer was accepted or countered."""

    offer_id: str
    borrower_id: str
    withdrawn_on: dt.date
    reason: Literal["superseded_by_decision", "another_offer_accepted", "counter_proposed"]


@registry.register("offer.countered", 1)
class OfferCountered(Payload):
    """The borrower proposes other terms: the case re-enters evaluation."""

    offer_id: str
    borrower_id: str
    proposed_instalment: PositiveMoney | None = None
    proposed_term_months: TermMonths | None = None
    countered_on: dt.date


@registry.register("agreement.signed", 1)
class AgreementSigned(Payload):
    agreement_id: str
    party: Literal["borrower", "lender"]
    signed_by: str
    document_sha256: str
    signed_on: dt.date


@registry.register("agreement.signing_code_issued", 1)
class AgreementSigningCodeIssued(Payload):
    """A one-time signing code was sent to the borrower (never the code: where it went and until when)."""

    agreement_id: str
    channel: Literal["sms", "email"]
    #: technical timestamp (UTC): the code's life is a security clock, not a business date
    expires_at: dt.datetime


@registry.register("agreement.activated", 1)
class AgreementActivated(Payload):
    """Both parties signed: the new schedule is in force and monitoring takes over."""

    agreement_id: str
    borrower_id: str
    loan_ids: list[str]
    option: str
    schedule: ScheduleDoc
    document_sha256: str
    activated_on: dt.date
    policy_version: str
    #: an agreement that this one replaces after a renegotiation
    supersedes_agreement_id: str | None = None
    #: sha256 of the signed agreement PDF (the lender's PAdES signature, the borrower's consent
    #: attached) and where the agreement service serves it; None when no signing key is configured.
    #: The PDF itself stays in the agreement service: tens of kilobytes to a few hundred, too big
    #: for an event that every consumer reads
    signed_pdf_sha256: str | None = None
    signed_pdf_href: str | None = None

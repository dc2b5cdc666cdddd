"""Events produced by the monitoring service (``monitoring.events`` and outbound topics)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from forbear_shared.events.registry import registry
from forbear_shared.events.schemas.common import (
    Channel,
    CurrencyCode,
    DecimalStr,
    MoneyAmount,
    Payload,
    PositiveMoney,
    Reason,
    ScheduleDoc,
)

#: business-date events are not about one case; they use this fixed key
LENDER_KEY = "lender"

EscalationLevel = Literal["current", "reminder", "warning", "breach_notice", "legal_referral", "completed"]


@registry.register("business_date.advanced", 1)
class BusinessDateAdvancedV1(Payload):
    """First version: only the new date."""

    date: dt.date


@registry.register("business_date.advanced", 2)
class BusinessDateAdvanced(Payload):
    """The previous date travels too, so a consumer can tell a catch-up over skipped days."""

    previous: dt.date | None
    current: dt.date
    timezone: str = "Asia/Shanghai"


@registry.upcaster("business_date.advanced", 1)
def _business_date_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    return {"previous": None, "current": payload["date"]}


class AllocationLine(Payload):
    instalment: int
    component: Literal["fee", "penalty", "interest", "principal"]
    amount: DecimalStr


@registry.register("payment.applied", 1)
class PaymentApplied(Payload):
    agreement_id: str
    reference: str
    amount: DecimalStr
    source: Literal["corebanking", "manual"]
    received_on: dt.date
    allocation: list[AllocationLine]
    unallocated: DecimalStr | None = None


@registry.register("instalment.missed", 1)
class InstalmentMissed(Payload):
    agreement_id: str
    instalment: int = Field(ge=1)
    due_date: dt.date
    amount_outstanding: DecimalStr
    detected_on: dt.date


class _InstalmentShare(Payload):
    """An instalment of the early warning, what is due of it and what was paid by the day."""

    agreement_id: str
    instalment: int = Field(ge=1)
    due_date: dt.date
    amount_due: MoneyAmount
    amount_paid: MoneyAmount
    required_share: DecimalStr
    business_date: dt.date


@registry.register("agreement.near_breach", 1)
class AgreementNearBreach(_InstalmentShare):
    """Early warning: by an instalment's checkpoint less than the policy share of it was paid."""

    checkpoint: dt.date


@registry.register("agreement.near_breach_cleared", 1)
class AgreementNearBreachCleared(_InstalmentShare):
    """The instalment flagged near breach is now paid up to the policy share (or in full)."""


@registry.register("agreement.escalated", 1)
class AgreementEscalated(Payload):
    agreement_id: str
    from_level: EscalationLevel
    to_level: EscalationLevel
    days_past_due: int
    missed_instalments: int
    remedy_deadline: dt.date | None = None
    on: dt.date


@registry.register("agreement.cured", 1)
class AgreementCured(Payload):
    agreement_id: str
    from_level: EscalationLevel
    on: dt.date


@registry.register("agreement.completed", 1)
class AgreementCompleted(Payload):
    agreement_id: str
    borrower_id: str
    on: dt.date


@registry.register("referral.blocked", 1)
class ReferralBlocked(Payload):
    """The ladder reached referral but the dual-tracking guard holds it."""

    agreement_id: str
    reasons: list[Reason]
    on: dt.date


# -- outbound topics ------------------------------------------------------------------------


@registry.register("notice.requested", 1)
class NoticeRequested(Payload):
    """For ``notifications.requested``: the channel service resolves the recipient by borrower id."""

    notice_id: str
    agreement_id: str
    borrower_id: str
    level: Literal["reminder", "warning", "breach_notice"]
    days_past_due: int
    amount_overdue: DecimalStr
    remedy_deadline: dt.date | None = None
    on: dt.date


class DossierPayment(Payload):
    reference: str
    amount: DecimalStr
    received_on: dt.date
    source: str


class DossierNotice(Payload):
    notice_id: str
    level: str
    on: dt.date
    remedy_deadline: dt.date | None = None


class DossierContact(Payload):
    contact_id: str
    party: str
    channel: str
    direction: str
    outcome: str
    on: dt.date


class DossierEvidence(Payload):
    document_id: str
    document_type: str
    status: str
    sha256: str


class DossierSignedPdf(Payload):
    """The signed agreement PDF (lender's PAdES signature, the borrower's consent attached): its
    sha256 and the agreement service's address for it; the bytes stay there."""

    sha256: str
    href: str


class Dossier(Payload):
    agreement_id: str
    document_sha256: str
    option: str
    activated_on: dt.date
    schedule: ScheduleDoc
    missed_instalments: list[int]
    amount_overdue: DecimalStr
    outstanding_balance: DecimalStr
    payments: list[DossierPayment]
    notices: list[DossierNotice]
    communications: list[DossierContact]
    evidence: list[DossierEvidence]
    #: None for an agreement activated without a signing key (or before signed PDFs existed)
    signed_pdf: DossierSignedPdf | None = None


@registry.register("legal.referral", 1)
class LegalReferral(Payload):
    """For ``legal.referrals``: the debt handed to legal action with its dossier."""

    referral_id: str
    agreement_id: str
    borrower_id: str
    route: Literal["pre_litigation_mediation", "lawsuit", "asset_preservation"]
    reasons: list[Reason]
    referred_on: dt.date
    dossier: Dossier


@registry.register("credit.standing_updated", 1)
class CreditStandingUpdated(Payload):
    """For ``credit.updates``: the borrower kept (or broke) the plan."""

    borrower_id: str
    agreement_id: str
    standing: Literal["plan_completed", "plan_breached"]
    on: dt.date


@registry.register("agreement.referred", 1)
class AgreementReferred(Payload):
    agreement_id: str
    referral_id: str
    route: str
    on: dt.date




PromiseRecorder = Literal["agent", "borrower"]


@registry.register("promise.recorded", 1)
class PromiseRecorded(Payload):
    """A promise to pay: ``amount`` by ``due_date`` through ``channel``, made on ``made_on``
    (the business date) by the borrower or an agent. No free text: nothing personal travels."""

    promise_id: str
    agreement_id: str
    amount: PositiveMoney
    currency: CurrencyCode
    due_date: dt.date
    channel: Channel
    recorded_by: PromiseRecorder
    made_on: dt.date


class _PromiseJudged(Payload):
    promise_id: str
    agreement_id: str
    amount: PositiveMoney
    #: what was received toward it, from the day it was made through its date
    paid: MoneyAmount
    due_date: dt.date
    #: the business day whose close of business judged it
    on: dt.date


@registry.register("promise.kept", 1)
class PromiseKept(_PromiseJudged):
    """The payments received from the day the promise was made reached the amount by its date."""


@registry.register("promise.broken", 1)
class PromiseBroken(_PromiseJudged):
    """The close of business of the promised date found less than the amount received."""

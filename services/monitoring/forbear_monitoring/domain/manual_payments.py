"""When an agent may say a payment slip was received.

A payment counts on the day it was received: an instalment paid by its due date plus grace is
on time. An agent entering a slip by hand could therefore make a late instalment look paid on
time by dating the slip back, so the date is bounded: not after the business date (money not
received yet), not before the agreement took effect, and not more than the policy's
``payments.max_backdated_days`` before the business date. Every entry dated before the business
date is recorded as backdated, with who entered it, for the audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from forbear_shared.domain.calendar import add_days
from forbear_shared.domain.policy import Policy
from forbear_shared.errors import Conflict


class ReceivedOnRefusal(StrEnum):
    AFTER_BUSINESS_DATE = "received_on_after_business_date"
    BEFORE_AGREEMENT = "received_on_before_agreement"
    BACKDATED_TOO_FAR = "received_on_backdated_too_far"


@dataclass(frozen=True)
class ReceivedOnCheck:
    refusal: ReceivedOnRefusal | None
    #: days the entry is dated before the business date (0: entered on the day)
    backdated_days: int
    #: the earliest date the entry could have carried
    earliest: date


def check_received_on(received_on: date, *, business_date: date, agreement_start: date,
                      policy: Policy) -> ReceivedOnCheck:
    earliest = max(agreement_start, add_days(business_date, -policy.payments.max_backdated_days))
    backdated = max(0, (business_date - received_on).days)
    refusal: ReceivedOnRefusal | None = None
    if received_on > business_date:
        refusal = ReceivedOnRefusal.AFTER_BUSINESS_DATE
    elif received_on < agreement_start:
        refusal = ReceivedOnRefusal.BEFORE_AGREEMENT
    elif received_on < earliest:
        refusal = ReceivedOnRefusal.BACKDATED_TOO_FAR
    return ReceivedOnCheck(refusal, backdated, earliest)


@dataclass(frozen=True)
class RecordedSlip:
    """A payment already recorded under the slip's reference."""

    agreement_id: str | None
    amount: Decimal
    received_on: date


@dataclass(frozen=True)
class SlipEntry:
    """A slip to record: dated ``received_on`` (the business date when the agent gave none)."""

    received_on: date
    backdated_days: int


def check_slip(*, agreement_id: str, amount: Decimal, received_on: date | None, recorded: RecordedSlip | None,
               agreement_status: str, agreement_start: date, business_date: date,
               policy: Policy) -> SlipEntry | None:
    """May this slip be recorded against this agreement today?

    ``None``: the reference is recorded already with the same details, so this is the same
    payment (a repeat changes nothing). A reference recorded with other details, an agreement
    that takes no more payments, or a date outside the window is a ``Conflict`` naming why.
    """
    dated = received_on or business_date
    if recorded is not None:
        if (recorded.agreement_id, recorded.amount, recorded.received_on) != (agreement_id, amount, dated):
            raise Conflict("payment_reference_conflict", "the payment reference is already recorded with other details")
        return None
    if agreement_status != "active":
        raise Conflict("agreement_closed", f"agreement {agreement_id} is {agreement_status}; it takes no more payments")
    check = check_received_on(dated, business_date=business_date, agreement_start=agreement_start, policy=policy)
    if check.refusal is not None:
        raise Conflict(check.refusal.value,
                       f"received_on {dated} must lie between {check.earliest} and the business date {business_date}")
    return SlipEntry(dated, check.backdated_days)

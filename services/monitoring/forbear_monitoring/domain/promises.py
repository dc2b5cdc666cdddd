"""Promise to pay (承诺还款): a short, dated promise of an amount, kept or broken by the payments.

Before or instead of a full restructuring, an agent or the borrower records that the borrower
will pay an amount by a date, through a channel. The promise is:

- an amount in the agreement's currency, above zero and not more than the agreement still owes
  (its outstanding balance on the business date: nobody promises to pay what is not owed);
- by a business date not before today and at most the policy's ``promises.max_days_ahead``
  calendar days later (a promise is short by nature; a longer plan is a restructuring);
- at most ``promises.max_open`` open at once per agreement (one more is a 409).

It is KEPT when the payments received on or after the day it was made, up to and including its
date, reach the amount (exactly: 499.99 of 500.00 is not kept, the allocation tolerance is for
instalments, not promises); BROKEN at the close of business of its date otherwise. A payment
received before the promise was made does not count: it is not what was promised. Both are
judged at close of business, which sweeps each skipped day in turn, so every promise due on a
swept day is judged on that day, once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import Policy
from forbear_shared.errors import Conflict, Unprocessable


class PromiseStatus(StrEnum):
    OPEN = "open"
    KEPT = "kept"
    BROKEN = "broken"


@dataclass(frozen=True, slots=True)
class PromiseTerms:
    """What was promised: ``amount`` by ``due_date``, made on the business date ``made_on``."""

    amount: Money
    due_date: dt.date
    made_on: dt.date


def check_promise(*, amount: Money, due_date: dt.date, business_date: dt.date, owed: Money,
                  agreement_status: str, open_promises: int, policy: Policy) -> PromiseTerms:
    """May this promise be recorded today? The terms to record, or why not (422 for what the
    promise says, 409 for what the agreement's state refuses)."""
    rule = policy.promises
    if not rule.enabled:
        raise Conflict("promises_disabled", "the lender's policy takes no promises to pay")
    if agreement_status != "active":
        raise Conflict("agreement_closed", f"the agreement is {agreement_status}; it takes no promises")
    if not amount.is_positive():
        raise Unprocessable("promise_amount_not_positive", "a promise is of an amount above zero")
    if amount.currency != owed.currency:
        raise Unprocessable("promise_currency_mismatch", f"the agreement is in {owed.currency}")
    if amount > owed:
        raise Unprocessable("promise_exceeds_owed",
                            f"the promise is of more than the {owed.to_str()} the agreement still owes")
    if due_date < business_date:
        raise Unprocessable("promise_date_in_past", f"the promised date is before the business date {business_date}")
    latest = business_date + dt.timedelta(days=rule.max_days_ahead)
    if due_date > latest:
        raise Unprocessable("promise_date_too_far",
                            f"the promised date is after {latest} ({rule.max_days_ahead} days after the business date)")
    if open_promises >= rule.max_open:
        raise Conflict("promise_open", f"the agreement has {open_promises} open promise(s); "
                       f"at most {rule.max_open} may be open at once")
    return PromiseTerms(amount, due_date, business_date)


def counts_toward(terms: PromiseTerms, received_on: dt.date) -> bool:
    """A payment counts toward the promise when received from the day it was made through its date."""
    return terms.made_on <= received_on <= terms.due_date


@dataclass(frozen=True, slots=True)
class Judgement:
    status: PromiseStatus
    paid: Money
    """What was received toward the promise (the payments that count, in full)."""


def judge(terms: PromiseTerms, payments: list[tuple[dt.date, Money]], *, closing: dt.date) -> Judgement | None:
    """The promise at the close of business of ``closing``: kept as soon as what counts reaches
    the amount, broken at the close of its date if it has not, otherwise still open (None).

    ``payments`` are (received on, amount) of every payment applied to the agreement; only those
    received from ``made_on`` through the promised date (and so no later than ``closing``) count.
    """
    paid = Money.zero(terms.amount.currency)
    for received_on, amount in payments:
        if counts_toward(terms, received_on) and received_on <= closing:
            paid = paid + amount
    if paid >= terms.amount:
        return Judgement(PromiseStatus.KEPT, paid)
    if closing >= terms.due_date:
        return Judgement(PromiseStatus.BROKEN, paid)
    return None

"""How an agreement stands on a business date: per-instalment status and balances.

What an agent, a borrower and a court read on the agreement page: each instalment is
``paid`` (within tolerance), ``partially_paid``, ``missed`` (not paid by due date + grace;
``paid_late`` once settled after that), ``due`` (past its due date, still within grace) or
``upcoming``.
"""

from __future__ import annotations

from datetime import date

from forbear_shared.domain.arrears import LoanLedger, grace_cutoff, not_yet_due, uncharged_penalty
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import Policy


def instalment_status(ledger: LoanLedger, number: int, *, as_of: date, policy: Policy) -> str:
    instalment = ledger.schedule.instalment(number)
    position = ledger.position(number)
    # a later instalment's cutoff is not looked up: its year's holidays may be unpublished yet
    if position.settled_on is not None and position.settled_on <= as_of:
        early = position.settled_on <= instalment.due_date
        return "paid" if early or position.settled_on <= grace_cutoff(instalment, policy) else "paid_late"
    if not not_yet_due(instalment.due_date, as_of) and as_of > grace_cutoff(instalment, policy):
        return "missed"
    paid = position.fee_paid + position.interest_paid + position.principal_paid
    if paid.is_positive():
        return "partially_paid"
    return "due" if as_of >= instalment.due_date else "upcoming"


def outstanding_balance(ledger: LoanLedger, *, as_of: date, policy: Policy) -> Money:
    """Everything still owed under the agreement: unpaid instalments plus penalty to ``as_of``.

    The amount the legal route is chosen by: a court claim is for the whole debt, not only
    the overdue part.
    """
    currency = ledger.schedule.currency
    total = Money.zero(currency)
    for instalment in ledger.schedule.instalments:
        due = ledger.outstanding(instalment.number)
        total = total + due.total + uncharged_penalty(ledger, instalment.number, as_of, policy)
    return total.clamp_non_negative()

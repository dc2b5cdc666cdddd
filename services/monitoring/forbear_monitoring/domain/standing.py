"""How an agreement stands on a business date: per-instalment status and balances.

What an agent, a borrower and a court read on the agreement page: each instalment is
``paid`` (within tolerance), ``partially_paid``, ``missed`` (not paid by due date + grace;
``paid_late`` once settled after that), ``due`` (past its due date, still within grace) or
``upcoming``.
"""

from __future__ import annotations

from datetime import date

from forbear_shared.domain.arrears import LoanLedger, grace_cutoff, uncharged_penalty
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import Policy


def instalment_status(ledger: LoanLedger, number: int, *, as_of: date, policy: Policy) -> str:
    instalment = ledger.schedule.instalment(number)
    position = ledger.position(number)
    cutoff = grace_cutoff(instalment, policy)
    if position.settled_on is not None and position.settled_on <= as_of:
        return "paid_late" if position.settled_on > cutoff else "paid"
    if as_of > cutoff:
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

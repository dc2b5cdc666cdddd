"""Early warning: an instalment *near breach* before anything can be missed.

A working-capital style breach rule applied to each instalment period (policy
``early_warning``): at the close of business of the instalment's checkpoint,
``checkpoint_days_before_due`` calendar days before its due date, the amount paid towards it
(principal + interest + fee; penalty is not yet owed) must be at least ``min_paid_share`` of
the instalment. Below that the agreement is near breach for that instalment, so an agent can
call while paying is still on time.

* The share is compared exactly (``paid < share x due``, no rounding): 300.00 paid of
  1,000.00 with a share of 0.50 is below the 500.00 required; 500.00 is not.
* The watch runs from the checkpoint up to the grace cutoff (due date + grace days, the last
  day paying in full is on time). An agreement activated after an instalment's checkpoint is
  checked at its first close of business inside that window.
* Each instalment is flagged at most once (the service records it); a near breach is
  *cleared* once the paid amount reaches the share or the instalment is paid (within the
  allocation tolerance), and *superseded* when the instalment is missed (grace passed unpaid):
  from then on the missed instalment and the escalation ladder speak for it.
* Checkpoints count calendar days back from the schedule's due date, whatever the calendar
  of working days: the date is read off the schedule the borrower signed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from forbear_shared.domain.arrears import LoanLedger, grace_cutoff
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import EarlyWarningPolicy, Policy


class WatchState(StrEnum):
    """An instalment's early warning: what one close of business decides, and what the
    service then keeps of it."""

    NEAR_BREACH = "near_breach"
    CLEARED = "cleared"
    SUPERSEDED = "superseded"


@dataclass(frozen=True, slots=True)
class InstalmentWatch:
    """The facts the rule reads for one instalment on one business date."""

    number: int
    due_date: date
    grace_cutoff: date
    amount_due: Money
    """The instalment: principal + interest + fee."""
    amount_paid: Money
    """Paid towards those components so far."""
    settled_on: date | None
    """When it became paid within the allocation tolerance, if it has."""
    state: WatchState | None = None
    """What was recorded before: None when never flagged."""
    monitored: bool = True
    """False once the agreement is no longer monitored (superseded, completed, referred)."""


@dataclass(frozen=True, slots=True)
class Decision:
    number: int
    verdict: WatchState
    due_date: date
    checkpoint: date
    amount_due: Money
    amount_paid: Money
    required_share: Decimal


def checkpoint_of(due_date: date, rule: EarlyWarningPolicy) -> date:
    """The instalment's checkpoint: e.g. due 2026-03-31, 7 days before: 2026-03-24."""
    return due_date - timedelta(days=rule.checkpoint_days_before_due)


def below_share(amount_paid: Money, amount_due: Money, share: Decimal) -> bool:
    """Paid short of ``share`` of what is due, compared exactly (no rounding of ``share x due``)."""
    return amount_paid.amount < share * amount_due.amount


def assess(watch: InstalmentWatch, *, as_of: date, rule: EarlyWarningPolicy) -> Decision | None:
    """The close of business of ``as_of`` for one instalment: flag, clear, supersede, or nothing."""
    if not rule.enabled:
        return None
    settled = watch.settled_on is not None and watch.settled_on <= as_of
    verdict: WatchState | None = None
    if watch.state is WatchState.NEAR_BREACH:
        if not watch.monitored and not settled:
            verdict = WatchState.SUPERSEDED  # a new agreement (or the referral) speaks for it now
        elif settled and watch.settled_on is not None and watch.settled_on <= watch.grace_cutoff:
            verdict = WatchState.CLEARED
        elif as_of > watch.grace_cutoff:
            verdict = WatchState.SUPERSEDED  # missed (or paid only after grace): the ladder takes over
        elif settled or not below_share(watch.amount_paid, watch.amount_due, rule.min_paid_share):
            verdict = WatchState.CLEARED
    elif watch.state is None:
        checkpoint = checkpoint_of(watch.due_date, rule)
        in_window = checkpoint <= as_of <= watch.grace_cutoff
        if in_window and not settled and below_share(watch.amount_paid, watch.amount_due, rule.min_paid_share):
            verdict = WatchState.NEAR_BREACH
    if verdict is None:
        return None
    return Decision(watch.number, verdict, watch.due_date, checkpoint_of(watch.due_date, rule),
                    watch.amount_due, watch.amount_paid, rule.min_paid_share)


def watches_of(ledger: LoanLedger, policy: Policy, states: Mapping[int, WatchState]) -> tuple[InstalmentWatch, ...]:
    """The facts of every instalment of a ledger, with what was recorded of each (``states``)."""
    watches = []
    for instalment in ledger.schedule.instalments:
        position = ledger.position(instalment.number)
        paid = position.fee_paid + position.interest_paid + position.principal_paid
        watches.append(InstalmentWatch(instalment.number, instalment.due_date, grace_cutoff(instalment, policy),
                                       instalment.total, paid, position.settled_on, states.get(instalment.number)))
    return tuple(watches)


def early_warnings(
    ledger: LoanLedger, *, as_of: date, policy: Policy, states: Mapping[int, WatchState] | None = None
) -> tuple[Decision, ...]:
    """Every instalment whose early warning changes at the close of ``as_of``, oldest first."""
    decisions = (assess(w, as_of=as_of, rule=policy.early_warning) for w in watches_of(ledger, policy, states or {}))
    return tuple(d for d in decisions if d is not None)


def record(states: Mapping[int, WatchState], decisions: tuple[Decision, ...]) -> dict[int, WatchState]:
    """``states`` after ``decisions``: what the service keeps between closes of business."""
    after = dict(states)
    for d in decisions:
        after[d.number] = d.verdict
    return after

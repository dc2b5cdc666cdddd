"""Missed instalments of a signed agreement, as of a business date.

An instalment is *missed* when it was not fully paid (within the allocation
tolerance) by its due date plus the policy's grace days (the due date rolled to a
working day, the grace counted in working days by default: ``arrears.grace_cutoff``). The check is made
as of the lender's business date, never the wall clock, so a sweep that
catches up after days of downtime finds exactly the instalments that a
daily sweep would have found, each with the date on which it became missed.
"Detected exactly once" is then the service's job: it records each
(agreement, instalment number) it has reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from forbear_shared.domain.arrears import LoanLedger, grace_cutoffs, not_yet_due
from forbear_shared.domain.policy import Policy


@dataclass(frozen=True, slots=True)
class MissedInstalment:
    number: int
    due_date: date
    missed_on: date
    """First business date on which it counts as missed: due date + grace + 1."""
    paid_late_on: date | None
    """When it was finally paid (within tolerance), if it has been by ``as_of``."""

    @property
    def is_outstanding(self) -> bool:
        return self.paid_late_on is None


def missed_instalments(ledger: LoanLedger, *, as_of: date, policy: Policy) -> tuple[MissedInstalment, ...]:
    """Every instalment missed as of ``as_of``, oldest first, including those
    paid late since (a late payment does not un-miss an instalment: it cures
    arrears, it does not rewrite the record)."""
    missed: list[MissedInstalment] = []
    cutoff_of = grace_cutoffs(policy)
    for instalment, position in zip(ledger.schedule.instalments, ledger.positions, strict=True):
        if not_yet_due(instalment.due_date, as_of):
            break
        cutoff = cutoff_of(instalment.due_date)  # ``arrears.grace_cutoff``
        if as_of <= cutoff:
            break
        settled_on = position.settled_on
        if settled_on is not None and settled_on <= cutoff:
            continue
        paid_late_on = settled_on if settled_on is not None and settled_on <= as_of else None
        missed.append(MissedInstalment(instalment.number, instalment.due_date, cutoff + timedelta(days=1), paid_late_on))
    return tuple(missed)


def outstanding_missed_count(ledger: LoanLedger, *, as_of: date, policy: Policy) -> int:
    """Missed instalments still unpaid: what the escalation ladder counts."""
    return sum(1 for m in missed_instalments(ledger, as_of=as_of, policy=policy) if m.is_outstanding)


def newly_missed(
    ledger: LoanLedger, *, since: date, as_of: date, policy: Policy
) -> tuple[MissedInstalment, ...]:
    """Instalments that became missed after business date ``since`` up to
    ``as_of``: what a COB sweep from ``since`` to ``as_of`` must report."""
    return tuple(
        m for m in missed_instalments(ledger, as_of=as_of, policy=policy) if since < m.missed_on <= as_of
    )

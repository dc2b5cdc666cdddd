"""How far one close of business may move the lender's business date."""

from __future__ import annotations

from datetime import date, timedelta

from forbear_shared.errors import Conflict

#: one call sweeps every day up to its target, one transaction a day: a year at most, so that a
#: mistyped year cannot hold the sweep (and the caller) for hours
MAX_ADVANCE_DAYS = 366


def days_to_sweep(current: date, to: date | None) -> date:
    """The date to sweep up to from ``current`` (default: the next day); the business date only
    moves forward, and at most ``MAX_ADVANCE_DAYS`` at a time (both refused against the current
    state: 409)."""
    target = to or current + timedelta(days=1)
    if (target - current).days > MAX_ADVANCE_DAYS:
        raise Conflict(
            "advance_too_far",
            f"close of business catches up at most {MAX_ADVANCE_DAYS} days at a time: {target} is too far after {current}",
        )
    if target <= current:
        raise Conflict(
            "business_date_not_after_current",
            f"the business date can only move forward: {target} is not after {current}",
        )
    return target

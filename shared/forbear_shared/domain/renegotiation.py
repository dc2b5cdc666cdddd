"""At most ``renegotiation.max_per_agreement`` renegotiations of an agreement in
``window_months`` (demo: once in 12 months), counted on business dates.

A renegotiation request pauses legal referral (no dual tracking), so a borrower could stall
referral forever by asking again and again; the limit keeps the guard from being abused.
Intake refuses the request; monitoring does not let it hold a referral.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from forbear_shared.domain.calendar import add_months
from forbear_shared.domain.policy import Policy


@dataclass(frozen=True, slots=True)
class RenegotiationLimit:
    allowed: bool
    #: when refused: the first business date on which one more is allowed
    next_allowed_on: date | None = None

    @property
    def reason(self) -> str | None:
        if self.allowed:
            return None
        assert self.next_allowed_on is not None
        return f"renegotiation_limit_reached:next_allowed_on={self.next_allowed_on.isoformat()}"


def renegotiation_allowed(previous: Iterable[date], *, on: date, policy: Policy) -> RenegotiationLimit:
    """May the agreement be renegotiated on business date ``on``?

    ``previous`` are the business dates on which earlier renegotiations of this agreement were
    requested; those after ``on`` minus the window count. One on 10 March 2025 blocks another
    until 9 March 2026; on 10 March 2026, 12 months later, it is allowed.
    """
    rules = policy.renegotiation
    start = add_months(on, -rules.window_months)
    in_window = sorted(d for d in previous if start < d <= on)
    if len(in_window) < rules.max_per_agreement:
        return RenegotiationLimit(True)
    # the limit frees up when enough of the renegotiations in the window have aged out of it:
    # the (len - max + 1)-th most recent one's anniversary
    oldest_to_expire = in_window[len(in_window) - rules.max_per_agreement]
    return RenegotiationLimit(False, add_months(oldest_to_expire, rules.window_months))

"""At most one renegotiation per agreement in twelve months (policy ``renegotiation``).

A renegotiation request pauses legal referral (no dual tracking), so a borrower could stall
referral forever by asking again and again; the limit keeps the guard from being abused.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from forbear_shared.domain.calendar import add_months
from forbear_shared.domain.policy import Policy


def renegotiation_allowed(previous_requests: Iterable[date], as_of: date, policy: Policy) -> bool:
    """May one more renegotiation of an agreement be opened on ``as_of``?

    ``previous_requests`` are the business dates of earlier requests for the same agreement;
    those after ``as_of`` minus the window count.
    """
    rules = policy.renegotiation
    window_start = add_months(as_of, -rules.window_months)
    recent = sum(1 for d in previous_requests if window_start < d <= as_of)
    return recent < rules.max_per_agreement

"""The dual-tracking guard: no legal referral while a negotiation is pending.

Referring a debt to court while the borrower's renegotiation request,
its evaluation, an open offer or an appeal is still pending is "dual
tracking" (cf. US Regulation X 12 CFR 1024.41): the borrower would be sued
while being told their request is being considered. To keep the guard from
being abused as an endless stall, a debt may be renegotiated at most
``renegotiation.max_per_agreement`` times in ``window_months`` (demo: once
in 12 months), counted on business dates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from forbear_shared.domain.calendar import add_months
from forbear_shared.domain.policy import Policy


class PendingKind(StrEnum):
    RENEGOTIATION_REQUEST = "renegotiation_request"
    EVALUATION = "evaluation"
    OPEN_OFFER = "open_offer"
    APPEAL = "appeal"


@dataclass(frozen=True, slots=True)
class PendingMatter:
    """Something still open for a debt, as known from events."""

    kind: PendingKind
    agreement_id: str
    reference: str
    """The case, offer or appeal id, so the held referral names what it waits for."""


@dataclass(frozen=True, slots=True)
class GuardDecision:
    allowed: bool
    reasons: tuple[str, ...] = ()
    """Machine-readable, e.g. ``pending_open_offer:OFFER-7``."""

    @property
    def reason(self) -> str | None:
        return ";".join(self.reasons) if self.reasons else None


def referral_guard(agreement_id: str, pending: Iterable[PendingMatter]) -> GuardDecision:
    """May this agreement be referred to legal now?"""
    reasons = tuple(
        f"pending_{m.kind.value}:{m.reference}" for m in pending if m.agreement_id == agreement_id
    )
    return GuardDecision(not reasons, reasons)


def renegotiation_window_start(on: date, policy: Policy) -> date:
    """Earliest date whose renegotiations still count against ``on``'s limit."""
    return add_months(on, -policy.renegotiation.window_months)


def renegotiation_allowed(previous: Iterable[date], *, on: date, policy: Policy) -> GuardDecision:
    """May the agreement be renegotiated on business date ``on``?

    ``previous`` are the business dates on which earlier renegotiations of
    this agreement were requested. One on 10 March 2025 blocks another until
    10 March 2026 inclusive of the earlier date: 12 months later it is allowed.
    """
    start = renegotiation_window_start(on, policy)
    in_window = sorted(d for d in previous if start < d <= on)
    if len(in_window) >= policy.renegotiation.max_per_agreement:
        # The limit frees up when enough of the renegotiations in the window
        # have aged out of it: the (len - max + 1)-th most recent one's anniversary.
        oldest_to_expire = in_window[len(in_window) - policy.renegotiation.max_per_agreement]
        next_allowed = add_months(oldest_to_expire, policy.renegotiation.window_months)
        return GuardDecision(False, (f"renegotiation_limit_reached:next_allowed_on={next_allowed.isoformat()}",))
    return GuardDecision(True)

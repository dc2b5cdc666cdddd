"""The dual-tracking guard: no legal referral while a negotiation is pending.

Referring a debt to court while the borrower's renegotiation request,
its evaluation, an open offer or an appeal is still pending is "dual
tracking" (cf. US Regulation X 12 CFR 1024.41): the borrower would be sued
while being told their request is being considered. A request over the policy's
renegotiation limit (forbear_shared.domain.renegotiation) holds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


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

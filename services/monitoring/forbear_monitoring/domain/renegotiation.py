"""A renegotiation as the dual-tracking guard follows it, from the events of other services.

    requested -> evaluating -> offered -> accepted        (pending: referral is held)
        |____________|____________|__________|___> ended  (declined, offers expired, renegotiated)
    over_limit                                            (past the policy's limit: holds nothing)

    ended (declined) -> appealed -> ended (the appeal upheld the decline)
                            |_____> evaluating (overturned: the case is evaluated again)

A pending appeal of the decline holds referral exactly as the renegotiation did before it was
declined: it is the same negotiation, asking again.

Every transition is a fact another service announced; a fact that does not move the
renegotiation from where it is (an offer made for a case already accepted, a second decline)
changes nothing, and an ended or over-limit renegotiation stays as it is. The limit itself is
``forbear_shared.domain.renegotiation``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum


class RenegotiationState(StrEnum):
    REQUESTED = "requested"
    EVALUATING = "evaluating"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    APPEALED = "appealed"
    ENDED = "ended"
    OVER_LIMIT = "over_limit"


FINAL: frozenset[RenegotiationState] = frozenset({RenegotiationState.ENDED, RenegotiationState.OVER_LIMIT})


class EndReason(StrEnum):
    DECLINED = "declined"
    OFFERS_EXPIRED = "offers_expired"
    RENEGOTIATED = "renegotiated"


@dataclass(frozen=True, slots=True)
class Renegotiation:
    case_id: str
    agreement_id: str
    requested_on: date
    state: RenegotiationState
    ended_on: date | None = None
    ended_reason: EndReason | None = None
    #: the appeal of its decline, once one was lodged
    appeal_id: str | None = None

    @property
    def is_final(self) -> bool:
        return self.state in FINAL

    def moved(self, state: RenegotiationState) -> Renegotiation:
        return replace(self, state=state, ended_on=None, ended_reason=None)

    def ended(self, on: date, reason: EndReason) -> Renegotiation:
        return replace(self, state=RenegotiationState.ENDED, ended_on=on, ended_reason=reason)


def requested(case_id: str, agreement_id: str, on: date, *, within_limit: bool) -> Renegotiation:
    """A request within the policy's limit is pending; one over it is recorded and holds nothing."""
    state = RenegotiationState.REQUESTED if within_limit else RenegotiationState.OVER_LIMIT
    return Renegotiation(case_id, agreement_id, on, state)


def submitted(r: Renegotiation) -> Renegotiation:
    """The case's evidence is in: a request is now being evaluated."""
    return r.moved(RenegotiationState.EVALUATING) if r.state is RenegotiationState.REQUESTED else r


def decided(r: Renegotiation, outcome: str, on: date) -> Renegotiation:
    """A decline ends it; an approval means an offer; anything else (a supervisor's review,
    more evidence) keeps it in evaluation."""
    if r.is_final:
        return r
    if outcome == "decline":
        return r.ended(on, EndReason.DECLINED)
    if outcome == "approve":
        return r.moved(RenegotiationState.OFFERED)
    return r.moved(RenegotiationState.EVALUATING)


def offer_made(r: Renegotiation) -> Renegotiation:
    if r.state in (RenegotiationState.REQUESTED, RenegotiationState.EVALUATING):
        return r.moved(RenegotiationState.OFFERED)
    return r


def offer_expired(r: Renegotiation, on: date, *, offers_left: int) -> Renegotiation:
    """It ends when no offer of it is left open or accepted."""
    if r.state is RenegotiationState.OFFERED and offers_left == 0:
        return r.ended(on, EndReason.OFFERS_EXPIRED)
    return r


def offer_accepted(r: Renegotiation) -> Renegotiation:
    """Accepted but not yet signed and activated: still pending (the new agreement supersedes)."""
    return r if r.is_final else r.moved(RenegotiationState.ACCEPTED)


def renegotiated(r: Renegotiation, on: date) -> Renegotiation:
    """The agreement it renegotiated was superseded: what was pending on it is over."""
    return r if r.is_final else r.ended(on, EndReason.RENEGOTIATED)


def appeal_lodged(r: Renegotiation, appeal_id: str) -> Renegotiation:
    """An appeal of the decline that ended it: pending again until a supervisor decides."""
    if r.state is RenegotiationState.ENDED and r.ended_reason is EndReason.DECLINED:
        return replace(r, state=RenegotiationState.APPEALED, ended_on=None, ended_reason=None, appeal_id=appeal_id)
    return r


def appeal_decided(r: Renegotiation, outcome: str, on: date) -> Renegotiation:
    """Upheld, the decline stands (ended again, on the appeal's date); overturned, the case is
    back in evaluation and the decisions that follow move it as before."""
    if r.state is not RenegotiationState.APPEALED:
        return r
    if outcome == "upheld":
        return r.ended(on, EndReason.DECLINED)
    return r.moved(RenegotiationState.EVALUATING)

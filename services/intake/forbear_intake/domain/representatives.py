"""Professional help: the representative a borrower authorises to act and be contacted for them.

A borrower may authorise a lawyer, a debt adviser, a family member (or someone else the lender's
policy allows) in writing: the signed authorisation is an evidence document of type
``representative_authorisation`` on the case. An authorisation has a scope, one or more of:

- ``communications``: the lender communicates through the representative. While such an
  authorisation is active the lender's outbound contact goes to the representative, and an
  outbound contact with the borrower directly is refused (``represented_borrower``); the
  borrower may still call the lender (inbound contact is always recorded as allowed);
- ``negotiation``: the representative may negotiate the case for the borrower (statement,
  offers, counter-proposals) — recorded so staff know whom they may deal with.

An authorisation runs from its start to its end date inclusive, both business dates: it starts
on or after the business date it is recorded on (it cannot cover what already happened) and
ends at most ``representatives.max_days`` after that date. Revocation is immediate: a revoked
authorisation is not active from the moment it is recorded, whatever its end date. An
authorisation rests on its document: once a reviewer rejects the document (unsigned, forged),
the authorisation is not active either.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from forbear_shared.domain.policy import Policy, RepresentativeKind
from forbear_shared.domain.representatives import Representative, RepresentativeScope
from forbear_shared.errors import Conflict, Unprocessable

__all__ = ["REPRESENTATIVE_PARTY", "Representative", "RepresentativeScope", "check_authorisation",
           "check_revocable", "communicating_representatives", "find"]


#: the contact party that names a representative (``ContactIn.party``)
REPRESENTATIVE_PARTY = "representative"


def check_authorisation(*, kind: RepresentativeKind, scopes: Iterable[RepresentativeScope], starts_on: date,
                        ends_on: date, today: date, policy: Policy) -> None:
    """May an authorisation with these terms be recorded on ``today``? Raises ``Unprocessable``
    naming the term that is refused."""
    rules = policy.representatives
    if kind not in rules.allowed_kinds:
        allowed = ", ".join(k.value for k in rules.allowed_kinds)
        raise Unprocessable("kind_not_allowed", f"the lender accepts representatives of kind: {allowed}")
    if not tuple(scopes):
        raise Unprocessable("no_scope", "an authorisation needs at least one scope")
    if starts_on < today:
        raise Unprocessable("starts_in_the_past", f"an authorisation starts on or after the business date {today}")
    if ends_on < starts_on:
        raise Unprocessable("ends_before_start", "an authorisation ends on or after the day it starts")
    latest = today + timedelta(days=rules.max_days)
    if ends_on > latest:
        raise Unprocessable("ends_too_far", f"an authorisation ends at most {rules.max_days} days ahead, by {latest}")


def check_revocable(representative: Representative) -> None:
    """A revocation is recorded once (a second one is a conflict, not a new effect)."""
    if representative.revoked_on is not None:
        raise Conflict("already_revoked",
                       f"representative {representative.representative_id} was revoked on {representative.revoked_on}")


def communicating_representatives(representatives: Iterable[Representative], on: date) -> tuple[Representative, ...]:
    """The representatives the lender communicates through on ``on``."""
    return tuple(r for r in representatives if r.communicates_on(on))


def find(representatives: Sequence[Representative], representative_id: str | None) -> Representative | None:
    return next((r for r in representatives if r.representative_id == representative_id), None)

"""Contact rules: who may be contacted about a debt, how often and when.

Collections contact is regulated because it can become harassment: the
lender contacts only the borrower and a guarantor (never third parties such
as the borrower's phone contacts), at most 7 attempts in any 7 days per
debt (cf. US Regulation F's 7-in-7), and only between 08:00 and 21:00 in the
contact's local time. All three numbers are policy (``contact``). A contact
that would break a rule is refused with a machine-readable reason, and the
refusal is logged by the caller.

A borrower may authorise a representative (``domain.representatives``). While
one with the ``communications`` scope is active, the lender communicates
through them: a contact with party ``representative`` naming that
representative is allowed under the same hours and attempt limits (the
attempts count per debt, whoever was contacted), and the lender's outbound
contact with the borrower directly is refused (``represented_borrower``).
Once revoked or past its end date, a contact with the representative is
refused (``representative_not_authorised``) and the borrower is contacted
again. A guarantor is a party to the debt in their own right and stays
contactable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from forbear_shared.domain.policy import ContactParty, Policy

from forbear_intake.domain.representatives import (
    REPRESENTATIVE_PARTY,
    Representative,
    communicating_representatives,
    find,
)


class ContactRefusal(StrEnum):
    PARTY_NOT_ALLOWED = "party_not_allowed"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    OUTSIDE_CONTACT_HOURS = "outside_contact_hours"
    REPRESENTED_BORROWER = "represented_borrower"
    REPRESENTATIVE_NOT_AUTHORISED = "representative_not_authorised"


@dataclass(frozen=True, slots=True)
class ContactDecision:
    allowed: bool
    reasons: tuple[ContactRefusal, ...] = ()
    """Every rule the contact would break, in the order checked."""
    attempts_in_window: int = 0

    @property
    def reason(self) -> ContactRefusal | None:
        return self.reasons[0] if self.reasons else None


def check_contact(
    *,
    party: str,
    at_local: datetime,
    previous_attempts: Iterable[datetime],
    policy: Policy,
) -> ContactDecision:
    """May the lender make a contact attempt about one debt?

    ``at_local`` is the proposed attempt in the contact's local time;
    ``previous_attempts`` are the earlier attempts *for the same debt*
    (every attempt counts, answered or not), in the same clock. The window
    is rolling: attempts after ``at_local - window_days`` count. Contact
    hours are half-open: 08:00:00 is allowed, 21:00:00 is not.
    """
    rules = policy.contact
    reasons: list[ContactRefusal] = []

    allowed_parties = {p.value for p in rules.allowed_parties}
    if str(party) not in allowed_parties:
        reasons.append(ContactRefusal.PARTY_NOT_ALLOWED)

    window_start = at_local - timedelta(days=rules.window_days)
    attempts = sum(1 for t in previous_attempts if window_start < t <= at_local)
    if attempts >= rules.max_attempts:
        reasons.append(ContactRefusal.TOO_MANY_ATTEMPTS)

    local_time = at_local.time()
    if not rules.earliest <= local_time < rules.latest:
        reasons.append(ContactRefusal.OUTSIDE_CONTACT_HOURS)

    return ContactDecision(not reasons, tuple(reasons), attempts)


def contact_refusals(*, direction: str, party: str, at_local: datetime, previous_attempts: Iterable[datetime],
                     policy: Policy, representatives: Sequence[Representative] = (),
                     representative_id: str | None = None) -> tuple[ContactRefusal, ...]:
    """Why a contact is refused (empty: it is allowed). The rules protect borrowers from the
    lender's attempts: a contact the borrower (or guarantor, or their representative) makes is
    always logged, and only its party is checked.

    ``representatives`` are the case's authorisations; ``representative_id`` the one a contact
    with party ``representative`` names. The business date is ``at_local``'s date."""
    on = at_local.date()
    if party == REPRESENTATIVE_PARTY:
        chosen = find(representatives, representative_id)
        party_refusals = () if chosen is not None and chosen.communicates_on(on) else (
            ContactRefusal.REPRESENTATIVE_NOT_AUTHORISED,)
        if direction != "outbound":
            return party_refusals
        timing = check_contact(party=ContactParty.BORROWER.value, at_local=at_local,
                               previous_attempts=previous_attempts, policy=policy)
        return (*party_refusals, *(r for r in timing.reasons if r is not ContactRefusal.PARTY_NOT_ALLOWED))
    if direction == "outbound":
        reasons = check_contact(party=party, at_local=at_local, previous_attempts=previous_attempts,
                                policy=policy).reasons
        if party == ContactParty.BORROWER.value and communicating_representatives(representatives, on):
            return (ContactRefusal.REPRESENTED_BORROWER, *reasons)
        return reasons
    if party not in {p.value for p in policy.contact.allowed_parties}:
        return (ContactRefusal.PARTY_NOT_ALLOWED,)
    return ()


__all__ = ["ContactDecision", "ContactParty", "ContactRefusal", "check_contact", "contact_refusals"]

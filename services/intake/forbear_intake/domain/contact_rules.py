"""Contact rules: who may be contacted about a debt, how often and when.

Collections contact is regulated because it can become harassment: the
lender contacts only the borrower and a guarantor (never third parties such
as the borrower's phone contacts), at most 7 attempts in any 7 days per
debt (cf. US Regulation F's 7-in-7), and only between 08:00 and 21:00 in the
contact's local time. All three numbers are policy (``contact``). A contact
that would break a rule is refused with a machine-readable reason, and the
refusal is logged by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from forbear_shared.domain.policy import ContactParty, Policy


class ContactRefusal(StrEnum):
    PARTY_NOT_ALLOWED = "party_not_allowed"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    OUTSIDE_CONTACT_HOURS = "outside_contact_hours"


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
                     policy: Policy) -> tuple[ContactRefusal, ...]:
    """Why a contact is refused (empty: it is allowed). The rules protect borrowers from the
    lender's attempts: a contact the borrower (or guarantor) makes is always logged, and only
    its party is checked."""
    if direction == "outbound":
        return check_contact(party=party, at_local=at_local, previous_attempts=previous_attempts,
                             policy=policy).reasons
    if party not in {p.value for p in policy.contact.allowed_parties}:
        return (ContactRefusal.PARTY_NOT_ALLOWED,)
    return ()


__all__ = ["ContactDecision", "ContactParty", "ContactRefusal", "check_contact", "contact_refusals"]

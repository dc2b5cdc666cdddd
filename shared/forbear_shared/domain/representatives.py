"""An authorised representative's terms, as every service that lets one act for a borrower
reads them (intake for contacts, evaluation for appeals). Intake records the authorisation
(``forbear_intake.domain.representatives``); the others learn it from intake's
``representative.authorised`` / ``representative.revoked`` and the review of its document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from forbear_shared.domain.policy import RepresentativeKind


class RepresentativeScope(StrEnum):
    COMMUNICATIONS = "communications"
    NEGOTIATION = "negotiation"


@dataclass(frozen=True, slots=True)
class Representative:
    """One authorisation (without the name: the rules never need it)."""

    representative_id: str
    kind: RepresentativeKind
    scopes: frozenset[RepresentativeScope]
    starts_on: date
    ends_on: date
    revoked_on: date | None = None
    #: the authorisation document was rejected on review
    document_rejected: bool = False

    def is_active(self, on: date) -> bool:
        """Authorised (its document not rejected), not revoked, and ``on`` within [start, end]."""
        return (self.revoked_on is None and not self.document_rejected
                and self.starts_on <= on <= self.ends_on)

    def communicates_on(self, on: date) -> bool:
        """Does the lender communicate through this representative on ``on``?"""
        return self.is_active(on) and RepresentativeScope.COMMUNICATIONS in self.scopes

    def negotiates_on(self, on: date) -> bool:
        """May this representative negotiate (and appeal) the case for the borrower on ``on``?"""
        return self.is_active(on) and RepresentativeScope.NEGOTIATION in self.scopes

"""Signatures on an agreement: the borrower signs first, then the lender countersigns.

Why this order: the lender's signature binds the lender to terms the borrower has already
committed to, so the lender never carries an offer it signed but the borrower did not.

Who may sign for whom (the lender's authority matrix):
- the borrower's signature: the borrower in the portal, or an agent recording the
  borrower's wet-ink or e-signature taken at a branch or by phone (recorded as on the
  borrower's behalf, with the agent as the person who recorded it);
- the lender's signature: a supervisor only. The agent who negotiated the plan does not
  countersign it for the lender (four eyes): agents have no lender signing authority.

Each signature names the exact document it signs (its sha256); a signature over any other
version of the document is refused, so what was signed is what is in force.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from enum import StrEnum

from forbear_shared.errors import Forbidden

from forbear_agreement.domain.offers import Refused


class Party(StrEnum):
    BORROWER = "borrower"
    LENDER = "lender"


class AgreementStatus(StrEnum):
    AWAITING_SIGNATURES = "awaiting_signatures"
    ACTIVE = "active"
    #: replaced by a later agreement after a renegotiation
    SUPERSEDED = "superseded"


#: the token roles allowed to put each party's signature on an agreement
SIGNING_ROLES: dict[Party, frozenset[str]] = {
    Party.BORROWER: frozenset({"borrower", "agent"}),
    Party.LENDER: frozenset({"supervisor"}),
}


class NoAuthority(Forbidden):
    """The caller's role may not sign for this party (HTTP 403)."""

    def __init__(self, party: Party, role: str) -> None:
        allowed = ", ".join(sorted(SIGNING_ROLES[party]))
        super().__init__(f"{party.value}_signing_authority_required",
                         f"role {role} may not sign for the {party.value}; allowed: {allowed}")


def check_authority(party: Party, role: str) -> None:
    if role not in SIGNING_ROLES[party]:
        raise NoAuthority(party, role)


def on_behalf_of_borrower(party: Party, role: str) -> bool:
    """An agent's borrower signature is a record of the borrower's own signature, made by staff."""
    return party is Party.BORROWER and role != "borrower"


def check_signature(
    party: Party,
    status: AgreementStatus,
    signed: Collection[Party],
    document_sha256: str,
    presented_sha256: str,
) -> None:
    """Refuse a signature that is repeated, out of order, or over another document."""
    if party in signed:
        raise Refused("already_signed", f"the {party.value} has already signed this agreement")
    if status is not AgreementStatus.AWAITING_SIGNATURES:
        raise Refused("agreement_not_awaiting_signatures", f"the agreement is {status.value}")
    if party is Party.LENDER and Party.BORROWER not in signed:
        raise Refused("borrower_signature_required", "the borrower signs first; the lender countersigns")
    if presented_sha256.strip().lower() != document_sha256:
        raise Refused(
            "document_hash_mismatch",
            "the signature names a different document: sign the current document's sha256",
        )


def status_after(signed: Collection[Party]) -> AgreementStatus:
    """Both signatures put the agreement in force."""
    if Party.BORROWER in signed and Party.LENDER in signed:
        return AgreementStatus.ACTIVE
    return AgreementStatus.AWAITING_SIGNATURES


def consent_record(
    *,
    signed_by: str,
    signed_role: str,
    on_behalf_of_borrower: bool,
    signed_on: dt.date,
    signed_at: dt.datetime,
    channel: str | None,
    otp_verified: bool,
    document_sha256: str,
) -> dict[str, str | bool]:
    """The evidence of one signature, JSON-ready, as embedded in the signed document.

    Who (the token subject, their role, whether an agent recorded the borrower's signature),
    when (the lender's business date and the UTC timestamp), how the borrower's one-time code
    reached them (``channel``) and that it was verified, and the sha256 of the exact document
    signed. Dates are ISO 8601; the timestamp is normalised to UTC so the record reads the same
    whatever the server's zone. ``channel`` is empty for a signature taken without a code
    (the lender's, or one recorded before codes existed).
    """
    at = signed_at.astimezone(dt.UTC) if signed_at.tzinfo is not None else signed_at.replace(tzinfo=dt.UTC)
    return {
        "signed_by": signed_by,
        "signed_role": signed_role,
        "on_behalf_of_borrower": on_behalf_of_borrower,
        "signed_on": signed_on.isoformat(),
        "signed_at": at.isoformat().replace("+00:00", "Z"),
        "channel": channel or "",
        "otp_verified": otp_verified,
        "document_sha256": document_sha256.lower(),
    }

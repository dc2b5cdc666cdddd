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
from collections.abc import Collection, Mapping
from enum import StrEnum
from typing import Any

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


#: the fields of a signature that the consent evidence states, in this order; any other field
#: the signature row carries (e.g. the channel and whether a one-time code was verified) is
#: stated too, under its own name
CONSENT_FIELDS = ("party", "signed_by", "signed_role", "on_behalf_of_borrower", "signed_on", "signed_at",
                  "document_sha256")
_NOT_EVIDENCE = frozenset({"agreement_id"})


def consent_record(signature: Mapping[str, Any], *, agreement_id: str) -> dict[str, Any]:
    """The borrower's consent as evidence embedded in the PDF the lender signs.

    Who signed (``signed_by``, ``signed_role``), whether on the borrower's behalf, when (the
    business date and the timestamp), by which channel and with the one-time code verified or
    not when the signature row records them, and the sha256 of the document consented to.
    Values are JSON text: dates and timestamps ISO 8601, booleans as booleans.
    """
    if signature.get("party") != Party.BORROWER.value:
        raise ValueError("the consent record is the borrower's signature")
    record: dict[str, Any] = {"type": "forbear.borrower_consent", "agreement_id": agreement_id}
    for key in [*CONSENT_FIELDS, *sorted(k for k in signature if k not in CONSENT_FIELDS)]:
        if key in _NOT_EVIDENCE or key not in signature:
            continue
        record[key] = _json_value(signature[key])
    return record


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):  # in UTC, so the record reads the same whatever the server's zone
        return (value.astimezone(dt.UTC) if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)

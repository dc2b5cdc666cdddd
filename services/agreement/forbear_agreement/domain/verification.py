"""Whether a signed agreement PDF proves what it claims, and why not when it does not.

A PDF is valid when all of these hold (each failure is one reason, named):
- it carries exactly the lender's signature, cryptographically intact and valid, covering the
  whole file (nothing appended after signing: a byte changed anywhere breaks the digest, an
  incremental update after the signature leaves it covering less than the file);
- the signer's certificate chains to the configured trust root (the lender's CA);
- the attached ``agreement.json`` is there and its SHA-256 is the stored document hash of the
  agreement it names (the content both parties signed), and the attached consent record names
  that same hash (the borrower consented to this content, not another).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SignatureFacts:
    """What a PDF validator found about one embedded signature."""

    field_name: str
    intact: bool
    valid: bool
    trusted: bool
    covers_whole_file: bool
    signer: str
    signed_at: str | None = None
    problems: Sequence[str] = ()


@dataclass(frozen=True)
class PdfFacts:
    """What is in the PDF: its signatures and its two attachments (None when absent)."""

    signatures: Sequence[SignatureFacts]
    agreement_json: bytes | None
    consent_json: bytes | None


@dataclass(frozen=True)
class Verdict:
    valid: bool
    reasons: list[str]
    agreement_id: str | None
    document_sha256: str | None
    stored_document_sha256: str | None
    consent_document_sha256: str | None
    signer: str | None
    signed_at: str | None
    consent: dict[str, Any] | None = field(default=None)
    #: False when no record was consulted (the CLI without ``--document-sha256``): the attached
    #: JSON was then checked against the consent record and the signature only
    checked_against_record: bool = True


def embedded_agreement(facts: PdfFacts) -> tuple[str | None, str | None]:
    """The agreement id the attached canonical JSON names and that JSON's sha256 (None, None if absent)."""
    if facts.agreement_json is None:
        return None, None
    digest = hashlib.sha256(facts.agreement_json).hexdigest()
    try:
        content = json.loads(facts.agreement_json.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, digest
    agreement_id = content.get("agreement_id") if isinstance(content, dict) else None
    return (agreement_id if isinstance(agreement_id, str) else None), digest


def verdict(facts: PdfFacts, *, stored_document_sha256: str | None, with_record: bool = True) -> Verdict:
    """Judge the facts against the stored hash of the agreement the PDF names (None: unknown agreement).

    ``with_record=False``: no record is at hand (offline), so the stored-hash check is skipped
    and the answer says so (``checked_against_record``)."""
    reasons: list[str] = []
    agreement_id, digest = embedded_agreement(facts)
    consent: dict[str, Any] | None = None
    consent_sha: str | None = None

    if not facts.signatures:
        reasons.append("no_signature: the PDF carries no signature")
    for sig in facts.signatures:
        if not (sig.intact and sig.valid):
            reasons.append(f"signature_broken: {sig.field_name} does not match the signed bytes (the file was altered)")
        if not sig.covers_whole_file:
            reasons.append(f"signature_not_covering_file: {sig.field_name} does not cover the whole file "
                           "(content was added after signing)")
        if not sig.trusted:
            reasons.append(f"certificate_not_trusted: the signer of {sig.field_name} ({sig.signer}) does not chain "
                           "to the configured trust root")
        reasons += [f"signature_problem: {sig.field_name}: {p}" for p in sig.problems]
    if len(facts.signatures) > 1:
        reasons.append(f"unexpected_signatures: {len(facts.signatures)} signatures where the lender's one is expected")

    if facts.agreement_json is None:
        reasons.append("agreement_json_missing: no agreement.json attached")
    elif agreement_id is None:
        reasons.append("agreement_json_unreadable: the attached agreement.json names no agreement")
    elif stored_document_sha256 is None and with_record:
        reasons.append(f"unknown_agreement: no agreement {agreement_id} is on record")
    elif stored_document_sha256 is not None and digest != stored_document_sha256:
        reasons.append(f"document_hash_mismatch: the attached agreement.json has sha256 {digest}, "
                       f"the agreement on record {stored_document_sha256}")

    if facts.consent_json is None:
        reasons.append("consent_missing: no borrower-consent.json attached")
    else:
        try:
            parsed = json.loads(facts.consent_json.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            parsed = None
        if not isinstance(parsed, dict):
            reasons.append("consent_unreadable: the attached borrower-consent.json is not a JSON object")
        else:
            consent = parsed
            found = parsed.get("document_sha256")
            consent_sha = found if isinstance(found, str) else None
            if digest is not None and consent_sha != digest:
                reasons.append(f"consent_hash_mismatch: the borrower consented to sha256 {consent_sha}, "
                               f"the attached agreement.json has {digest}")

    first = facts.signatures[0] if facts.signatures else None
    return Verdict(
        valid=not reasons, reasons=reasons, agreement_id=agreement_id, document_sha256=digest,
        stored_document_sha256=stored_document_sha256, consent_document_sha256=consent_sha,
        signer=first.signer if first else None, signed_at=first.signed_at if first else None, consent=consent,
        checked_against_record=with_record or stored_document_sha256 is not None,
    )

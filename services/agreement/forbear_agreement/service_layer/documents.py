"""Use cases of the signed agreement PDF: serving it, and verifying a PDF someone presents."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from forbear_shared.auth import Principal
from forbear_shared.errors import Conflict, ForbearError, Unprocessable
from forbear_shared.unit_of_work import UnitOfWork
from pydantic import BaseModel, Field

from forbear_agreement.adapters import pades
from forbear_agreement.adapters import repository as repo
from forbear_agreement.bootstrap import Agreement
from forbear_agreement.domain import verification
from forbear_agreement.domain.signing import AgreementStatus
from forbear_agreement.service_layer import views

PDF_MEDIA_TYPE = "application/pdf"


class UnsupportedMediaType(ForbearError):
    status_code = 415


class VerificationView(BaseModel):
    valid: bool
    reasons: list[str] = Field(description="why the PDF is not valid, one `reason_code: explanation` each; empty when valid")
    agreement_id: str | None = Field(description="the agreement the attached agreement.json names")
    document_sha256: str | None = Field(description="sha256 of the attached agreement.json")
    stored_document_sha256: str | None = Field(description="the document hash on record for that agreement")
    consent_document_sha256: str | None = Field(description="the document hash the borrower's consent record names")
    signer: str | None = Field(description="the signing certificate's subject")
    signed_at: str | None = Field(description="the signing time the signer reported (not a trusted timestamp)")
    consent: dict[str, Any] | None = Field(description="the attached borrower-consent.json")
    checked_against_record: bool = Field(description="whether the stored hash of the agreement was consulted")


@dataclass(frozen=True)
class SignedPdf:
    agreement_id: str
    pdf: bytes
    pdf_sha256: str
    document_sha256: str


@dataclass(frozen=True)
class VerifyPdf:
    pdf: bytes
    content_type: str | None


def signed_pdf(uow: UnitOfWork[Agreement], agreement_id: str, who: Principal) -> SignedPdf:
    """The signed PDF of an agreement the caller may see; 409 while it is not signed yet."""
    with uow:
        row = views.agreement_row(uow.conn, agreement_id, who)
        stored = repo.signed_document(uow.conn, agreement_id)
    if stored is None:
        if row["status"] == AgreementStatus.AWAITING_SIGNATURES.value:
            raise Conflict("agreement_not_signed", "the signed PDF exists once the lender has countersigned")
        raise Conflict("signed_pdf_unavailable", "the agreement was activated while no lender signing key was "
                       "configured: it has no signed PDF")
    return SignedPdf(agreement_id, bytes(stored["pdf"]), stored["pdf_sha256"], stored["document_sha256"])


def verify_pdf(cmd: VerifyPdf, uow: UnitOfWork[Agreement]) -> VerificationView:
    """Signature intact over the whole file, signer chained to the trust root, attached JSON = stored hash."""
    media = (cmd.content_type or "").split(";")[0].strip().lower()
    if media != PDF_MEDIA_TYPE:
        raise UnsupportedMediaType("unsupported_media_type", f"send the PDF as {PDF_MEDIA_TYPE}")
    if not cmd.pdf:
        raise Unprocessable("empty_body", "the request carries no PDF")
    try:
        facts = pades.inspect(cmd.pdf, uow.service.trust_roots)
    except pades.NotAPdf as exc:
        raise Unprocessable("not_a_pdf", str(exc)) from None
    agreement_id, _ = verification.embedded_agreement(facts)
    stored: str | None = None
    if agreement_id is not None:
        with uow:
            stored = repo.document_sha256_of(uow.conn, agreement_id)
    result = verification.verdict(facts, stored_document_sha256=stored)
    return VerificationView(**dataclasses.asdict(result))

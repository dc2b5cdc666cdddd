"""Use case of the agreement itself: signatures, and activation once both parties signed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from forbear_shared import metrics
from forbear_shared.auth import Principal
from forbear_shared.errors import NotFound
from forbear_shared.events.schemas.agreement import AgreementActivated, AgreementSigned
from forbear_shared.events.schemas.common import ScheduleDoc
from forbear_shared.unit_of_work import UnitOfWork

from forbear_agreement.adapters import repository as repo
from forbear_agreement.bootstrap import Agreement
from forbear_agreement.domain import signing
from forbear_agreement.domain.pdf import render_pdf
from forbear_agreement.domain.signing import AgreementStatus, Party
from forbear_agreement.service_layer import views


@dataclass(frozen=True)
class SignAgreement:
    agreement_id: str
    party: Party
    document_sha256: str
    who: Principal


def sign_agreement(cmd: SignAgreement, uow: UnitOfWork[Agreement]) -> views.AgreementView:
    """Record one party's signature over the current document; the second one activates the agreement."""
    who = cmd.who
    signing.check_authority(cmd.party, who.role)
    with uow:
        found = repo.lock_agreement(uow.conn, cmd.agreement_id)
        if found is None:
            raise NotFound("agreement", cmd.agreement_id)
        agreement, signatures = found
        views.ensure_visible(who, agreement["borrower_id"], "agreement", cmd.agreement_id)
        today = uow.business_date
        signed = {Party(s["party"]) for s in signatures}
        signing.check_signature(cmd.party, AgreementStatus(agreement["status"]), signed,
                                agreement["document_sha256"], cmd.document_sha256)
        activates = signing.status_after(signed | {cmd.party}) is AgreementStatus.ACTIVE

        case_id = agreement["case_id"]
        on_behalf = signing.on_behalf_of_borrower(cmd.party, who.role)
        signature = repo.insert_signature(
            uow.conn, agreement_id=cmd.agreement_id, party=cmd.party.value, signed_by=who.subject,
            signed_role=who.role, on_behalf_of_borrower=on_behalf, document_sha256=agreement["document_sha256"],
            signed_on=today, signed_at=uow.now(),
        )
        uow.emit(
            type="agreement.signed", case_id=case_id, business_date=today,
            payload=AgreementSigned(
                agreement_id=cmd.agreement_id, party=cmd.party.value, signed_by=who.subject,
                document_sha256=agreement["document_sha256"], signed_on=today,
            ),
        )
        repo.audit(
            uow.conn, case_id=case_id, subject_kind="agreement", subject_id=cmd.agreement_id,
            action=f"signed_{cmd.party.value}", actor=who.subject, actor_role=who.role, business_date=today,
            at=uow.now(), detail={"document_sha256": agreement["document_sha256"], "on_behalf_of_borrower": on_behalf},
        )
        metrics.AGREEMENTS.labels("signed").inc()
        if activates:
            borrower = next(s for s in signatures if s["party"] == Party.BORROWER.value)
            signed_pdf_sha256 = _sign_pdf(uow, agreement, borrower)
            agreement = _activate(uow, agreement, who, signed_pdf_sha256)
        return views.agreement_view(agreement, [*signatures, signature])


def _sign_pdf(uow: UnitOfWork[Agreement], agreement: repo.Row, borrower_signature: repo.Row) -> str | None:
    """The lender's PAdES signature over the PDF of the document with the borrower's consent
    attached, stored once; its sha256 (None when no signing key is configured)."""
    signer = uow.service.signer
    if signer is None:
        return None
    today = uow.business_date
    agreement_id = agreement["agreement_id"]
    consent = signing.consent_record(borrower_signature, agreement_id=agreement_id)
    unsigned = render_pdf(agreement["document_canonical"], agreement["document_sha256"], consent,
                          issued_on=today, font_path=uow.service.font_path)
    signed = signer.sign(unsigned, reason=f"Lender countersignature of agreement {agreement_id}, "
                         f"document SHA-256 {agreement['document_sha256']}")
    pdf_sha256 = hashlib.sha256(signed).hexdigest()
    repo.insert_signed_document(
        uow.conn, agreement_id=agreement_id, pdf=signed, pdf_sha256=pdf_sha256,
        unsigned_pdf_sha256=hashlib.sha256(unsigned).hexdigest(), document_sha256=agreement["document_sha256"],
        signer=signer.subject, signed_on=today, signed_at=uow.now(),
    )
    return pdf_sha256


def _activate(uow: UnitOfWork[Agreement], agreement: repo.Row, who: Principal,
              signed_pdf_sha256: str | None) -> repo.Row:
    """The agreement in force (and the one it renegotiated superseded); the agreement as it now is."""
    agreement_id = agreement["agreement_id"]
    today = uow.business_date
    active = repo.set_agreement_status(uow.conn, agreement_id, AgreementStatus.ACTIVE.value, activated_on=today)
    supersedes = agreement["supersedes_agreement_id"]
    if supersedes:
        repo.supersede(uow.conn, supersedes)
    uow.emit(
        type="agreement.activated", case_id=agreement["case_id"], business_date=today,
        payload=AgreementActivated(
            agreement_id=agreement_id,
            borrower_id=agreement["borrower_id"],
            loan_ids=list(agreement["loan_ids"]),
            option=agreement["option"],
            schedule=ScheduleDoc.model_validate(agreement["schedule"]),
            document_sha256=agreement["document_sha256"],
            activated_on=today,
            policy_version=agreement["policy_version"],
            supersedes_agreement_id=supersedes,
            signed_pdf_sha256=signed_pdf_sha256,
            signed_pdf_href=f"/agreements/{agreement_id}/document.pdf" if signed_pdf_sha256 else None,
        ),
    )
    repo.audit(
        uow.conn, case_id=agreement["case_id"], subject_kind="agreement", subject_id=agreement_id,
        action="activated", actor=who.subject, actor_role=who.role, business_date=today, at=uow.now(),
        detail={"supersedes_agreement_id": supersedes, "signed_pdf_sha256": signed_pdf_sha256},
    )
    metrics.AGREEMENTS.labels("activated").inc()
    return active

"""Use cases of the agreement itself: the borrower's one-time signing code, signatures, and
activation once both parties signed."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from forbear_shared import metrics
from forbear_shared.auth import Principal, visible
from forbear_shared.errors import NotFound
from forbear_shared.events.schemas.agreement import AgreementActivated, AgreementSigned, AgreementSigningCodeIssued
from forbear_shared.events.schemas.common import ScheduleDoc
from forbear_shared.ids import new_id
from forbear_shared.unit_of_work import UnitOfWork

from forbear_agreement.adapters import repository as repo
from forbear_agreement.adapters.code_sender import SigningCodeMessage
from forbear_agreement.bootstrap import Agreement
from forbear_agreement.domain import signing, signing_code
from forbear_agreement.domain.pdf import render_pdf
from forbear_agreement.domain.signing import AgreementStatus, Party
from forbear_agreement.domain.signing_code import Channel, CodeCheck, CodeStatus, StoredCode
from forbear_agreement.service_layer import views


@dataclass(frozen=True)
class IssueSigningCode:
    agreement_id: str
    channel: Channel
    who: Principal


def issue_signing_code(cmd: IssueSigningCode, uow: UnitOfWork[Agreement]) -> views.SigningCodeView:
    """Send the borrower a one-time code for the current document of an agreement awaiting the
    borrower's signature; only its keyed hash is kept, the code goes to the sender alone."""
    who = cmd.who
    signing.check_authority(Party.BORROWER, who.role)
    sender = uow.service.code_sender
    assert sender is not None and uow.service.code_secret, "bootstrap wires the signing-code sender and secret"
    rules = uow.policy.signing_code
    with uow:
        found = repo.lock_agreement(uow.conn, cmd.agreement_id)
        if found is None:
            raise NotFound("agreement", cmd.agreement_id)
        agreement, signatures = found
        visible(who, agreement, "agreement", cmd.agreement_id)
        document = agreement["document_sha256"]
        signing.check_signature(Party.BORROWER, AgreementStatus(agreement["status"]),
                                {Party(s["party"]) for s in signatures}, document, document)
        now = uow.now()   # the code's life is a security clock (see domain/signing_code.py)
        signing_code.check_may_issue(
            repo.code_issue_times(uow.conn, cmd.agreement_id, now - dt.timedelta(hours=24)), now, rules)
        code = signing_code.new_code()
        expires = signing_code.expires_at(now, rules)
        written = repo.insert_signing_code(
            uow.conn, code_id=new_id("otp"), agreement_id=cmd.agreement_id, document_sha256=document,
            code_hmac=signing_code.code_digest(uow.service.code_secret, agreement_id=cmd.agreement_id,
                                               document_sha256=document, code=code),
            channel=cmd.channel.value, requested_by=who.subject, requested_role=who.role,
            issued_on=uow.business_date, issued_at=now, expires_at=expires, max_attempts=rules.max_attempts,
        )
        case_id = agreement["case_id"]
        uow.emit(type="agreement.signing_code_issued", case_id=case_id, business_date=uow.business_date,
                 payload=AgreementSigningCodeIssued(agreement_id=cmd.agreement_id, channel=cmd.channel.value,
                                                    expires_at=expires))
        repo.audit(
            uow.conn, case_id=case_id, subject_kind="agreement", subject_id=cmd.agreement_id,
            action="signing_code_issued", actor=who.subject, actor_role=who.role, business_date=uow.business_date,
            at=now, detail={"channel": cmd.channel.value, "expires_at": expires.isoformat(),
                            "code_id": written["code_id"]},
        )
        # sent last: a failed delivery rolls the code back, and nothing after it but the commit can fail
        sender.send(SigningCodeMessage(agreement_id=cmd.agreement_id, borrower_id=agreement["borrower_id"],
                                       channel=cmd.channel.value, expires_at=expires, code=code,
                                       text=signing_code.message_text(code, rules), code_id=written["code_id"]))
        return views.signing_code_view(written, rules)


@dataclass(frozen=True)
class CodeRefused:
    """The borrower's signature refused for its one-time code; the attempt is recorded (committed)."""

    agreement_id: str
    check: CodeCheck

    @property
    def reason(self) -> str:
        assert self.check.refusal is not None
        return self.check.refusal.value

    @property
    def detail(self) -> str:
        return signing_code.refusal_detail(self.check)


@dataclass(frozen=True)
class SignAgreement:
    agreement_id: str
    party: Party
    document_sha256: str
    who: Principal
    #: the borrower's one-time code (required for the borrower, refused for the lender)
    one_time_code: str | None = None

    def __repr__(self) -> str:  # the code never reaches a log or a traceback
        return (f"SignAgreement(agreement_id={self.agreement_id!r}, party={self.party.value!r}, "
                f"code={'***' if self.one_time_code else None})")


def sign_agreement(cmd: SignAgreement, uow: UnitOfWork[Agreement]) -> views.AgreementView | CodeRefused:
    """Record one party's signature over the current document; the second one activates the agreement.

    The borrower's needs the newest one-time code sent for this document: a wrong one costs an
    attempt, which is kept even though the signature is refused (the answer is ``CodeRefused``,
    not an exception, so the transaction commits the count)."""
    who = cmd.who
    signing.check_authority(cmd.party, who.role)
    with uow:
        found = repo.lock_agreement(uow.conn, cmd.agreement_id)
        if found is None:
            raise NotFound("agreement", cmd.agreement_id)
        agreement, signatures = found
        visible(who, agreement, "agreement", cmd.agreement_id)
        today = uow.business_date
        signed = {Party(s["party"]) for s in signatures}
        signing.check_signature(cmd.party, AgreementStatus(agreement["status"]), signed,
                                agreement["document_sha256"], cmd.document_sha256)
        signing_code.check_presence(cmd.party is Party.BORROWER, cmd.one_time_code)
        activates = signing.status_after(signed | {cmd.party}) is AgreementStatus.ACTIVE

        case_id = agreement["case_id"]
        code: repo.Row | None = None
        if cmd.party is Party.BORROWER:
            assert cmd.one_time_code is not None
            code = repo.newest_signing_code(uow.conn, cmd.agreement_id)
            check = signing_code.verify(
                _stored(code), document_sha256=agreement["document_sha256"], now=uow.now(),
                presented_digest=signing_code.code_digest(
                    uow.service.code_secret, agreement_id=cmd.agreement_id,
                    document_sha256=agreement["document_sha256"], code=cmd.one_time_code),
            )
            if code is not None and check.changed:
                repo.update_signing_code(uow.conn, code["code_id"], attempts=check.attempts, status=check.status.value,
                                         used_at=uow.now() if check.accepted else None)
            if not check.accepted:
                repo.audit(
                    uow.conn, case_id=case_id, subject_kind="agreement", subject_id=cmd.agreement_id,
                    action="signing_code_refused", actor=who.subject, actor_role=who.role, business_date=today,
                    at=uow.now(), detail={"reason": check.refusal, "attempts_left": check.attempts_left,
                                          "code_id": code["code_id"] if code else None},
                )
                return CodeRefused(cmd.agreement_id, check)
        on_behalf = signing.on_behalf_of_borrower(cmd.party, who.role)
        signature = repo.insert_signature(
            uow.conn, agreement_id=cmd.agreement_id, party=cmd.party.value, signed_by=who.subject,
            signed_role=who.role, on_behalf_of_borrower=on_behalf, document_sha256=agreement["document_sha256"],
            signed_on=today, signed_at=uow.now(), channel=code["channel"] if code else None,
            otp_verified=code is not None, signing_code_id=code["code_id"] if code else None,
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
            at=uow.now(), detail={"document_sha256": agreement["document_sha256"], "on_behalf_of_borrower": on_behalf,
                                  "channel": signature.get("channel"), "otp_verified": signature.get("otp_verified")},
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


def _stored(row: repo.Row | None) -> StoredCode | None:
    if row is None:
        return None
    return StoredCode(code_id=row["code_id"], digest=row["code_hmac"], document_sha256=row["document_sha256"],
                      channel=Channel(row["channel"]), status=CodeStatus(row["status"]),
                      expires_at=row["expires_at"], attempts=row["attempts"], max_attempts=row["max_attempts"])


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

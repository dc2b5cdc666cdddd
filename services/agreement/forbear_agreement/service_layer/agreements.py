"""Use case of the agreement itself: signatures, and activation once both parties signed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import psycopg
from forbear_shared import metrics
from forbear_shared.auth import Principal
from forbear_shared.errors import Conflict, Forbidden, NotFound
from forbear_shared.events.schemas.agreement import AgreementActivated, AgreementSigned
from forbear_shared.events.schemas.common import ScheduleDoc
from forbear_shared.service import ServiceContext

from forbear_agreement.adapters import repository as repo
from forbear_agreement.domain import signing
from forbear_agreement.domain.offers import Refused
from forbear_agreement.domain.signing import AgreementStatus, Party
from forbear_agreement.service_layer import views
from forbear_agreement.service_layer.offers import TOPIC


@dataclass(frozen=True)
class SignAgreement:
    agreement_id: str
    party: Party
    document_sha256: str


def sign_agreement(ctx: ServiceContext, conn: psycopg.Connection, cmd: SignAgreement, who: Principal) -> views.AgreementView:
    """Record one party's signature over the current document; the second one activates the agreement."""
    try:
        signing.check_authority(cmd.party, who.role)
    except signing.NoAuthority as refused:
        raise Forbidden(refused.reason, refused.message) from None
    found = repo.get_agreement(conn, cmd.agreement_id)
    if found is None:
        raise NotFound("agreement", cmd.agreement_id)
    views.ensure_visible(who, found["borrower_id"], "agreement", cmd.agreement_id)
    agreement = repo.get_agreement(conn, cmd.agreement_id, for_update=True)
    assert agreement is not None
    today = ctx.business_date(conn)
    signed = {Party(s["party"]) for s in repo.signatures_of(conn, [cmd.agreement_id])[cmd.agreement_id]}
    try:
        signing.check_signature(
            cmd.party, AgreementStatus(agreement["status"]), signed, agreement["document_sha256"], cmd.document_sha256
        )
    except Refused as refused:
        raise Conflict(refused.reason, refused.message) from None
    case_id = agreement["case_id"]
    on_behalf = signing.on_behalf_of_borrower(cmd.party, who.role)
    repo.insert_signature(
        conn, agreement_id=cmd.agreement_id, party=cmd.party.value, signed_by=who.subject, signed_role=who.role,
        on_behalf_of_borrower=on_behalf, document_sha256=agreement["document_sha256"], signed_on=today,
        signed_at=ctx.now(),
    )
    ctx.emit(
        conn, type="agreement.signed", case_id=case_id, topic=TOPIC, business_date=today,
        payload=AgreementSigned(
            agreement_id=cmd.agreement_id, party=cmd.party.value, signed_by=who.subject,
            document_sha256=agreement["document_sha256"], signed_on=today,
        ),
    )
    repo.audit(
        conn, case_id=case_id, subject_kind="agreement", subject_id=cmd.agreement_id, action=f"signed_{cmd.party.value}",
        actor=who.subject, actor_role=who.role, business_date=today, at=ctx.now(),
        detail={"document_sha256": agreement["document_sha256"], "on_behalf_of_borrower": on_behalf},
    )
    metrics.AGREEMENTS.labels("signed").inc()
    if signing.status_after(signed | {cmd.party}) is AgreementStatus.ACTIVE:
        _activate(ctx, conn, agreement, today, who)
    return views.agreement(conn, cmd.agreement_id, who)


def _activate(ctx: ServiceContext, conn: psycopg.Connection, agreement: repo.Row, today: dt.date, who: Principal) -> None:
    agreement_id = agreement["agreement_id"]
    repo.set_agreement_status(conn, agreement_id, AgreementStatus.ACTIVE.value, activated_on=today)
    supersedes = agreement["supersedes_agreement_id"]
    if supersedes:
        repo.supersede(conn, supersedes)
    ctx.emit(
        conn, type="agreement.activated", case_id=agreement["case_id"], topic=TOPIC, business_date=today,
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
        ),
    )
    repo.audit(
        conn, case_id=agreement["case_id"], subject_kind="agreement", subject_id=agreement_id, action="activated",
        actor=who.subject, actor_role=who.role, business_date=today, at=ctx.now(),
        detail={"supersedes_agreement_id": supersedes},
    )
    metrics.AGREEMENTS.labels("activated").inc()

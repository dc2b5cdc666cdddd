"""HTTP door of the monitoring service: agreements under monitoring, payments, business date."""

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Response
from fastapi.encoders import jsonable_encoder as _jsonable
from forbear_shared import idempotency
from forbear_shared.auth import Principal
from forbear_shared.db import transaction
from forbear_shared.events.schemas.common import DecimalStr, PositiveMoney
from forbear_shared.http import Authz, IdempotencyKey, Limit, Offset, create_service_app, problems
from forbear_shared.topics import MONITORING_EVENTS
from pydantic import BaseModel, ConfigDict, Field

from forbear_monitoring import bootstrap
from forbear_monitoring.service_layer import cob, views
from forbear_monitoring.service_layer.payments import ManualPayment, record_manual_payment

Level = Literal["current", "reminder", "warning", "breach_notice", "legal_referral", "completed"]
Status = Literal["active", "completed", "referred", "superseded"]


class BusinessDateView(BaseModel):
    business_date: dt.date


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AdvanceRequest(Request):
    #: advance to this date (catching up over every skipped day); default: the next day
    #: any date: one not after the current business date, or more than a year ahead, is a 409
    to: dt.date | None = None


class AdvanceResult(BaseModel):
    previous: dt.date | None
    business_date: dt.date
    days_swept: int = 0
    instalments_missed: int = 0


class PaymentRequest(Request):
    reference: str = Field(min_length=1, max_length=64, description="unique per payment; a repeat is the same payment")
    amount: PositiveMoney
    received_on: dt.date | None = Field(
        default=None, description="default: the business date; not after it, not before the agreement's activation "
        "nor more than the policy's payments.max_backdated_days before it (a backdated entry is recorded as such)",
    )


class AllocationLineView(BaseModel):
    instalment: int
    component: str
    amount: DecimalStr


class PaymentView(BaseModel):
    reference: str
    agreement_id: str | None
    amount: DecimalStr
    received_on: dt.date
    source: str
    status: str
    entered_by: str | None = None
    #: the business date a manual entry was made on, and how many days before it the entry is dated
    entered_on: dt.date | None = None
    backdated_days: int | None = None
    allocation: list[AllocationLineView] = []
    unallocated: DecimalStr | None = None
    replayed: bool = False


def jsonable_encoder(value: Any) -> Any:
    """JSON-ready, with money as decimal strings (never floats)."""
    return _jsonable(value, custom_encoder={Decimal: str})


def _payment_view(result: dict[str, Any]) -> PaymentView:
    p = result["payment"]
    return PaymentView(
        reference=p["reference"], agreement_id=p["agreement_id"], amount=p["amount"], received_on=p["received_on"],
        source=p["source"], status=p["status"], entered_by=p["entered_by"], entered_on=p["entered_on"],
        backdated_days=p["backdated_days"], allocation=p["allocation"] or [], unallocated=p["unallocated"],
        replayed=result["replayed"],
    )


def create_app() -> FastAPI:
    m = bootstrap.monitoring()
    ctx = m.ctx
    authz = Authz.from_settings(ctx.settings)
    Anyone = Annotated[Principal, Depends(authz.roles("agent", "supervisor", "system", "borrower"))]
    Operator = Annotated[Principal, Depends(authz.roles("supervisor", "system"))]
    Staff = Annotated[Principal, Depends(authz.roles("agent", "supervisor"))]
    StaffOrBorrower = Annotated[Principal, Depends(authz.roles("agent", "supervisor", "borrower"))]
    PaymentEntry = Annotated[Principal, Depends(authz.roles("agent", "system"))]

    dates = APIRouter(tags=["business date"])
    monitored = APIRouter(tags=["agreements"])

    @dates.get("/business-date", response_model=BusinessDateView)
    def get_business_date(_who: Anyone) -> BusinessDateView:
        return BusinessDateView(business_date=cob.current_business_date(ctx))

    @dates.post("/business-date/advance", response_model=AdvanceResult, summary="Close of business",
                responses=problems(409))
    def advance(body: AdvanceRequest, _who: Operator) -> AdvanceResult:
        """Runs close of business for every day up to ``to``: missed instalments, escalation, referrals."""
        done = cob.advance_business_date(m, body.to)
        return AdvanceResult(previous=done.previous, business_date=done.current, days_swept=done.days_swept,
                             instalments_missed=done.missed)

    @monitored.get("/agreements", summary="Agreements under monitoring (filter by level: agreements at risk)")
    def list_agreements(
        _who: Staff,
        level: Level | None = None,
        status: Status | None = None,
        borrower_id: str | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Any:
        return jsonable_encoder(views.list_agreements(m, level=level, status=status, borrower_id=borrower_id,
                                                      limit=limit, offset=offset))

    @monitored.get("/agreements/{agreement_id}", responses=problems(404), summary="Schedule with paid/missed instalments, arrears, DPD, "
                   "level, notices, payments, referral")
    def get_agreement(agreement_id: str, who: StaffOrBorrower) -> Any:
        return jsonable_encoder(views.agreement_view(m, agreement_id, who))

    @monitored.post("/agreements/{agreement_id}/payments", response_model=PaymentView, status_code=201,
                    responses=problems(404, 409),
                    summary="Manual payment entry (a repeated reference is the same payment)")
    def post_payment(
        agreement_id: str,
        body: PaymentRequest,
        who: PaymentEntry,
        response: Response,
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        request_hash = hashlib.sha256(
            json.dumps({"agreement_id": agreement_id, **body.model_dump(mode="json")}, sort_keys=True).encode()
        ).hexdigest()
        scope = f"manual_payment:{who.role}:{who.subject}"
        if idempotency_key:
            with transaction(ctx.pool) as conn:
                replay = idempotency.lookup(conn, scope, idempotency_key, request_hash)
            if replay is not None:
                response.status_code = replay.status_code
                return replay.body
        result = record_manual_payment(m, ManualPayment(agreement_id, body.reference, body.amount, body.received_on,
                                                        entered_by=who.subject))
        view = _payment_view(result)
        if result["replayed"]:
            response.status_code = 200
        content = jsonable_encoder(view)
        if idempotency_key:
            # the payment committed on its own; its reference already makes a repeat harmless
            with transaction(ctx.pool) as conn:
                idempotency.remember(conn, scope, idempotency_key, request_hash, response.status_code or 201, content)
        return content

    @monitored.get("/referrals", tags=["referrals"], summary="Legal referrals, newest first")
    def list_referrals(
        _who: Staff,
        route: Literal["pre_litigation_mediation", "lawsuit", "asset_preservation"] | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Any:
        return jsonable_encoder(views.list_referrals(m, route=route, limit=limit, offset=offset))

    @monitored.get("/referrals/{referral_id}", tags=["referrals"], responses=problems(404), summary="A referral with its full dossier")
    def get_referral(referral_id: str, _who: Staff) -> Any:
        return jsonable_encoder(views.referral_view(m, referral_id))

    @monitored.get("/payments/unmatched", tags=["payments"], summary="Payments no active agreement covers (parked)")
    def list_unmatched(
        _who: Staff,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Any:
        return jsonable_encoder(views.unmatched_payments(m, limit, offset))

    return create_service_app(
        settings=ctx.settings,
        pool=ctx.pool,
        title="Forbear monitoring",
        description="Payments and allocation, business date and close of business, missed instalments, "
        "escalation ladder, legal referrals with their dossier.",
        routers=[dates, monitored],
        required_topics=[ctx.settings.topic(MONITORING_EVENTS.name)],
        authz=authz,
    )

"""HTTP door of the monitoring service: agreements under monitoring, payments, business date."""

import datetime as dt
import json
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, FastAPI
from fastapi.encoders import jsonable_encoder as _jsonable
from fastapi.responses import JSONResponse
from forbear_shared.events.schemas.common import Channel, DecimalStr, PositiveMoney
from forbear_shared.http import Authz, IdempotencyKey, Limit, Offset, Roles, create_service_app, idempotent, problems
from forbear_shared.topics import MONITORING_EVENTS
from pydantic import BaseModel, ConfigDict, Field

from forbear_monitoring import bootstrap
from forbear_monitoring.service_layer import cob, payments, promises, views

Level = Literal["current", "reminder", "warning", "breach_notice", "legal_referral", "completed"]
Status = Literal["active", "completed", "referred", "superseded"]


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


class PromiseRequest(Request):
    amount: PositiveMoney = Field(description="above zero, at most two decimal places, not more than the agreement owes")
    due_date: dt.date = Field(description="a business date from today to the policy's promises.max_days_ahead later")
    channel: Channel = Field(description="how the promise was made")


class PromiseView(BaseModel):
    promise_id: str
    agreement_id: str
    amount: DecimalStr
    currency: str
    made_on: dt.date
    due_date: dt.date
    channel: str
    recorded_by: str
    status: str
    paid: DecimalStr | None = None
    judged_on: dt.date | None = None


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


def _payment_view(recorded: payments.RecordedPayment) -> PaymentView:
    p = recorded.payment
    return PaymentView(
        reference=p["reference"], agreement_id=p["agreement_id"], amount=p["amount"], received_on=p["received_on"],
        source=p["source"], status=p["status"], entered_by=p["entered_by"], entered_on=p["entered_on"],
        backdated_days=p["backdated_days"], allocation=p["allocation"] or [], unallocated=p["unallocated"],
        replayed=recorded.replayed,
    )


def _same_payment_is_200(response: JSONResponse) -> JSONResponse:
    """A reference already recorded with the same details is the same payment: 200, not 201
    (also when that answer is replayed under its Idempotency-Key)."""
    if response.status_code == 201 and json.loads(bytes(response.body)).get("replayed") is True:
        response.status_code = 200
    return response


def create_app() -> FastAPI:
    svc = bootstrap.bootstrap()
    authz = Authz.from_settings(svc.ctx.settings)
    roles = Roles(authz)

    dates = APIRouter(tags=["business date"])
    monitored = APIRouter(tags=["agreements"])

    @dates.post("/business-date/advance", response_model=AdvanceResult, summary="Close of business",
                responses=problems(409))
    def advance(body: AdvanceRequest, who: roles.supervisor_or_system) -> AdvanceResult:
        """Runs close of business for every day up to ``to``: missed instalments, escalation, referrals."""
        done = cob.advance_business_date(cob.AdvanceBusinessDate(body.to, who), svc.unit_of_work())
        return AdvanceResult(previous=done.previous, business_date=done.current, days_swept=done.days_swept,
                             instalments_missed=done.missed)

    @monitored.get("/agreements", summary="Agreements under monitoring (filter by level: agreements at risk)")
    def list_agreements(
        _who: roles.staff,
        level: Level | None = None,
        status: Status | None = None,
        borrower_id: str | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Any:
        return jsonable_encoder(views.list_agreements(svc.unit_of_work(), level=level, status=status,
                                                      borrower_id=borrower_id, limit=limit, offset=offset))

    @monitored.get("/agreements/{agreement_id}", responses=problems(404), summary="Schedule with paid/missed instalments, arrears, DPD, "
                   "level, notices, payments, referral")
    def get_agreement(agreement_id: str, who: roles.staff_or_borrower) -> Any:
        return jsonable_encoder(views.agreement_view(svc.unit_of_work(), agreement_id, who))

    @monitored.post("/agreements/{agreement_id}/payments", response_model=PaymentView, status_code=201,
                    responses=problems(404, 409),
                    summary="Manual payment entry (a repeated reference is the same payment)")
    def post_payment(
        agreement_id: str,
        body: PaymentRequest,
        who: roles.agent_or_system,
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        cmd = payments.RecordManualPayment(agreement_id, body.reference, body.amount, body.received_on, who)
        return _same_payment_is_200(idempotent(
            svc, who, idempotency_key, ("manual_payment", agreement_id, body.model_dump(mode="json")), 201,
            lambda uow: _payment_view(payments.record_manual_payment(cmd, uow)),
        ))

    @monitored.post("/agreements/{agreement_id}/promises", response_model=PromiseView, status_code=201,
                    tags=["promises"], responses=problems(404, 409, 422),
                    summary="Record a promise to pay (the borrower for their own agreement, or an agent)")
    def post_promise(
        agreement_id: str,
        body: PromiseRequest,
        who: roles.borrower_or_agent,
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        cmd = promises.RecordPromise(agreement_id, body.amount, body.due_date, body.channel, who)
        return idempotent(svc, who, idempotency_key, ("POST", f"/agreements/{agreement_id}/promises",
                                                      body.model_dump(mode="json")), 201,
                          lambda uow: PromiseView(**promises.record_promise(cmd, uow)))

    @monitored.get("/agreements/{agreement_id}/promises", response_model=list[PromiseView], tags=["promises"],
                   responses=problems(404), summary="The agreement's promises to pay, oldest first")
    def list_promises(agreement_id: str, who: roles.staff_or_borrower) -> Any:
        return jsonable_encoder(views.promises_of(svc.unit_of_work(), agreement_id, who))

    @monitored.get("/referrals", tags=["referrals"], summary="Legal referrals, newest first")
    def list_referrals(
        _who: roles.staff,
        route: Literal["pre_litigation_mediation", "lawsuit", "asset_preservation"] | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Any:
        return jsonable_encoder(views.list_referrals(svc.unit_of_work(), route=route, limit=limit, offset=offset))

    @monitored.get("/referrals/{referral_id}", tags=["referrals"], responses=problems(404), summary="A referral with its full dossier")
    def get_referral(referral_id: str, _who: roles.staff) -> Any:
        return jsonable_encoder(views.referral_view(svc.unit_of_work(), referral_id))

    @monitored.get("/payments/unmatched", tags=["payments"], summary="Payments no active agreement covers (parked)")
    def list_unmatched(
        _who: roles.staff,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Any:
        return jsonable_encoder(views.unmatched_payments(svc.unit_of_work(), limit, offset))

    return create_service_app(
        settings=svc.ctx.settings,
        pool=svc.ctx.pool,
        title="Forbear monitoring",
        description="Payments and allocation, business date and close of business, missed instalments, "
        "escalation ladder, legal referrals with their dossier.",
        routers=[dates, monitored],
        required_topics=[svc.ctx.settings.topic(MONITORING_EVENTS.name)],
        authz=authz,
    )

"""HTTP door of the monitoring service."""


import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel

from forbear_monitoring import bootstrap
from forbear_monitoring.service_layer import cob
from forbear_shared.auth import Principal
from forbear_shared.http import Authz, create_service_app
from forbear_shared.topics import MONITORING_EVENTS


class BusinessDateView(BaseModel):
    business_date: dt.date


class AdvanceRequest(BaseModel):
    #: advance to this date (catching up over every skipped day); default: the next day
    to: dt.date | None = None


class AdvanceResult(BaseModel):
    previous: dt.date | None
    business_date: dt.date


def create_app() -> FastAPI:
    ctx = bootstrap.context()
    authz = Authz(ctx.settings.auth_secret)
    router = APIRouter(tags=["business date"])
    Anyone = Annotated[Principal, Depends(authz.roles("agent", "supervisor", "system", "borrower"))]
    Operator = Annotated[Principal, Depends(authz.roles("supervisor", "system"))]

    @router.get("/business-date", response_model=BusinessDateView)
    def get_business_date(_who: Anyone) -> BusinessDateView:
        return BusinessDateView(business_date=cob.current_business_date(ctx))

    @router.post("/business-date/advance", response_model=AdvanceResult, summary="Close of business")
    def advance(body: AdvanceRequest, _who: Operator) -> AdvanceResult:
        done = cob.advance_business_date(ctx, body.to)
        return AdvanceResult(previous=done.previous, business_date=done.current)

    return create_service_app(
        settings=ctx.settings,
        pool=ctx.pool,
        title="Forbear monitoring",
        description="Payments, business date and close of business, missed instalments, escalation.",
        routers=[router],
        required_topics=[ctx.settings.topic(MONITORING_EVENTS.name)],
    )

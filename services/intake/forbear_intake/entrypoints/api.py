"""HTTP door of the intake service."""


import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel

from forbear_intake import bootstrap
from forbear_shared import business_date
from forbear_shared.auth import Principal
from forbear_shared.db import transaction
from forbear_shared.http import Authz, create_service_app
from forbear_shared.topics import INTAKE_EVENTS


class BusinessDateView(BaseModel):
    business_date: dt.date


def create_app() -> FastAPI:
    ctx = bootstrap.context()
    authz = Authz(ctx.settings.auth_secret)
    router = APIRouter()
    Anyone = Annotated[Principal, Depends(authz.roles("agent", "supervisor", "system", "borrower"))]

    @router.get("/business-date", response_model=BusinessDateView, tags=["business date"],
                summary="The business date as this service last heard it from close of business")
    def get_business_date(_who: Anyone) -> BusinessDateView:
        with transaction(ctx.pool) as conn:
            return BusinessDateView(business_date=business_date.current(conn, ctx.settings.initial_business_date))

    return create_service_app(
        settings=ctx.settings,
        pool=ctx.pool,
        title="Forbear intake",
        description="The intake service of Forbear.",
        routers=[router],
        required_topics=[ctx.settings.topic(INTAKE_EVENTS.name)],
    )

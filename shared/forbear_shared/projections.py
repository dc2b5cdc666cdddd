"""Use cases every service shares for the projections it keeps of other services' state."""

from __future__ import annotations

from typing import Any

from forbear_shared import business_date
from forbear_shared.events import DecodedEvent
from forbear_shared.inbox import Handler
from forbear_shared.unit_of_work import UnitOfWork


def on_business_date_advanced(event: DecodedEvent, uow: UnitOfWork[Any]) -> None:
    """Move this service's business-date projection (``business_date.advanced``)."""
    with uow:
        business_date.apply_advanced(uow.conn, event, uow.service.name)


def business_date_handlers(service: str) -> dict[str, Handler]:
    return {"business_date.advanced": lambda conn, event: business_date.apply_advanced(conn, event, service)}

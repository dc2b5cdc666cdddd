"""Handlers every service shares for the projections it keeps of other services' state."""

from __future__ import annotations

from forbear_shared import business_date
from forbear_shared.inbox import Handler


def business_date_handlers(service: str) -> dict[str, Handler]:
    return {"business_date.advanced": lambda conn, event: business_date.apply_advanced(conn, event, service)}

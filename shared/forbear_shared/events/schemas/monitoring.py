"""Events produced by the monitoring service."""

from __future__ import annotations

import datetime as dt
from typing import Any

from forbear_shared.events.registry import registry
from forbear_shared.events.schemas.common import Payload

#: business-date events are not about one case; they use this fixed key
LENDER_KEY = "lender"


@registry.register("business_date.advanced", 1)
class BusinessDateAdvancedV1(Payload):
    """First version: only the new date."""

    date: dt.date


@registry.register("business_date.advanced", 2)
class BusinessDateAdvanced(Payload):
    """The previous date travels too, so a consumer can tell a catch-up over skipped days."""

    previous: dt.date | None
    current: dt.date
    timezone: str = "Asia/Shanghai"


@registry.upcaster("business_date.advanced", 1)
def _business_date_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    return {"previous": None, "current": payload["date"]}

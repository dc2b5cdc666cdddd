"""Close of business: the only way the lender's business date moves."""

from __future__ import annotations

import datetime as dt

from forbear_shared import business_date, outbox
from forbear_shared.db import transaction
from forbear_shared.errors import Conflict
from forbear_shared.events import new_event
from forbear_shared.events.schemas.monitoring import LENDER_KEY, BusinessDateAdvanced
from forbear_shared.service import ServiceContext
from forbear_shared.topics import MONITORING_EVENTS


def current_business_date(ctx: ServiceContext) -> dt.date:
    with transaction(ctx.pool) as conn:
        return business_date.current(conn, ctx.settings.initial_business_date)


def advance_business_date(ctx: ServiceContext, to: dt.date | None = None) -> BusinessDateAdvanced:
    """Advance to ``to`` (default: the next day) and announce it, in one transaction.

    A concurrent COB waits on the advisory lock and then sees the new date, so two COBs for
    the same day cannot both run.
    """
    with transaction(ctx.pool) as conn:
        conn.execute("select pg_advisory_xact_lock(hashtext('forbear-cob'))")
        previous = business_date.current(conn, ctx.settings.initial_business_date)
        target = to or previous + dt.timedelta(days=1)
        if target <= previous:
            raise Conflict(
                "business_date_not_after_current",
                f"the business date can only move forward: {target} is not after {previous}",
            )
        business_date.set_current(conn, target, ctx.name)
        payload = BusinessDateAdvanced(previous=previous, current=target)
        event = new_event(
            type="business_date.advanced",
            payload=payload,
            case_id=LENDER_KEY,
            business_date=target,
            producer=ctx.name,
            occurred_at=ctx.now(),
        )
        outbox.add(conn, event, ctx.settings.topic(MONITORING_EVENTS.name))
        return payload

"""The lender's business date: explicit state, moved only by close of business.

Monitoring owns it (COB advances it and announces ``business_date.advanced``); every other
service keeps a projection of the announced date. Business rules read this, never the
wall clock.
"""

from __future__ import annotations

import datetime as dt

import psycopg

from forbear_shared import metrics
from forbear_shared.events import DecodedEvent
from forbear_shared.events.schemas.monitoring import BusinessDateAdvanced


class BusinessDateError(Exception):
    pass


def current(conn: psycopg.Connection, initial: dt.date) -> dt.date:
    """The business date, initialised to ``initial`` on a new installation."""
    row = conn.execute("select current from business_date").fetchone()
    if row is None:
        conn.execute(
            "insert into business_date (current) values (%s) on conflict do nothing", (initial,)
        )
        row = conn.execute("select current from business_date").fetchone()
    assert row is not None
    value: dt.date = row["current"]
    return value


def set_current(conn: psycopg.Connection, to: dt.date, service: str) -> None:
    conn.execute(
        "insert into business_date (current) values (%s) "
        "on conflict (singleton) do update set current = excluded.current, updated_at = now()",
        (to,),
    )
    metrics.BUSINESS_DATE.labels(service).set(
        dt.datetime.combine(to, dt.time(), tzinfo=dt.UTC).timestamp()
    )


def apply_advanced(conn: psycopg.Connection, event: DecodedEvent, service: str) -> None:
    """Projection handler: take the announced date unless ours is already later."""
    payload = event.payload
    assert isinstance(payload, BusinessDateAdvanced)
    row = conn.execute("select current from business_date for update").fetchone()
    if row is None or row["current"] < payload.current:
        set_current(conn, payload.current, service)

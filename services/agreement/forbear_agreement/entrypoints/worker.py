"""Worker of the agreement service: outbox relay and consumers.

Consumes ``evaluation.events`` (``case.decided`` makes or withdraws offers) and
``monitoring.events`` (``business_date.advanced`` moves the business-date projection and
expires the offers past their validity, in the same transaction).
"""

from __future__ import annotations

import psycopg
from forbear_shared.events import DecodedEvent
from forbear_shared.projections import business_date_handlers
from forbear_shared.retention import purge_loop
from forbear_shared.service import ServiceContext
from forbear_shared.topics import EVALUATION_EVENTS, MONITORING_EVENTS
from forbear_shared.worker import WorkerSpec, run_worker

from forbear_agreement import bootstrap
from forbear_agreement.service_layer import offers


def consumer(pool_size: int = 10) -> tuple[ServiceContext, WorkerSpec]:
    """What this worker consumes and how it handles each event (also the dead-letter redrive's)."""
    ctx = bootstrap.context(pool_size)
    policy = bootstrap.policy(ctx)
    projection = business_date_handlers(ctx.name)

    def business_date_advanced(conn: psycopg.Connection, event: DecodedEvent) -> None:
        projection["business_date.advanced"](conn, event)
        offers.on_business_date_advanced(ctx, conn, event)

    def case_decided(conn: psycopg.Connection, event: DecodedEvent) -> None:
        offers.on_case_decided(ctx, policy, conn, event)

    return ctx, WorkerSpec(
        topics=[MONITORING_EVENTS.name, EVALUATION_EVENTS.name],
        handlers={
            **projection,
            "business_date.advanced": business_date_advanced,
            "case.decided": case_decided,
        },
        loops=[purge_loop(ctx.settings, ctx.pool)],
    )


def main() -> None:
    ctx, spec = consumer()
    run_worker(ctx.settings, ctx.pool, spec)


if __name__ == "__main__":
    main()

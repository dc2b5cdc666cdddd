"""Worker of the monitoring service: outbox relay, consumers, and the payment allocator."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

import psycopg
from forbear_shared.events import DecodedEvent
from forbear_shared.inbox import BatchHandler, Handler
from forbear_shared.projections import business_date_handlers
from forbear_shared.retention import purge_loop
from forbear_shared.service import ServiceContext
from forbear_shared.topics import AGREEMENT_EVENTS, CORE_PAYMENTS, EVALUATION_EVENTS, INTAKE_EVENTS
from forbear_shared.worker import WorkerSpec, periodic, run_worker

from forbear_monitoring import bootstrap
from forbear_monitoring.service_layer import agreements as use
from forbear_monitoring.service_layer.cob import refresh_active_gauge
from forbear_monitoring.service_layer.deps import Monitoring
from forbear_monitoring.service_layer.payments import allocator_loop, on_payment_received, on_payments_received


def handlers(m: Monitoring) -> dict[str, Handler]:
    def bind(fn: Callable[[Monitoring, psycopg.Connection, DecodedEvent], None]) -> Handler:
        return partial(fn, m)

    return {
        **business_date_handlers(m.ctx.name),
        "agreement.activated": bind(use.on_agreement_activated),
        "offer.made": bind(use.on_offer_made),
        "offer.expired": bind(use.on_offer_expired),
        "offer.accepted": bind(use.on_offer_accepted),
        "payment.received": bind(on_payment_received),
        "renegotiation.requested": bind(use.on_renegotiation_requested),
        "case.submitted": bind(use.on_case_submitted),
        "evidence.reviewed": bind(use.on_evidence_reviewed),
        "contact.recorded": bind(use.on_contact_recorded),
        "case.decided": bind(use.on_case_decided),
    }


def batch_handlers(m: Monitoring) -> dict[str, BatchHandler]:
    """Event types staged a run at a time (one statement per run of the polled batch)."""
    return {"payment.received": partial(on_payments_received, m)}


def gauge_loop(m: Monitoring, every: float = 5.0) -> Callable[[threading.Event], None]:
    return periodic(every, lambda: refresh_active_gauge(m), "active agreements gauge refresh")


def consumer(pool_size: int = 6) -> tuple[ServiceContext, WorkerSpec]:
    """What this worker consumes and how it handles each event (also the dead-letter redrive's)."""
    m = bootstrap.monitoring(pool_size=pool_size)
    return m.ctx, WorkerSpec(
        # not monitoring.events: monitoring owns the business date and needs none of its own events
        topics=[AGREEMENT_EVENTS.name, CORE_PAYMENTS.name, INTAKE_EVENTS.name, EVALUATION_EVENTS.name],
        handlers=handlers(m),
        batch_handlers=batch_handlers(m),
        loops=[allocator_loop(m), gauge_loop(m), purge_loop(m.ctx.settings, m.ctx.pool)],
        # a payment.applied per payment: publishing gets an interpreter of its own
        relay_process=True,
    )


def main() -> None:
    ctx, spec = consumer()
    run_worker(ctx.settings, ctx.pool, spec)


if __name__ == "__main__":
    main()

"""Worker of the monitoring service: which event goes to which use case, and its loops."""

from __future__ import annotations

import threading
from collections.abc import Callable

from forbear_shared.projections import on_business_date_advanced
from forbear_shared.retention import purge_loop
from forbear_shared.topics import AGREEMENT_EVENTS, CORE_PAYMENTS, EVALUATION_EVENTS, INTAKE_EVENTS
from forbear_shared.worker import WorkerSpec, periodic, run_worker

from forbear_monitoring import bootstrap
from forbear_monitoring.service_layer import agreements, payments
from forbear_monitoring.service_layer.cob import refresh_active_gauge

#: what the worker consumes: not monitoring.events (monitoring owns the business date and needs
#: none of its own events)
TOPICS = [AGREEMENT_EVENTS.name, CORE_PAYMENTS.name, INTAKE_EVENTS.name, EVALUATION_EVENTS.name]


def gauge_loop(svc: bootstrap.Monitoring, every: float = 5.0) -> Callable[[threading.Event], None]:
    return periodic(every, lambda: refresh_active_gauge(svc), "active agreements gauge refresh")


def spec_of(svc: bootstrap.Monitoring, *, loops: bool = True) -> WorkerSpec:
    """The use case of each event type (``loops``: with the allocator, gauge and purge loops)."""
    return WorkerSpec(
        service=svc,
        topics=TOPICS,
        handlers={
            "business_date.advanced": on_business_date_advanced,
            "agreement.activated": agreements.on_agreement_activated,
            "offer.made": agreements.on_offer_made,
            "offer.expired": agreements.on_offer_expired,
            "offer.accepted": agreements.on_offer_accepted,
            "payment.received": payments.on_payment_received,
            "renegotiation.requested": agreements.on_renegotiation_requested,
            "appeal.lodged": agreements.on_appeal_lodged,
            "appeal.decided": agreements.on_appeal_decided,
            "case.submitted": agreements.on_case_submitted,
            "evidence.reviewed": agreements.on_evidence_reviewed,
            "contact.recorded": agreements.on_contact_recorded,
            "case.decided": agreements.on_case_decided,
        },
        # staged a run at a time: one statement per table for a run of the polled batch
        batch_handlers={"payment.received": payments.on_payments_received},
        loops=[payments.allocator_loop(svc), gauge_loop(svc), purge_loop(svc.ctx.settings, svc.ctx.pool)]
        if loops else [],
        # a payment.applied per payment: publishing gets an interpreter of its own
        relay_process=True,
    )


def consumer(pool_size: int = 10) -> WorkerSpec:
    """What this worker consumes and which use case handles each event (also the redrive's)."""
    return spec_of(bootstrap.bootstrap(pool_size))


def main() -> None:
    spec = consumer()
    run_worker(spec)


if __name__ == "__main__":
    main()

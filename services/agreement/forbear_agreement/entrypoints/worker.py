"""Worker of the agreement service: outbox relay and consumers.

Consumes ``evaluation.events`` (``case.decided`` makes or withdraws offers) and
``monitoring.events`` (``business_date.advanced`` moves the business-date projection and
expires the offers past their validity, in the same transaction).
"""

from __future__ import annotations

from forbear_shared.retention import purge_loop
from forbear_shared.topics import EVALUATION_EVENTS, MONITORING_EVENTS
from forbear_shared.worker import WorkerSpec, run_worker

from forbear_agreement import bootstrap
from forbear_agreement.service_layer import offers


def consumer(pool_size: int = 10) -> WorkerSpec:
    """Which use case handles each event this worker consumes (also the dead-letter redrive's)."""
    svc = bootstrap.bootstrap(pool_size)
    return WorkerSpec(
        service=svc,
        topics=[MONITORING_EVENTS.name, EVALUATION_EVENTS.name],
        handlers={
            "business_date.advanced": offers.on_business_date_advanced,
            "case.decided": offers.on_case_decided,
        },
        loops=[purge_loop(svc.ctx.settings, svc.ctx.pool)],
    )


def main() -> None:
    spec = consumer()
    run_worker(spec)


if __name__ == "__main__":
    main()

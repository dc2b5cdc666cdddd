"""Worker of the intake service: outbox relay, consumers, the retention purge and the erasure
of closed cases' personal data."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from forbear_shared.retention import purge_loop
from forbear_shared.topics import AGREEMENT_EVENTS, CORE_LOANS, EVALUATION_EVENTS, MONITORING_EVENTS
from forbear_shared.worker import WorkerSpec, run_worker

from forbear_intake import bootstrap
from forbear_intake.bootstrap import Intake
from forbear_intake.service_layer import erasure, reactions
from forbear_intake.service_layer.commands import EraseCase

log = logging.getLogger(__name__)


def consumer(pool_size: int = 10) -> WorkerSpec:
    """What this worker consumes and which use case handles each event (also the dead-letter redrive's)."""
    svc = bootstrap.bootstrap(pool_size)
    return WorkerSpec(
        service=svc,
        topics=[CORE_LOANS.name, EVALUATION_EVENTS.name, AGREEMENT_EVENTS.name, MONITORING_EVENTS.name],
        handlers={
            "loan.snapshot": reactions.on_loan_snapshot,
            "case.decided": reactions.on_case_decided,
            "offer.made": reactions.on_offer_made,
            "offer.accepted": reactions.on_offer_accepted,
            "offer.countered": reactions.on_offer_countered,
            "offer.expired": reactions.on_offer_expired,
            "agreement.signed": reactions.on_agreement_signed,
            "agreement.activated": reactions.on_agreement_activated,
            "agreement.completed": reactions.on_agreement_completed,
            "agreement.referred": reactions.on_agreement_referred,
            # the shared projection of the business date, then the evidence deadline sweep
            "business_date.advanced": reactions.on_business_date_advanced,
        },
        loops=[purge_loop(svc.ctx.settings, svc.ctx.pool), erasure_loop(svc)],
    )


def erasure_loop(svc: Intake) -> Callable[[threading.Event], None]:
    """Erase what is due at start, then every ``retention_purge_interval_seconds``; each case
    in a transaction of its own."""
    every = svc.ctx.settings.retention_purge_interval_seconds

    def erase_due() -> int:
        due = erasure.due_for_erasure(svc.unit_of_work())
        return sum(1 for case_id in due
                   if erasure.erase_case(EraseCase(case_id, erasure.RETENTION), svc.unit_of_work()))

    def run(stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                while erase_due() and not stop.is_set():
                    pass
            except Exception:  # the next run tries again; an erasure must never stop the worker
                log.exception("personal data erasure failed")
            stop.wait(every)

    return run


def main() -> None:
    spec = consumer()
    run_worker(spec)


if __name__ == "__main__":
    main()

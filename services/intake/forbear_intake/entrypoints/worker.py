"""Worker of the intake service: outbox relay, consumers, the retention purge and the erasure
of closed cases' personal data."""

from __future__ import annotations

from forbear_shared.retention import purge_loop
from forbear_shared.service import ServiceContext
from forbear_shared.topics import AGREEMENT_EVENTS, CORE_LOANS, EVALUATION_EVENTS, MONITORING_EVENTS
from forbear_shared.worker import WorkerSpec, run_worker

from forbear_intake import bootstrap
from forbear_intake.service_layer.erasure import erasure_loop
from forbear_intake.service_layer.reactions import handlers


def consumer(pool_size: int = 10) -> tuple[ServiceContext, WorkerSpec]:
    """What this worker consumes and how it handles each event (also the dead-letter redrive's)."""
    ctx = bootstrap.context(pool_size)
    intake = bootstrap.intake(ctx)
    # reactions.handlers includes business_date.advanced: the shared projection plus the deadline sweep
    return ctx, WorkerSpec(
        topics=[CORE_LOANS.name, EVALUATION_EVENTS.name, AGREEMENT_EVENTS.name, MONITORING_EVENTS.name],
        handlers=handlers(intake),
        loops=[purge_loop(ctx.settings, ctx.pool), erasure_loop(intake)],
    )


def main() -> None:
    ctx, spec = consumer()
    run_worker(ctx.settings, ctx.pool, spec)


if __name__ == "__main__":
    main()

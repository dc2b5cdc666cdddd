"""Worker of the evaluation service: outbox relay and consumers."""

from __future__ import annotations

from forbear_evaluation import bootstrap
from forbear_shared.projections import business_date_handlers
from forbear_shared.topics import MONITORING_EVENTS
from forbear_shared.worker import WorkerSpec, run_worker


def main() -> None:
    ctx = bootstrap.context()
    spec = WorkerSpec(topics=[MONITORING_EVENTS.name], handlers={**business_date_handlers(ctx.name)})
    run_worker(ctx.settings, ctx.pool, spec)


if __name__ == "__main__":
    main()

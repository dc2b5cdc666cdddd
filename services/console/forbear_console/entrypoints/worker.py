"""Worker of the console: the operations read model's projector.

It consumes every topic with the project's one worker machinery (inbox, retries, dead letters
on ``console.dlq``, readiness, purge loop, metrics) and writes the console's own schema, which
the console's pages then read in SQL. Its one use case, ``projector.project(events, uow)``,
gets each batch in the inbox's transaction. It publishes nothing, so it runs no outbox relay.
"""

from __future__ import annotations

from forbear_shared.retention import purge_loop
from forbear_shared.worker import WorkerSpec, run_worker

from forbear_console.bootstrap import bootstrap
from forbear_console.readmodel import TOPICS
from forbear_console.readmodel.gauges import gauge_loop
from forbear_console.readmodel.projector import project


def consumer(pool_size: int = 4) -> WorkerSpec:
    """What this worker consumes and how (also the dead-letter redrive's)."""
    svc = bootstrap(pool_size)
    ctx = svc.ctx
    return WorkerSpec(topics=TOPICS, handlers={}, service=svc, projection=project, relay=False,
                           loops=[gauge_loop(ctx.pool), purge_loop(ctx.settings, ctx.pool)])


def main() -> None:
    run_worker(consumer())


if __name__ == "__main__":
    main()

"""Worker of the monitoring service: outbox relay and consumers."""

from __future__ import annotations

from forbear_monitoring import bootstrap
from forbear_shared.worker import WorkerSpec, run_worker


def main() -> None:
    ctx = bootstrap.context()
    run_worker(ctx.settings, ctx.pool, WorkerSpec(topics=[], handlers={}))


if __name__ == "__main__":
    main()

"""``python -m tests.load.bench policylab``: the policy lab's comparison, timed.

10,000 borrowers of the seeded demo portfolio (``BENCH_LAB_BORROWERS``) under the two example
policies (services/policy_lab/examples), ``BENCH_LAB_REPLICATIONS`` behaviour replications
(default 1: each borrower is evaluated once per policy and lives its agreement once), on the
local engine with one worker process per core. Prints the seconds, the core count and the
machine's load average while it ran (the cores are shared).
"""

from __future__ import annotations

import os
import resource
import time
from datetime import date
from pathlib import Path

from forbear_policy_lab import engine, report

EXAMPLES = Path(__file__).resolve().parents[2] / "services" / "policy_lab" / "examples"


def bench_policylab() -> None:
    borrowers = int(os.environ.get("BENCH_LAB_BORROWERS", "10000"))
    replications = int(os.environ.get("BENCH_LAB_REPLICATIONS", "1"))
    texts = tuple((EXAMPLES / f"{name}.toml").read_text(encoding="utf-8") for name in ("champion", "challenger"))
    settings = engine.Settings(texts, date(2026, 3, 10), seed=1, replications=replications)
    chunks = engine.chunks_of(settings, portfolio_seed=7, size=borrowers)
    cores = os.cpu_count() or 1
    print(f"\n6. policy lab ({borrowers:,} borrowers x 2 policies, {replications} replication(s), "
          f"{len(chunks)} chunks, local engine)")
    load_before = os.getloadavg()[0]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    tallies = engine.run_local(chunks)
    seconds = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    comparison = report.compare(tallies, ("champion", "challenger"), ("champion", "challenger"), replications, "CNY")
    agreements = [t.agreements for t in comparison.totals]
    print(f"  {'seconds (target: under 60)':<58} {seconds:.1f}")
    print(f"  {'cores used':<58} {cores} worker processes on {cores} cores")
    print(f"  {'borrower-policies per second':<58} {borrowers * 2 / seconds:,.0f}")
    print(f"  {'CPU seconds of the worker processes':<58} {cpu:.1f} "
          f"({cpu / seconds / cores:.0%} of {cores} cores; on idle cores: ~{cpu / cores:.0f} s)")
    print(f"  {'agreements lived (A, B)':<58} {agreements[0]:,}, {agreements[1]:,}")
    print(f"  {'load average, before and after':<58} {load_before:.1f}, {os.getloadavg()[0]:.1f}")

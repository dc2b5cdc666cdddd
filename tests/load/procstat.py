"""What the benchmarked processes used, from /proc: CPU seconds and peak memory (Linux)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import psycopg


def _with_children(pids: Iterable[int]) -> set[int]:
    """These processes and their live children (a worker's outbox relay)."""
    every = set(pids)
    for pid in list(every):
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                every.update(int(c) for c in f.read().split())
        except OSError:
            continue
    return every


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds these processes and their live children have used so far."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in _with_children(pids):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15]) / tick
    return total


def backend_pids(conn: psycopg.Connection[Any]) -> list[int]:
    """The Postgres server processes serving this connection's database (every service's pool)."""
    rows = conn.execute("select pid from pg_stat_activity where datname = current_database()").fetchall()
    return [int(r["pid"] if isinstance(r, dict) else r[0]) for r in rows]


def reset_peak_rss(pid: int) -> None:
    """Start measuring a process's peak resident memory from now (``VmHWM``)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process since it started or since ``reset_peak_rss``, MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")

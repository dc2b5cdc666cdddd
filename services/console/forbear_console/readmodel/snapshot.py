"""The KPIs precomputed: ``kpis.report`` aggregates the whole read model (about a second for a
book of 100,000 cases), so the console worker runs it when events were projected since the last
time (every few seconds at most, gauges.gauge_loop) and keeps the answer in ``rm_kpi_snapshot``
with the number of events it is of. ``/kpis`` reads that one row.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg

from forbear_console import kpis


def refresh(conn: psycopg.Connection) -> dict[str, Any] | None:
    """Compute and keep the KPIs if events were projected since; the KPIs, or None if unchanged."""
    row = conn.execute("select p.events_projected, s.events_projected as snapshot_of from rm_progress p"
                       " left join rm_kpi_snapshot s on true").fetchone()
    if row is None or row["events_projected"] == row["snapshot_of"]:
        return None
    computed = kpis.report(conn)
    conn.execute("insert into rm_kpi_snapshot (id, computed_at, events_projected, kpis)"
                 " values (1, clock_timestamp(), %s, %s)"
                 " on conflict (id) do update set computed_at = excluded.computed_at,"
                 " events_projected = excluded.events_projected, kpis = excluded.kpis",
                 (row["events_projected"], json.dumps(computed, default=str)))
    return computed


def latest(conn: psycopg.Connection) -> dict[str, Any]:
    """The KPIs of the snapshot, with when and of how many events they were computed; computed
    here when there is none yet (a fresh read model)."""
    row = conn.execute("select computed_at, events_projected, kpis from rm_kpi_snapshot").fetchone()
    if row is None:
        progress = conn.execute("select events_projected from rm_progress").fetchone()
        return {**kpis.report(conn), "computed": {"at": None, "of_events": progress["events_projected"]
                                                   if progress else 0}}
    return {**row["kpis"], "computed": {"at": row["computed_at"], "of_events": row["events_projected"]}}

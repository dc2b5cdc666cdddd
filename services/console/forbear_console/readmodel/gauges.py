"""The KPIs as Prometheus gauges, from the same ``kpis.compute`` as the console's page (its snapshot)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from forbear_shared import metrics
from forbear_shared.db import transaction
from forbear_shared.worker import periodic
from psycopg_pool import ConnectionPool

from forbear_console.readmodel import queries, snapshot
from forbear_console.readmodel.projector import NO_JIT

log = logging.getLogger(__name__)


def _set(gauge: Any, values: dict[str, Any]) -> None:
    gauge.clear()
    for label, value in values.items():
        if value is not None:
            gauge.labels(label).set(value)


def export(k: dict[str, Any]) -> None:
    _set(metrics.KPI_FUNNEL, {f["stage"]: f["count"] for f in k["funnel"]})
    _set(metrics.KPI_CASES_BY_HARDSHIP, k["cases_by_hardship"])
    _set(metrics.KPI_CASES_BY_CHANNEL, k["cases_by_channel"])
    _set(metrics.KPI_RATE, {"approval": k["approval_rate"], "offer_acceptance": k["offer_acceptance_rate"],
                            "cure": k["cure"]["rate"], "legal_referral": k["legal_referral_rate"],
                            "promise_kept": k.get("promise_kept_rate")})
    _set(metrics.KPI_ACTIVE_AGREEMENTS, k["active_by_level"])
    metrics.KPI_NEAR_BREACH.set(k.get("agreements_near_breach", 0))
    _set(metrics.KPI_BREACH_RATE, {str(r["month"]): r["rate"] for r in k["breach_by_months_on_plan"]})
    _set(metrics.KPI_ROLL_RATE, {r["from"]: r["rate"] for r in k["roll_rates"]})
    ttfd = k["time_to_first_decision"]
    _set(metrics.KPI_FIRST_DECISION_DAYS, {"0.5": ttfd["median_days"], "0.9": ttfd["p90_days"]})
    _set(metrics.KPI_REFERRALS, k["referrals_by_route"])
    _set(metrics.KPI_NOTICES, k["notices_by_level"])


def refresh(pool: ConnectionPool) -> None:
    """The KPIs again if events were projected since they were last computed: into the
    snapshot ``/kpis`` reads and into the gauges Grafana draws (one computation for both)."""
    with transaction(pool) as conn:
        conn.execute(NO_JIT)
        computed = snapshot.refresh(conn)
        behind = queries.lag(conn).get("behind_seconds")
    if computed is not None:
        export(computed)
    if behind is not None:
        metrics.READ_MODEL_BEHIND.set(behind)


def gauge_loop(pool: ConnectionPool, every: float = 5.0) -> Callable[[threading.Event], None]:
    return periodic(every, lambda: refresh(pool), "KPI snapshot and gauges refresh")

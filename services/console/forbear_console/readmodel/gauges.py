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


#: each KPI gauge by its name without ``forbear_kpi_`` (``forbear_kpi_by_policy``'s ``kpi`` label)
GAUGES: dict[str, Any] = {
    "funnel_cases": metrics.KPI_FUNNEL, "cases_by_hardship": metrics.KPI_CASES_BY_HARDSHIP,
    "cases_by_channel": metrics.KPI_CASES_BY_CHANNEL, "rate": metrics.KPI_RATE,
    "active_agreements": metrics.KPI_ACTIVE_AGREEMENTS, "agreements_near_breach": metrics.KPI_NEAR_BREACH,
    "breach_rate": metrics.KPI_BREACH_RATE, "roll_rate": metrics.KPI_ROLL_RATE,
    "time_to_first_decision_days": metrics.KPI_FIRST_DECISION_DAYS, "referrals": metrics.KPI_REFERRALS,
    "notices": metrics.KPI_NOTICES,
}


def series(k: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each KPI gauge's values by label (``GAUGES``' names), from one ``kpis.compute`` result."""
    ttfd = k["time_to_first_decision"]
    return {
        "funnel_cases": {f["stage"]: f["count"] for f in k["funnel"]},
        "cases_by_hardship": k["cases_by_hardship"],
        "cases_by_channel": k["cases_by_channel"],
        "rate": {"approval": k["approval_rate"], "offer_acceptance": k["offer_acceptance_rate"],
                 "cure": k["cure"]["rate"], "legal_referral": k["legal_referral_rate"],
                 "promise_kept": k.get("promise_kept_rate")},
        "active_agreements": k["active_by_level"],
        "agreements_near_breach": {"": k.get("agreements_near_breach", 0)},
        "breach_rate": {str(r["month"]): r["rate"] for r in k["breach_by_months_on_plan"]},
        "roll_rate": {r["from"]: r["rate"] for r in k["roll_rates"]},
        "time_to_first_decision_days": {"0.5": ttfd["median_days"], "0.9": ttfd["p90_days"]},
        "referrals": k["referrals_by_route"],
        "notices": k["notices_by_level"],
    }


def export(k: dict[str, Any]) -> None:
    """The whole book's KPIs into their gauges, and each policy version's into ``forbear_kpi_by_policy``."""
    for name, values in series(k).items():
        gauge = GAUGES[name]
        if name == "agreements_near_breach":  # no label
            gauge.set(values[""])
            continue
        gauge.clear()
        for label, value in values.items():
            if value is not None:
                gauge.labels(label).set(value)
    metrics.KPI_BY_POLICY.clear()
    for arm in k.get("policies", []):
        for name, values in series(arm["kpis"]).items():
            for label, value in values.items():
                if value is not None:
                    metrics.KPI_BY_POLICY.labels(arm["policy_version"], arm["arm"], name, label).set(value)


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

"""Wiring of the monitoring service, in one place."""

from __future__ import annotations

from pathlib import Path

from forbear_shared.policy_loader import load_policy
from forbear_shared.service import ServiceContext, bootstrap

from forbear_monitoring.service_layer.deps import Monitoring

SERVICE = "monitoring"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def context(pool_size: int = 10) -> ServiceContext:
    return bootstrap(SERVICE, MIGRATIONS, pool_size=pool_size)


def monitoring(pool_size: int = 10) -> Monitoring:
    """The service context plus the lender's policy, loaded once at start-up."""
    ctx = context(pool_size)
    return Monitoring(ctx, load_policy(ctx.settings.policy_file))

"""Wiring of the monitoring service, in one place: ``bootstrap(pool_size) -> Monitoring``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from forbear_shared import service
from forbear_shared.policy_loader import load_policy
from forbear_shared.unit_of_work import Service

from forbear_monitoring.adapters.repository import LedgerCache, ScheduleCache
from forbear_monitoring.domain.escalation import EscalationLadder

SERVICE = "monitoring"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


@dataclass
class Monitoring(Service):
    """What every monitoring use case may use: the context, the lender's policy, the escalation
    ladder it configures, and the caches of parsed schedules and of the allocator's ledgers."""

    schedules: ScheduleCache = field(default_factory=ScheduleCache)
    ledgers: LedgerCache = field(default_factory=LedgerCache)
    ladder: EscalationLadder = field(init=False)

    def __post_init__(self) -> None:
        self.ladder = EscalationLadder(self.policy)


def bootstrap(pool_size: int = 10) -> Monitoring:
    """Settings, migrations, pool and policy, built once at start-up."""
    ctx = service.bootstrap(SERVICE, MIGRATIONS, pool_size=pool_size)
    size = ctx.settings.ledger_cache_size
    return Monitoring(ctx, load_policy(ctx.settings.policy_file), schedules=ScheduleCache(size),
                      ledgers=LedgerCache(size))

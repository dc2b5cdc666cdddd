"""What every monitoring use case needs, built once at start-up (bootstrap) and passed in."""

from __future__ import annotations

from dataclasses import dataclass, field

from forbear_shared.domain.policy import Policy
from forbear_shared.service import ServiceContext

from forbear_monitoring.adapters.repository import LedgerCache, ScheduleCache
from forbear_monitoring.domain.escalation import EscalationLadder


@dataclass
class Monitoring:
    ctx: ServiceContext
    policy: Policy
    schedules: ScheduleCache = field(default_factory=ScheduleCache)
    ledgers: LedgerCache = field(default_factory=LedgerCache)

    def __post_init__(self) -> None:
        self.ladder = EscalationLadder(self.policy)

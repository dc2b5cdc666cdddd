"""Wiring of the evaluation service, in one place: settings, pool, policy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from forbear_shared import service
from forbear_shared.policy_loader import load_policy
from forbear_shared.unit_of_work import Service

SERVICE = "evaluation"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


@dataclass
class Evaluation(Service):
    """What evaluation's use cases use: its context and the lender's policy. The rules need no
    other collaborator: everything they decide on arrives in events and is kept in Postgres."""


def bootstrap(pool_size: int = 10) -> Evaluation:
    """The service with its migrations applied and the lender's policy loaded, once at start-up."""
    ctx = service.bootstrap(SERVICE, MIGRATIONS, pool_size=pool_size)
    return Evaluation(ctx, load_policy(ctx.settings.policy_file))

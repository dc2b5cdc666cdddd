"""Wiring of the agreement service, in one place: ``bootstrap(pool_size) -> Agreement``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from forbear_shared import service
from forbear_shared.policy_loader import load_policy
from forbear_shared.unit_of_work import Service

SERVICE = "agreement"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


@dataclass
class Agreement(Service):
    """What the agreement service's use cases use: settings and pool (``ctx``) and the lender's
    policy (offer validity, the document's governing terms). It has no collaborators of its own."""


def bootstrap(pool_size: int = 10) -> Agreement:
    """Settings, migrations and pool, then the policy, read once at start-up."""
    ctx = service.bootstrap(SERVICE, MIGRATIONS, pool_size=pool_size)
    return Agreement(ctx=ctx, policy=load_policy(ctx.settings.policy_file))

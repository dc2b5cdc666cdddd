"""Wiring of the agreement service, in one place."""

from __future__ import annotations

from pathlib import Path

from forbear_shared.domain.policy import Policy
from forbear_shared.policy_loader import load_policy
from forbear_shared.service import ServiceContext, bootstrap

SERVICE = "agreement"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def context(pool_size: int = 10) -> ServiceContext:
    return bootstrap(SERVICE, MIGRATIONS, pool_size=pool_size)


def policy(ctx: ServiceContext) -> Policy:
    """The lender's policy, read once at start-up (offer validity, the document's governing terms)."""
    return load_policy(ctx.settings.policy_file)

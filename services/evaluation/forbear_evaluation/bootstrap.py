"""Wiring of the evaluation service, in one place."""

from __future__ import annotations

from pathlib import Path

from forbear_shared.service import ServiceContext, bootstrap

SERVICE = "evaluation"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def context(pool_size: int = 10) -> ServiceContext:
    return bootstrap(SERVICE, MIGRATIONS, pool_size=pool_size)

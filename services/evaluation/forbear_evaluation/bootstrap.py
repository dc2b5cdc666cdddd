"""Wiring of the evaluation service, in one place: settings, pool, policy, use cases."""

from __future__ import annotations

from pathlib import Path

from forbear_shared.policy_loader import load_policy
from forbear_shared.service import ServiceContext, bootstrap

from forbear_evaluation.service_layer.decisions import Evaluation

SERVICE = "evaluation"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def context(pool_size: int = 10) -> ServiceContext:
    return bootstrap(SERVICE, MIGRATIONS, pool_size=pool_size)


def evaluation(ctx: ServiceContext) -> Evaluation:
    """The use cases with the lender's policy, loaded once at start-up."""
    return Evaluation(ctx, load_policy(ctx.settings.policy_file))

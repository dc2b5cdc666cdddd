"""Wiring of the intake service, in one place."""

from __future__ import annotations

import os
from pathlib import Path

from forbear_shared.policy_loader import load_policy
from forbear_shared.service import ServiceContext, bootstrap

from forbear_intake.adapters.evidence_store import evidence_store
from forbear_intake.service_layer.cases import Intake

SERVICE = "intake"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
#: a scanned multi-page PDF fits; anything larger is almost always a mistake (or an attack)
DEFAULT_EVIDENCE_MAX_BYTES = 10 * 1024 * 1024


def context(pool_size: int = 10) -> ServiceContext:
    return bootstrap(SERVICE, MIGRATIONS, pool_size=pool_size)


def intake(ctx: ServiceContext) -> Intake:
    """The use cases' collaborators: policy loaded once, evidence store, upload limit."""
    max_bytes = int(os.environ.get("FORBEAR_INTAKE_EVIDENCE_MAX_BYTES", DEFAULT_EVIDENCE_MAX_BYTES))
    return Intake(
        ctx=ctx,
        policy=load_policy(ctx.settings.policy_file),
        store=evidence_store(ctx.settings),
        max_evidence_bytes=max_bytes,
    )

"""Wiring of the intake service, in one place: ``bootstrap()`` builds it once at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from forbear_shared import service
from forbear_shared.policy_loader import load_policy
from forbear_shared.unit_of_work import Service

from forbear_intake.adapters.evidence_store import EvidenceStore, evidence_store

SERVICE = "intake"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
#: a scanned multi-page PDF fits; anything larger is almost always a mistake (or an attack)
DEFAULT_EVIDENCE_MAX_BYTES = 10 * 1024 * 1024


@dataclass
class Intake(Service):
    """What intake's use cases may use: the context and policy, the evidence store and the
    largest evidence file taken."""

    store: EvidenceStore
    max_evidence_bytes: int


def bootstrap(pool_size: int = 10) -> Intake:
    ctx = service.bootstrap(SERVICE, MIGRATIONS, pool_size=pool_size)
    return Intake(
        ctx=ctx,
        policy=load_policy(ctx.settings.policy_file),
        store=evidence_store(ctx.settings),
        max_evidence_bytes=int(os.environ.get("FORBEAR_INTAKE_EVIDENCE_MAX_BYTES", DEFAULT_EVIDENCE_MAX_BYTES)),
    )

"""Wiring of the console worker (the operations read model), in one place."""

from __future__ import annotations

from dataclasses import dataclass

from forbear_shared.policy_loader import load_policy
from forbear_shared.service import bootstrap as shared_bootstrap
from forbear_shared.unit_of_work import Service

from forbear_console.readmodel import MIGRATIONS, SERVICE


@dataclass
class ReadModel(Service):
    """The read model's use case (``readmodel.projector.project``) needs nothing beyond the
    shared parts: its schema's pool and the settings."""


def bootstrap(pool_size: int = 4) -> ReadModel:
    ctx = shared_bootstrap(SERVICE, MIGRATIONS, pool_size=pool_size)
    return ReadModel(ctx, load_policy(ctx.settings.policy_file))

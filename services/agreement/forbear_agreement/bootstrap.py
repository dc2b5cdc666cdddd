"""Wiring of the agreement service, in one place: ``bootstrap(pool_size) -> Agreement``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from forbear_shared import service
from forbear_shared.policy_loader import load_policy
from forbear_shared.unit_of_work import Service

from forbear_agreement.adapters import code_sender

SERVICE = "agreement"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


@dataclass
class Agreement(Service):
    """What the agreement service's use cases use: settings and pool (``ctx``), the lender's
    policy (offer validity, the document's governing terms, the signing code's limits), and the
    borrower's one-time signing codes: where they are sent and the key they are kept under."""

    code_sender: code_sender.CodeSender | None = None
    code_secret: bytes = field(default=b"", repr=False)


def bootstrap(pool_size: int = 10) -> Agreement:
    """Settings, migrations and pool, then the policy, read once at start-up."""
    ctx = service.bootstrap(SERVICE, MIGRATIONS, pool_size=pool_size)
    return Agreement(ctx=ctx, policy=load_policy(ctx.settings.policy_file),
                     code_sender=code_sender.from_settings(ctx.settings),
                     code_secret=ctx.settings.signing_code_secret.get_secret_value().encode())

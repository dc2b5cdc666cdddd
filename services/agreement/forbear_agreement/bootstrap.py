"""Wiring of the agreement service, in one place: ``bootstrap(pool_size) -> Agreement``."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import x509
from forbear_shared import service
from forbear_shared.policy_loader import load_policy
from forbear_shared.unit_of_work import Service

from forbear_agreement.adapters import code_sender, pades

SERVICE = "agreement"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"

log = logging.getLogger(__name__)


@dataclass
class Agreement(Service):
    """What the agreement service's use cases use: settings and pool (``ctx``), the lender's
    policy (offer validity, the document's governing terms, the signing code's limits), the
    borrower's one-time signing codes (where they are sent and the key they are kept under) and
    the signed PDF's collaborators: the lender's signer (None when no key is configured, outside
    production), the CJK font the PDF is rendered with, and the trust root a verified PDF's
    signer must chain to."""

    code_sender: code_sender.CodeSender | None = None
    code_secret: bytes = field(default=b"", repr=False)
    signer: pades.LenderSigner | None = None
    font_path: str = pades.DEFAULT_FONT
    trust_roots: list[x509.Certificate] = field(default_factory=list)


def bootstrap(pool_size: int = 10) -> Agreement:
    """Settings, migrations and pool, then the policy and the signing key, read once at start-up."""
    ctx = service.bootstrap(SERVICE, MIGRATIONS, pool_size=pool_size)
    settings = ctx.settings
    signer = pades.load_signer(settings)
    if signer is None:
        log.warning("no lender signing key configured (FORBEAR_AGREEMENT_SIGNING_PKCS12_FILE): agreements "
                    "activate without a signed PDF")
    return Agreement(
        ctx=ctx, policy=load_policy(settings.policy_file), signer=signer,
        code_sender=code_sender.from_settings(settings),
        code_secret=settings.signing_code_secret.get_secret_value().encode(),
        font_path=pades.font_path(settings) if signer is not None else pades.DEFAULT_FONT,
        trust_roots=pades.load_trust_roots(settings.agreement_signing_trust_root_file),
    )

"""A certificate authority of the test run's own, the lender's signer under it, and a stranger's."""

from __future__ import annotations

from pathlib import Path

import pytest
from forbear_agreement.adapters import pades
from forbear_agreement.keys import DemoKeys, ensure_demo_keys
from forbear_shared.settings import Settings
from pydantic import SecretStr


def signer_of(keys: DemoKeys) -> pades.LenderSigner:
    settings = Settings(service_name="agreement", database_url="postgresql://unused/unused", kafka_bootstrap="unused:1",
                        agreement_signing_pkcs12_file=str(keys.pkcs12),
                        agreement_signing_pkcs12_passphrase=SecretStr(keys.passphrase()),
                        agreement_signing_trust_root_file=str(keys.trust_root))
    signer = pades.load_signer(settings)
    assert signer is not None
    return signer


@pytest.fixture(scope="session")
def signing_keys(tmp_path_factory: pytest.TempPathFactory) -> DemoKeys:
    return ensure_demo_keys(Path(tmp_path_factory.mktemp("lender-ca")))


@pytest.fixture(scope="session")
def lender_signer(signing_keys: DemoKeys) -> pades.LenderSigner:
    return signer_of(signing_keys)


@pytest.fixture(scope="session")
def stranger_signer(tmp_path_factory: pytest.TempPathFactory) -> pades.LenderSigner:
    """A key and certificate from a CA the lender does not trust."""
    return signer_of(ensure_demo_keys(Path(tmp_path_factory.mktemp("stranger-ca"))))


@pytest.fixture(scope="session")
def trust_roots(signing_keys: DemoKeys) -> list:
    return pades.load_trust_roots(str(signing_keys.trust_root))

"""Settings fail fast, naming what is missing or unsafe."""

from __future__ import annotations

import pytest
from forbear_shared.settings import Settings
from pydantic import ValidationError


def test_missing_database_url_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORBEAR_DATABASE_URL", raising=False)
    monkeypatch.setenv("FORBEAR_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    with pytest.raises(ValidationError, match="database_url"):
        Settings()


def test_production_refuses_an_identity_provider_over_plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORBEAR_DATABASE_URL", "postgresql://svc:s3cret-pw@db/forbear")
    monkeypatch.setenv("FORBEAR_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("FORBEAR_ENVIRONMENT", "production")
    monkeypatch.delenv("FORBEAR_OIDC_ISSUER", raising=False)  # the local Keycloak's http:// default
    with pytest.raises(ValidationError, match="FORBEAR_OIDC_ISSUER must be an https:// issuer"):
        Settings()
    monkeypatch.setenv("FORBEAR_OIDC_ISSUER", "https://idp.lender.example/realms/operations")
    assert Settings().environment == "production"


@pytest.mark.parametrize("environment", ["production", "development"])
def test_a_test_issuer_is_refused_outside_test_mode(monkeypatch: pytest.MonkeyPatch, environment: str) -> None:
    monkeypatch.setenv("FORBEAR_DATABASE_URL", "postgresql://svc:s3cret-pw@db/forbear")
    monkeypatch.setenv("FORBEAR_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("FORBEAR_OIDC_ISSUER", "https://idp.lender.example/realms/operations")
    monkeypatch.setenv("FORBEAR_AUTH_TEST_JWKS_FILE", "/tmp/test-issuer.jwks.json")
    monkeypatch.setenv("FORBEAR_ENVIRONMENT", environment)
    with pytest.raises(ValidationError, match="trusted in test mode only"):
        Settings()
    monkeypatch.setenv("FORBEAR_ENVIRONMENT", "test")
    assert Settings().auth_test_jwks_file == "/tmp/test-issuer.jwks.json"


def test_production_refuses_the_local_database_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORBEAR_DATABASE_URL", "postgresql://forbear:forbear-local@db/forbear")
    monkeypatch.setenv("FORBEAR_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("FORBEAR_ENVIRONMENT", "production")
    monkeypatch.setenv("FORBEAR_OIDC_ISSUER", "https://idp.lender.example/realms/operations")
    with pytest.raises(ValidationError, match="placeholder password"):
        Settings()

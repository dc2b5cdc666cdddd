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


# -- evidence store ------------------------------------------------------------------------------


def s3_env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    monkeypatch.setenv("FORBEAR_DATABASE_URL", "postgresql://svc:s3cret-pw@db/forbear")
    monkeypatch.setenv("FORBEAR_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("FORBEAR_EVIDENCE_STORE", "s3")
    for name in ("BUCKET", "ENDPOINT_URL", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY"):
        monkeypatch.delenv(f"FORBEAR_EVIDENCE_S3_{name}", raising=False)
    for name, value in values.items():
        monkeypatch.setenv(f"FORBEAR_{name.upper()}", value)


def test_an_s3_evidence_store_needs_a_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    s3_env(monkeypatch)
    with pytest.raises(ValidationError, match="FORBEAR_EVIDENCE_S3_BUCKET is required"):
        Settings()
    monkeypatch.setenv("FORBEAR_EVIDENCE_S3_BUCKET", "lender-evidence")
    assert Settings().evidence_s3_bucket == "lender-evidence"


def test_s3_keys_go_together_or_not_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    s3_env(monkeypatch, evidence_s3_bucket="lender-evidence", evidence_s3_access_key_id="AKIDEXAMPLE")
    with pytest.raises(ValidationError, match="go together"):
        Settings()
    monkeypatch.delenv("FORBEAR_EVIDENCE_S3_ACCESS_KEY_ID")
    settings = Settings()  # neither: boto3's credential chain (instance role, web identity)
    assert settings.evidence_s3_access_key_id is None and settings.evidence_s3_secret_access_key is None


def test_production_refuses_a_plain_http_store_or_a_placeholder_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    s3_env(monkeypatch, environment="production", oidc_issuer="https://idp.lender.example/realms/operations",
           evidence_s3_bucket="lender-evidence", evidence_s3_endpoint_url="http://rgw.lender.internal:7480",
           evidence_s3_access_key_id="forbear", evidence_s3_secret_access_key="kq8vN2yLr0Tg5WzP")
    with pytest.raises(ValidationError, match="must be an https:// address in production"):
        Settings()
    monkeypatch.setenv("FORBEAR_EVIDENCE_S3_ENDPOINT_URL", "https://rgw.lender.internal")
    monkeypatch.setenv("FORBEAR_EVIDENCE_S3_SECRET_ACCESS_KEY", "changeme")
    with pytest.raises(ValidationError, match="FORBEAR_EVIDENCE_S3_SECRET_ACCESS_KEY is a placeholder"):
        Settings()
    monkeypatch.setenv("FORBEAR_EVIDENCE_S3_SECRET_ACCESS_KEY", "kq8vN2yLr0Tg5WzP")
    assert Settings().evidence_s3_endpoint_url == "https://rgw.lender.internal"


def test_the_s3_secret_is_in_no_repr_and_no_error(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "kq8vN2yLr0Tg5WzP-do-not-print"
    s3_env(monkeypatch, evidence_s3_bucket="lender-evidence", evidence_s3_access_key_id="forbear",
           evidence_s3_secret_access_key=secret)
    settings = Settings()
    assert settings.evidence_s3_secret_access_key is not None
    assert settings.evidence_s3_secret_access_key.get_secret_value() == secret
    assert secret not in repr(settings) and secret not in str(settings)
    monkeypatch.delenv("FORBEAR_EVIDENCE_S3_BUCKET")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert secret not in str(refused.value)


# -- the borrower's signing codes ------------------------------------------------------------------


def production_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORBEAR_DATABASE_URL", "postgresql://svc:s3cret-pw@db/forbear")
    monkeypatch.setenv("FORBEAR_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("FORBEAR_ENVIRONMENT", "production")
    monkeypatch.setenv("FORBEAR_OIDC_ISSUER", "https://idp.lender.example/realms/operations")


def signing_key_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """Production's other requirement of the agreement service: the lender's PAdES key."""
    monkeypatch.setenv("FORBEAR_AGREEMENT_SIGNING_PKCS12_FILE", "/run/secrets/lender.p12")
    monkeypatch.setenv("FORBEAR_AGREEMENT_SIGNING_TRUST_ROOT_FILE", "/run/secrets/trust-root.pem")


def test_production_agreement_refuses_a_placeholder_or_short_signing_code_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    production_env(monkeypatch)
    signing_key_configured(monkeypatch)
    with pytest.raises(ValidationError, match="FORBEAR_SIGNING_CODE_SECRET must be a real secret"):
        Settings(service_name="agreement")
    monkeypatch.setenv("FORBEAR_SIGNING_CODE_SECRET", "too-short-31-characters-xxxxxxx")
    with pytest.raises(ValidationError, match="FORBEAR_SIGNING_CODE_SECRET"):
        Settings(service_name="agreement")
    monkeypatch.setenv("FORBEAR_SIGNING_CODE_SECRET", "k" * 16 + "Q2v9xN4rT8wL0pZs")
    assert Settings(service_name="agreement").signing_code_secret.get_secret_value().startswith("k")
    # the other services keep no signing codes and need no such secret
    monkeypatch.delenv("FORBEAR_SIGNING_CODE_SECRET")
    assert Settings(service_name="intake").environment == "production"


def test_the_dev_mailbox_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    from forbear_agreement.adapters import code_sender

    production_env(monkeypatch)
    signing_key_configured(monkeypatch)
    monkeypatch.setenv("FORBEAR_SIGNING_CODE_SECRET", "k" * 16 + "Q2v9xN4rT8wL0pZs")
    with pytest.raises(ValueError, match="development sink"):
        code_sender.from_settings(Settings(service_name="agreement"))
    monkeypatch.setenv("FORBEAR_ENVIRONMENT", "development")
    assert isinstance(code_sender.from_settings(Settings(service_name="agreement")), code_sender.DevMailboxSender)

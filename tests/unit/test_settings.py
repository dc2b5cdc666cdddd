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


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORBEAR_DATABASE_URL", "postgresql://svc:s3cret-pw@db/forbear")
    monkeypatch.setenv("FORBEAR_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("FORBEAR_ENVIRONMENT", "production")
    monkeypatch.delenv("FORBEAR_AUTH_SECRET", raising=False)
    with pytest.raises(ValidationError, match="FORBEAR_AUTH_SECRET is a placeholder"):
        Settings()
    monkeypatch.setenv("FORBEAR_AUTH_SECRET", "a-real-secret-from-the-vault-8c1f2e9a")
    assert Settings().environment == "production"


def test_production_refuses_the_local_database_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORBEAR_DATABASE_URL", "postgresql://forbear:forbear-local@db/forbear")
    monkeypatch.setenv("FORBEAR_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("FORBEAR_ENVIRONMENT", "production")
    monkeypatch.setenv("FORBEAR_AUTH_SECRET", "a-real-secret-from-the-vault-8c1f2e9a")
    with pytest.raises(ValidationError, match="placeholder password"):
        Settings()

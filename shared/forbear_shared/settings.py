"""Typed settings from the environment (``FORBEAR_*``), one class for every service.

Start-up fails fast, naming the variable, when a value is missing or still a placeholder
outside development: a lender must never run production on a demo secret, a test issuer or an
identity provider reached over plain HTTP.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDERS = frozenset({"", "changeme", "change-me", "secret", "forbear-local", "forbear-development-secret-not-for-production"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FORBEAR_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    service_name: str = "forbear"
    database_url: str
    kafka_bootstrap: str
    topic_prefix: str = ""
    #: consumer group ids are ``{group_prefix}{service}``; tests give each run its own
    group_prefix: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    #: the worker process serves /metrics here
    metrics_port: int = 9000
    #: first business date of a new installation; afterwards only COB moves it
    initial_business_date: dt.date = dt.date(2026, 1, 5)
    #: the OpenID Connect issuer whose access tokens the APIs accept (Keycloak's realm locally);
    #: its discovery document names the JWKS
    oidc_issuer: str = "http://127.0.0.1:18080/realms/forbear"
    #: where this process fetches the issuer's discovery document when the issuer's own address
    #: is not reachable from here (e.g. inside a compose network); default ``<issuer>/.well-known/…``
    oidc_discovery_url: str | None = None
    #: the audience this service requires in ``aud``; default ``forbear-<service>``
    oidc_audience: str | None = None
    #: where the token carries its roles (a dotted path; Keycloak puts realm roles here)
    oidc_roles_claim: str = "realm_access.roles"
    oidc_borrower_claim: str = "borrower_id"
    #: the name recorded as the actor in audit rows (falls back to ``sub``)
    oidc_subject_claim: str = "preferred_username"
    #: tokens living longer than this (``exp - iat``) are refused, whoever signed them
    oidc_max_token_lifetime_seconds: int = Field(default=3600, ge=60, le=86400)
    oidc_jwks_cache_seconds: int = Field(default=300, ge=1)
    #: test mode only: a second issuer whose JWKS is read from a file (the test suite's)
    auth_test_issuer: str = "https://test-issuer.forbear.invalid"
    auth_test_jwks_file: str | None = None
    policy_file: str | None = None
    evidence_dir: str = "/var/tmp/forbear/evidence"
    log_level: str = "INFO"
    relay_batch_size: int = 2000
    relay_idle_seconds: float = 0.05
    consumer_max_retries: int = 3
    #: how long a request or a batch waits for a database connection before it is refused
    #: (an API answers 503 database_unavailable; a worker retries): short, so an outage is
    #: answered quickly instead of holding every caller
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    #: the server cancels a statement running longer than this (a stuck or overloaded database);
    #: above the longest statement of a close-of-business sweep
    db_statement_timeout_ms: int = Field(default=60000, ge=1000)

    @model_validator(mode="after")
    def _no_placeholders_outside_development(self) -> Settings:
        if self.auth_test_jwks_file and self.environment != "test":
            raise ValueError("FORBEAR_AUTH_TEST_JWKS_FILE names a test issuer; it is trusted in test mode only")
        if self.environment == "production":
            if not self.oidc_issuer.startswith("https://"):
                raise ValueError("FORBEAR_OIDC_ISSUER must be an https:// issuer in production")
            for word in PLACEHOLDERS - {""}:
                if f":{word}@" in self.database_url:
                    raise ValueError("FORBEAR_DATABASE_URL carries a placeholder password in production")
        return self

    @property
    def audience(self) -> str:
        return self.oidc_audience or f"forbear-{self.service_name}"

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def group(self, service: str) -> str:
        return f"{self.group_prefix}{service}"


def load_settings(service_name: str, **overrides: object) -> Settings:
    """Build settings for one service; a missing variable raises naming ``FORBEAR_<FIELD>``."""
    return Settings(service_name=service_name, **overrides)  # type: ignore[arg-type]

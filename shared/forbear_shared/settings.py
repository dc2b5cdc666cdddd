"""Typed settings from the environment (``FORBEAR_*``), one class for every service.

Start-up fails fast, naming the variable, when a value is missing or still a placeholder
outside development: a lender must never run production on the demo secret.
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
    auth_secret: str = Field(default="forbear-development-secret-not-for-production", min_length=8)
    policy_file: str | None = None
    evidence_dir: str = "/var/tmp/forbear/evidence"
    log_level: str = "INFO"
    relay_batch_size: int = 2000
    relay_idle_seconds: float = 0.05
    consumer_max_retries: int = 3

    @model_validator(mode="after")
    def _no_placeholders_outside_development(self) -> Settings:
        if self.environment == "production":
            if self.auth_secret in PLACEHOLDERS:
                raise ValueError("FORBEAR_AUTH_SECRET is a placeholder; set a real secret in production")
            for word in PLACEHOLDERS - {""}:
                if f":{word}@" in self.database_url:
                    raise ValueError("FORBEAR_DATABASE_URL carries a placeholder password in production")
        return self

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def group(self, service: str) -> str:
        return f"{self.group_prefix}{service}"


def load_settings(service_name: str, **overrides: object) -> Settings:
    """Build settings for one service; a missing variable raises naming ``FORBEAR_<FIELD>``."""
    return Settings(service_name=service_name, **overrides)  # type: ignore[arg-type]

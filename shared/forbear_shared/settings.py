"""Typed settings from the environment (``FORBEAR_*``), one class for every service.

Start-up fails fast, naming the variable, when a value is missing or still a placeholder
outside development: a lender must never run production on a demo secret, a test issuer or an
identity provider reached over plain HTTP.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from forbear_shared.topics import HOUR_MS, longest_redelivery_ms

#: how much longer than the longest redelivery the topics allow an inbox row is kept at least
#: (a consumer's clock and the broker's may differ; a redrive takes time)
INBOX_RETENTION_MARGIN_HOURS = 24

PLACEHOLDERS = frozenset({"", "changeme", "change-me", "secret", "forbear-local", "forbear-development-secret-not-for-production"})


class Settings(BaseSettings):
    #: a refused value is never echoed in the error (it may be a secret)
    model_config = SettingsConfigDict(env_prefix="FORBEAR_", extra="ignore", hide_input_in_errors=True)

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
    #: where evidence documents are kept: ``fs``, a directory (one machine: ``make run``), or ``s3``,
    #: an S3-compatible object store that every replica shares (AWS S3, Ceph RGW, versitygw, ...)
    evidence_store: Literal["fs", "s3"] = "fs"
    evidence_dir: str = "/var/tmp/forbear/evidence"
    #: the store's S3 API; unset means AWS S3 in ``evidence_s3_region``
    evidence_s3_endpoint_url: str | None = None
    evidence_s3_bucket: str | None = None
    evidence_s3_region: str = "us-east-1"
    #: object keys are ``<prefix><sha256[:2]>/<sha256>``, e.g. a prefix ``forbear/evidence/`` in a shared bucket
    evidence_s3_prefix: str = ""
    #: ``path`` for most S3-compatible servers; ``auto`` lets AWS S3 use virtual-hosted addresses
    evidence_s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"
    #: both or neither; neither means boto3's credential chain (AWS_* variables, web identity, instance role)
    evidence_s3_access_key_id: str | None = None
    evidence_s3_secret_access_key: SecretStr | None = None
    #: the agreement service's PAdES signature on the signed agreement PDF (README "Signed
    #: agreements"): a PKCS#12 file and its passphrase, or a PKCS#11 token in production; the
    #: trust root (PEM) a verified PDF's signer must chain to. No key: agreements activate without
    #: a signed PDF (refused in production)
    agreement_signing_backend: Literal["pkcs12", "pkcs11"] = "pkcs12"
    agreement_signing_pkcs12_file: str | None = None
    agreement_signing_pkcs12_passphrase: SecretStr | None = None
    agreement_signing_pkcs11_module: str | None = None
    agreement_signing_pkcs11_token_label: str | None = None
    agreement_signing_pkcs11_key_label: str | None = None
    agreement_signing_pkcs11_cert_label: str | None = None
    agreement_signing_pkcs11_pin: SecretStr | None = None
    agreement_signing_trust_root_file: str | None = None
    #: a TrueType font (or collection) with CJK glyphs; unset: Debian's fonts-wqy-microhei
    agreement_pdf_font_file: str | None = None
    #: the largest PDF POST /agreement-verifications reads
    agreement_verify_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    #: where the agreement service sends the borrower's one-time signing code (services/agreement
    #: README "Delivery"): ``dev_mailbox`` appends each message to ``dev_mailbox_file`` (a
    #: development and test sink that the demo and the tests read; refused in production);
    #: ``smtp`` hands it to the lender's mail relay; ``http`` posts it to the lender's SMS or
    #: notification gateway. The service holds borrower ids only: the relay or gateway resolves
    #: the borrower's phone or address
    signing_code_sender: Literal["dev_mailbox", "smtp", "http"] = "dev_mailbox"
    dev_mailbox_file: str = "/var/tmp/forbear/dev-mailbox.jsonl"
    signing_code_smtp_host: str | None = None
    signing_code_smtp_port: int = Field(default=587, ge=1, le=65535)
    #: ``starttls`` (submission, 587) or ``implicit`` TLS (465); ``none`` in development only
    signing_code_smtp_tls: Literal["starttls", "implicit", "none"] = "starttls"
    #: the CA (PEM) the relay's certificate must chain to; unset: the system's trust store
    signing_code_smtp_ca_file: str | None = None
    #: both or neither (a relay that takes the service's address without a login)
    signing_code_smtp_user: str | None = None
    signing_code_smtp_password: SecretStr | None = None
    signing_code_smtp_from: str | None = None
    #: the envelope and ``To`` address, naming the borrower by id: ``{borrower_id}`` is replaced,
    #: e.g. ``{borrower_id}@sms-relay.lender.example`` (the relay maps it to the phone or mailbox)
    signing_code_smtp_recipient_template: str | None = None
    signing_code_smtp_subject: str = "还款协议签署验证码 / Your repayment agreement signing code"
    #: connect, TLS, login and each command: the request waits for the relay inside its transaction
    signing_code_smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    #: the gateway's endpoint (one JSON POST per message, ``Idempotency-Key`` the code's id)
    signing_code_http_url: str | None = None
    signing_code_http_token: SecretStr | None = None
    #: the CA (PEM) the gateway's certificate must chain to; unset: the system's trust store
    signing_code_http_ca_file: str | None = None
    signing_code_http_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    #: the HMAC key the signing codes are kept under (only their keyed hash is stored); at least
    #: 32 characters and no placeholder in production
    signing_code_secret: SecretStr = SecretStr("forbear-development-secret-not-for-production")
    log_level: str = "INFO"
    relay_batch_size: int = 2000
    relay_idle_seconds: float = 0.05
    consumer_max_retries: int = 3
    #: published outbox rows are deleted this long after publication (unpublished ones never)
    outbox_retention_hours: int = Field(default=72, ge=1)
    #: an inbox row is deleted this long after it was written; it must outlive every redelivery
    #: the topics allow (their retention, a segment and a check: ``topics.longest_redelivery_ms``)
    #: plus ``INBOX_RETENTION_MARGIN_HOURS``, which the validator below enforces
    inbox_retention_hours: int = 30 * 24
    #: an Idempotency-Key replays its first answer for at least this long (the API's promise:
    #: 24 hours); the purge after that forgets it, and the key is new again
    idempotency_key_hours: int = Field(default=24, ge=24)
    #: how often each worker purges what outlived its retention, and how many rows per statement
    retention_purge_interval_seconds: float = Field(default=600.0, gt=0)
    retention_batch_rows: int = Field(default=5000, ge=1, le=100_000)
    #: the purge rests this long between two full batches, leaving the database to the relay
    #: and the consumers (``make bench``: a purge flat out halved the relay's rate on 2 cores)
    retention_batch_pause_seconds: float = Field(default=0.1, ge=0, le=10)
    #: monitoring keeps at most this many ledgers (and as many parsed schedules) in memory
    #: between payment batches, the least recently paid leaving first; about 15 KiB each for
    #: 20 instalments, so the default holds a worker near 1 GiB whatever the book's size
    ledger_cache_size: int = Field(default=40_000, ge=0, le=10_000_000)
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
            code_secret = self.signing_code_secret.get_secret_value()
            # only the agreement service keeps the borrower's signing codes (as keyed hashes)
            if self.service_name == "agreement" and (code_secret in PLACEHOLDERS or len(code_secret) < 32):
                raise ValueError("FORBEAR_SIGNING_CODE_SECRET must be a real secret of at least 32 characters in production")
        return self

    @model_validator(mode="after")
    def _agreements_are_signed_in_production(self) -> Settings:
        if self.environment == "production" and self.service_name == "agreement":
            configured = (self.agreement_signing_pkcs11_module if self.agreement_signing_backend == "pkcs11"
                          else self.agreement_signing_pkcs12_file)
            if not configured or not self.agreement_signing_trust_root_file:
                raise ValueError("the agreement service signs agreements in production: set the lender's key "
                                 "(FORBEAR_AGREEMENT_SIGNING_PKCS12_FILE or ..._BACKEND=pkcs11) and "
                                 "FORBEAR_AGREEMENT_SIGNING_TRUST_ROOT_FILE")
        return self

    @model_validator(mode="after")
    def _signing_code_sender_is_complete(self) -> Settings:
        """Only the agreement service sends codes; a relay or gateway is reached over TLS except
        in development, and production refuses a placeholder password or token."""
        if self.service_name != "agreement" or self.signing_code_sender == "dev_mailbox":
            return self
        production = self.environment == "production"
        if self.signing_code_sender == "smtp":
            for name in ("host", "from", "recipient_template"):
                if not getattr(self, f"signing_code_smtp_{name}"):
                    raise ValueError(f"FORBEAR_SIGNING_CODE_SMTP_{name.upper()} is required with "
                                     "FORBEAR_SIGNING_CODE_SENDER=smtp")
            if "{borrower_id}" not in (self.signing_code_smtp_recipient_template or ""):
                raise ValueError("FORBEAR_SIGNING_CODE_SMTP_RECIPIENT_TEMPLATE must name the borrower as {borrower_id}")
            if self.signing_code_smtp_tls == "none" and self.environment != "development":
                raise ValueError("FORBEAR_SIGNING_CODE_SMTP_TLS=none is for development only: use starttls or implicit")
            if (self.signing_code_smtp_user is None) != (self.signing_code_smtp_password is None):
                raise ValueError("FORBEAR_SIGNING_CODE_SMTP_USER and FORBEAR_SIGNING_CODE_SMTP_PASSWORD go together")
            password = self.signing_code_smtp_password
            if production and password is not None and password.get_secret_value() in PLACEHOLDERS:
                raise ValueError("FORBEAR_SIGNING_CODE_SMTP_PASSWORD is a placeholder in production")
        else:
            url = self.signing_code_http_url
            if not url:
                raise ValueError("FORBEAR_SIGNING_CODE_HTTP_URL is required with FORBEAR_SIGNING_CODE_SENDER=http")
            if not url.startswith("https://") and self.environment != "development":
                raise ValueError("FORBEAR_SIGNING_CODE_HTTP_URL must be an https:// address outside development")
            token = self.signing_code_http_token
            if production and (token is None or token.get_secret_value() in PLACEHOLDERS):
                raise ValueError("FORBEAR_SIGNING_CODE_HTTP_TOKEN must be set to the gateway's token in production")
        return self

    @model_validator(mode="after")
    def _evidence_store_is_complete(self) -> Settings:
        if self.evidence_store != "s3":
            return self
        if not self.evidence_s3_bucket:
            raise ValueError("FORBEAR_EVIDENCE_S3_BUCKET is required with FORBEAR_EVIDENCE_STORE=s3")
        if (self.evidence_s3_access_key_id is None) != (self.evidence_s3_secret_access_key is None):
            raise ValueError("FORBEAR_EVIDENCE_S3_ACCESS_KEY_ID and FORBEAR_EVIDENCE_S3_SECRET_ACCESS_KEY go together "
                             "(or neither, for the default credential chain)")
        if self.environment == "production":
            if self.evidence_s3_endpoint_url and not self.evidence_s3_endpoint_url.startswith("https://"):
                raise ValueError("FORBEAR_EVIDENCE_S3_ENDPOINT_URL must be an https:// address in production")
            secret = self.evidence_s3_secret_access_key
            if secret is not None and secret.get_secret_value() in PLACEHOLDERS:
                raise ValueError("FORBEAR_EVIDENCE_S3_SECRET_ACCESS_KEY is a placeholder in production")
        return self

    @model_validator(mode="after")
    def _inbox_outlives_redelivery(self) -> Settings:
        needed = self.minimum_inbox_retention_hours()
        if self.inbox_retention_hours < needed:
            raise ValueError(
                f"FORBEAR_INBOX_RETENTION_HOURS={self.inbox_retention_hours} is shorter than the topics' longest "
                f"redelivery plus {INBOX_RETENTION_MARGIN_HOURS} h: at least {needed} hours, or a redelivered "
                "event would be applied twice"
            )
        return self

    @staticmethod
    def minimum_inbox_retention_hours() -> int:
        """The shortest inbox retention that still recognises every event the topics may deliver again."""
        return -(-longest_redelivery_ms() // HOUR_MS) + INBOX_RETENTION_MARGIN_HOURS

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

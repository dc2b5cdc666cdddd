"""The console's settings: the shared ``Settings`` plus where the APIs are and its OIDC client.

The console's own state is its read model (schema ``console``, written by the console worker
from the topics, read by the console's pages); operators' sessions live in a sealed cookie
(``forbear_console.session``).
"""

from __future__ import annotations

from forbear_shared.http import MULTIPART_OVERHEAD_BYTES
from forbear_shared.settings import PLACEHOLDERS, Settings
from pydantic import model_validator

#: the demo realm's secret for the console client (deploy/keycloak/forbear-realm.json)
DEVELOPMENT_CLIENT_SECRET = "forbear-console-development-secret"


class ConsoleSettings(Settings):
    database_url: str = ""
    kafka_bootstrap: str = ""
    http_port: int = 8100
    #: the services listen on ``devstack.API_PORTS`` plus this (the tests use 10000)
    port_offset: int = 0
    #: the console's client at the identity provider (authorization code + PKCE)
    console_client_id: str = "forbear-console"
    console_client_secret: str = DEVELOPMENT_CLIENT_SECRET
    #: where browsers reach the console (the redirect URI registered with the provider is
    #: ``<public_url>/auth/callback``); default ``http://127.0.0.1:<http_port>``
    console_public_url: str | None = None
    #: the key sealing session cookies (a Fernet key: 32 url-safe base64 bytes); without one a
    #: development console makes a key at start (sessions end with the process)
    console_session_key: str | None = None
    #: the longest an operator's console session lives, refreshes included
    console_session_seconds: int = 36000
    #: the largest body the proxy passes on: intake's evidence limit (10 MiB by default) and the
    #: multipart around it; intake then applies its own limit per route
    proxy_max_body_bytes: int = 10 * 1024 * 1024 + MULTIPART_OVERHEAD_BYTES

    @model_validator(mode="after")
    def _real_client_in_production(self) -> ConsoleSettings:
        if self.environment == "production":
            if self.console_client_secret in PLACEHOLDERS | {DEVELOPMENT_CLIENT_SECRET}:
                raise ValueError("FORBEAR_CONSOLE_CLIENT_SECRET is the demo realm's; set the console client's secret")
            if not self.console_session_key:
                raise ValueError("FORBEAR_CONSOLE_SESSION_KEY is required in production (shared by every replica)")
            if not (self.console_public_url or "").startswith("https://"):
                raise ValueError("FORBEAR_CONSOLE_PUBLIC_URL must be the console's https:// address in production")
        return self

    @property
    def public_url(self) -> str:
        return (self.console_public_url or f"http://127.0.0.1:{self.http_port}").rstrip("/")


def load_console_settings() -> ConsoleSettings:
    return ConsoleSettings(service_name="console")

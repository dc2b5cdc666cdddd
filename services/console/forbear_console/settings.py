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


def refuse_demo_door(name: str, secret: str, demo_secret: str, session_key: str | None, public_url: str | None) -> None:
    """A browser door in production: its own client secret, a session key every replica shares,
    and an https:// address."""
    env = f"FORBEAR_{name.upper()}"
    if secret in PLACEHOLDERS | {demo_secret}:
        raise ValueError(f"{env}_CLIENT_SECRET is the demo realm's; set the {name} client's secret")
    if not session_key:
        raise ValueError(f"{env}_SESSION_KEY is required in production (shared by every replica)")
    if not (public_url or "").startswith("https://"):
        raise ValueError(f"{env}_PUBLIC_URL must be the {name}'s https:// address in production")


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
            refuse_demo_door("console", self.console_client_secret, DEVELOPMENT_CLIENT_SECRET,
                             self.console_session_key, self.console_public_url)
        return self

    @property
    def public_url(self) -> str:
        return (self.console_public_url or f"http://127.0.0.1:{self.http_port}").rstrip("/")


def load_console_settings() -> ConsoleSettings:
    return ConsoleSettings(service_name="console")


#: the demo realm's secret for the portal client (deploy/keycloak/forbear-realm.json)
PORTAL_DEVELOPMENT_CLIENT_SECRET = "forbear-portal-development-secret"


class PortalSettings(Settings):
    """The borrowers' portal: its own client at the identity provider (``forbear-portal``), its
    own session key and address; the services it proxies to are the console's."""

    database_url: str = ""
    kafka_bootstrap: str = ""
    http_port: int = 8105
    #: the services listen on ``devstack.API_PORTS`` plus this (the tests use 10000)
    port_offset: int = 0
    portal_client_id: str = "forbear-portal"
    portal_client_secret: str = PORTAL_DEVELOPMENT_CLIENT_SECRET
    #: where borrowers' browsers reach the portal (redirect URI ``<public_url>/auth/callback``);
    #: default ``http://127.0.0.1:<http_port>``
    portal_public_url: str | None = None
    #: the Fernet key sealing the portal's session cookies (as the console's)
    portal_session_key: str | None = None
    #: the longest a borrower's session lives, refreshes included
    portal_session_seconds: int = 3600
    proxy_max_body_bytes: int = 10 * 1024 * 1024 + MULTIPART_OVERHEAD_BYTES

    @model_validator(mode="after")
    def _real_client_in_production(self) -> PortalSettings:
        if self.environment == "production":
            refuse_demo_door("portal", self.portal_client_secret, PORTAL_DEVELOPMENT_CLIENT_SECRET,
                             self.portal_session_key, self.portal_public_url)
        return self

    @property
    def public_url(self) -> str:
        return (self.portal_public_url or f"http://127.0.0.1:{self.http_port}").rstrip("/")


def load_portal_settings() -> PortalSettings:
    return PortalSettings(service_name="portal")

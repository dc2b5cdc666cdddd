"""The console's and the portal's settings: the shared ``Settings`` plus where the APIs are and each door's OIDC client.

The console's own state is its read model (schema ``console``, written by the console worker
from the topics, read by the console's pages); operators' sessions live in a sealed cookie
(``forbear_console.session``).
"""

from __future__ import annotations

from dataclasses import dataclass

from forbear_shared.http import MULTIPART_OVERHEAD_BYTES
from forbear_shared.settings import PLACEHOLDERS, Settings
from pydantic import Field, model_validator

#: the demo realm's secret for the console client (deploy/keycloak/forbear-realm.json)
DEVELOPMENT_CLIENT_SECRET = "forbear-console-development-secret"


@dataclass(frozen=True)
class DoorClient:
    """A browser door's client at the identity provider and its own address."""

    name: str
    secret: str
    demo_secret: str
    session_key: str | None
    public_url: str | None


class DoorSettings(Settings):
    """What the console's and the portal's settings share: no database or broker of their own
    needed, the services' ports, the proxy's body limit, and in production a client secret of
    their own, a session key every replica shares and an https:// address."""

    database_url: str = ""
    kafka_bootstrap: str = ""
    #: the services listen on ``devstack.API_PORTS`` plus this (the tests use 10000)
    port_offset: int = 0
    #: the host of each service's API, ``{service}`` standing for its name (intake, evaluation,
    #: agreement, monitoring): 127.0.0.1 on one machine, ``{service}-api`` in docker-compose and
    #: Kubernetes (FORBEAR_SERVICE_HOST)
    service_host: str = Field(default="127.0.0.1", pattern=r"^[A-Za-z0-9.\-]*(\{service\}[A-Za-z0-9.\-]*)?$")
    #: the largest body the proxy passes on: intake's evidence limit (10 MiB by default) and the
    #: multipart around it; intake then applies its own limit per route
    proxy_max_body_bytes: int = 10 * 1024 * 1024 + MULTIPART_OVERHEAD_BYTES

    def door_client(self) -> DoorClient:
        raise NotImplementedError

    @model_validator(mode="after")
    def _real_client_in_production(self) -> DoorSettings:
        if self.environment == "production":
            door = self.door_client()
            env = f"FORBEAR_{door.name.upper()}"
            if door.secret in PLACEHOLDERS | {door.demo_secret}:
                raise ValueError(f"{env}_CLIENT_SECRET is the demo realm's; set the {door.name} client's secret")
            if not door.session_key:
                raise ValueError(f"{env}_SESSION_KEY is required in production (shared by every replica)")
            if not (door.public_url or "").startswith("https://"):
                raise ValueError(f"{env}_PUBLIC_URL must be the {door.name}'s https:// address in production")
        return self

    @property
    def public_url(self) -> str:
        return (self.door_client().public_url or f"http://127.0.0.1:{self.http_port}").rstrip("/")


class ConsoleSettings(DoorSettings):
    http_port: int = 8100
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

    def door_client(self) -> DoorClient:
        return DoorClient("console", self.console_client_secret, DEVELOPMENT_CLIENT_SECRET,
                          self.console_session_key, self.console_public_url)


def load_console_settings() -> ConsoleSettings:
    return ConsoleSettings(service_name="console")


#: the demo realm's secret for the portal client (deploy/keycloak/forbear-realm.json)
PORTAL_DEVELOPMENT_CLIENT_SECRET = "forbear-portal-development-secret"


class PortalSettings(DoorSettings):
    """The borrowers' portal: its own client at the identity provider (``forbear-portal``), its
    own session key and address; the services it proxies to are the console's."""

    http_port: int = 8105
    portal_client_id: str = "forbear-portal"
    portal_client_secret: str = PORTAL_DEVELOPMENT_CLIENT_SECRET
    #: where borrowers' browsers reach the portal (redirect URI ``<public_url>/auth/callback``);
    #: default ``http://127.0.0.1:<http_port>``
    portal_public_url: str | None = None
    #: the Fernet key sealing the portal's session cookies (as the console's)
    portal_session_key: str | None = None
    #: the longest a borrower's session lives, refreshes included
    portal_session_seconds: int = 3600

    def door_client(self) -> DoorClient:
        return DoorClient("portal", self.portal_client_secret, PORTAL_DEVELOPMENT_CLIENT_SECRET,
                          self.portal_session_key, self.portal_public_url)


def load_portal_settings() -> PortalSettings:
    return PortalSettings(service_name="portal")

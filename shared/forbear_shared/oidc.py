"""Getting access tokens from the OpenID Connect provider: the client side of identity.

Core banking, close of business and other pipelines use the client-credentials grant with a
client of their own; the console uses the authorization-code flow with PKCE
(``forbear_console.session``). Tokens are cached until shortly before they expire.

``python -m forbear_shared.oidc token CLIENT_ID`` prints an access token for local use (the
client's secret from ``FORBEAR_OIDC_CLIENT_SECRET``, or the development secret of the demo realm
in ``deploy/keycloak/``).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

#: refresh a cached token this long before it expires
EARLY_SECONDS = 30.0


class TokenRequestFailed(Exception):
    """The identity provider refused or did not answer a token request (no secret in the text)."""


@dataclass
class Discovery:
    """The endpoints an issuer publishes at ``/.well-known/openid-configuration`` (fetched once)."""

    issuer: str
    timeout: float = 10.0
    #: where to fetch the document when the issuer's address is not reachable from this process
    url: str | None = None
    _config: dict[str, Any] | None = field(default=None, repr=False)

    def config(self) -> dict[str, Any]:
        if self._config is None:
            from forbear_shared.auth import discovery_url

            answer = httpx.get(discovery_url(self.issuer, self.url), timeout=self.timeout)
            answer.raise_for_status()
            config = answer.json()
            if config.get("issuer") != self.issuer:
                raise TokenRequestFailed("the discovery document names another issuer")
            self._config = config
        return self._config

    @property
    def token_endpoint(self) -> str:
        return str(self.config()["token_endpoint"])

    @property
    def authorization_endpoint(self) -> str:
        return str(self.config()["authorization_endpoint"])

    @property
    def end_session_endpoint(self) -> str | None:
        value = self.config().get("end_session_endpoint")
        return str(value) if value else None


def token_request(discovery: Discovery, form: dict[str, str], timeout: float = 10.0) -> dict[str, Any]:
    """POST a grant to the token endpoint; the answer's JSON, or TokenRequestFailed with the
    provider's error code (never the form, which holds secrets)."""
    try:
        answer = httpx.post(discovery.token_endpoint, data=form, timeout=timeout)
    except httpx.HTTPError as exc:
        raise TokenRequestFailed(f"token endpoint unavailable: {type(exc).__name__}") from None
    if answer.status_code != 200:
        try:
            error = answer.json().get("error", "unknown")
        except ValueError:
            error = "unknown"
        raise TokenRequestFailed(f"token request refused: HTTP {answer.status_code} {error}")
    return answer.json()  # type: ignore[no-any-return]


class ClientCredentials:
    """A confidential client's own access token (client-credentials grant), cached."""

    def __init__(self, discovery: Discovery, client_id: str, client_secret: str) -> None:
        self.discovery = discovery
        self.client_id = client_id
        self._secret = client_secret
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ClientCredentials({self.client_id!r})"

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires:
                answer = token_request(self.discovery, {
                    "grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self._secret,
                })
                self._token = str(answer["access_token"])
                self._expires = time.monotonic() + float(answer.get("expires_in", 60)) - EARLY_SECONDS
            return self._token


class PasswordLogin:
    """A person's token through the resource-owner password grant, refreshed with the refresh
    token. Only the demo lender's simulated portal borrowers use it (a real portal sends people
    through the authorization-code flow)."""

    def __init__(self, discovery: Discovery, client_id: str, client_secret: str, username: str,
                 password: str) -> None:
        self.discovery = discovery
        self.client_id = client_id
        self.username = username
        self._secret = client_secret
        self._password = password
        self._token: str | None = None
        self._refresh: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PasswordLogin({self.client_id!r}, {self.username!r})"

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires:
                answer: dict[str, Any] | None = None
                if self._refresh:
                    try:
                        answer = token_request(self.discovery, {
                            "grant_type": "refresh_token", "refresh_token": self._refresh,
                            "client_id": self.client_id, "client_secret": self._secret,
                        })
                    except TokenRequestFailed:
                        answer = None
                if answer is None:
                    answer = token_request(self.discovery, {
                        "grant_type": "password", "username": self.username, "password": self._password,
                        "client_id": self.client_id, "client_secret": self._secret, "scope": "openid",
                    })
                self._token = str(answer["access_token"])
                self._refresh = answer.get("refresh_token")
                self._expires = time.monotonic() + float(answer.get("expires_in", 60)) - EARLY_SECONDS
            return self._token


#: the demo realm's development client secrets (deploy/keycloak/forbear-realm.json); a lender's
#: clients have secrets of their own, passed in the environment
DEVELOPMENT_SECRETS = {
    "forbear-corebanking": "forbear-corebanking-development-secret",
    "forbear-cob": "forbear-cob-development-secret",
    "forbear-demo-agent": "forbear-demo-agent-development-secret",
    "forbear-demo-supervisor": "forbear-demo-supervisor-development-secret",
    "forbear-demo-registrar": "forbear-demo-registrar-development-secret",
    "forbear-portal": "forbear-portal-development-secret",
    "forbear-console": "forbear-console-development-secret",
}


def default_issuer() -> str:
    return os.environ.get("FORBEAR_OIDC_ISSUER", "http://127.0.0.1:18080/realms/forbear")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forbear_shared.oidc",
                                     description="print an access token (client-credentials grant)")
    sub = parser.add_subparsers(dest="command", required=True)
    token = sub.add_parser("token")
    token.add_argument("client_id", help="e.g. forbear-demo-supervisor, forbear-corebanking")
    token.add_argument("--issuer", default=default_issuer())
    args = parser.parse_args(argv)
    secret = os.environ.get("FORBEAR_OIDC_CLIENT_SECRET") or DEVELOPMENT_SECRETS.get(args.client_id)
    if not secret:
        parser.error("set FORBEAR_OIDC_CLIENT_SECRET for this client")
    try:
        print(ClientCredentials(Discovery(args.issuer), args.client_id, secret).token())
    except (TokenRequestFailed, httpx.HTTPError) as exc:
        print(f"no token: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Bearer access tokens from the lender's OpenID Connect provider, verified as a resource server.

Roles: ``agent`` and ``supervisor`` (the lender's operations staff), ``borrower`` (acts only on
their own cases, identified by the token's ``borrower_id`` claim), ``system`` (core banking, close
of business and pipelines). Tokens are issued by the identity provider (Keycloak locally,
``deploy/keycloak/``); no Forbear process holds a signing key. A service trusts asymmetric
signatures only (RS256, ES256) made with a key of its issuer's JWKS, and requires ``iss``, its own
audience in ``aud``, ``exp`` and ``iat`` with a lifetime no longer than the configured maximum.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx
import jwt

from forbear_shared.errors import NotFound

Role = Literal["agent", "supervisor", "borrower", "system"]
ROLES: tuple[Role, ...] = ("agent", "supervisor", "borrower", "system")
STAFF: tuple[Role, ...] = ("agent", "supervisor")
#: a token carrying several Forbear roles acts with the first of these it holds
ROLE_PRECEDENCE: tuple[Role, ...] = ("supervisor", "agent", "system", "borrower")
ALGORITHMS = ("RS256", "ES256")
#: borrower ids and subjects are identifiers, not free text: they reach SQL, audit rows and events
_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    borrower_id: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    def sees(self, borrower_id: str) -> bool:
        """Staff and systems see every borrower's records; a borrower only their own."""
        return self.role != "borrower" or self.borrower_id == borrower_id


R = TypeVar("R", bound=Mapping[str, Any])


def visible(who: Principal, row: R | None, what: str, ident: object) -> R:
    """``row`` (a record with a ``borrower_id``) if ``who`` may see it. A missing record and a
    record of another borrower are the same 404: a borrower never learns that someone else's
    case, offer or agreement exists."""
    if row is None or not who.sees(row["borrower_id"]):
        raise NotFound(what, ident)
    return row


class InvalidToken(Exception):
    """The token is not one this service accepts (401)."""


class IssuerUnavailable(Exception):
    """The issuer's keys could not be fetched and none are cached (503)."""


class JwksCache:
    """An issuer's signing keys, cached; refreshed when stale or when a token names an unknown
    ``kid`` (key rotation), at most once per ``min_refresh_seconds`` so that tokens with invented
    key ids cannot make the service hammer the identity provider."""

    def __init__(self, fetch: Callable[[], Mapping[str, Any]], *, ttl_seconds: float = 300.0,
                 min_refresh_seconds: float = 10.0) -> None:
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._min_refresh = min_refresh_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        try:
            document = self._fetch()
            keys: dict[str, jwt.PyJWK] = {}
            for entry in document.get("keys", []):
                if entry.get("use", "sig") != "sig" or "kid" not in entry:
                    continue
                try:
                    key = jwt.PyJWK(entry)
                except jwt.PyJWTError:
                    continue  # an algorithm we do not accept (e.g. RSA-OAEP encryption keys)
                if key.algorithm_name in ALGORITHMS:
                    keys[str(entry["kid"])] = key
        except (httpx.HTTPError, ValueError, OSError) as exc:
            self._fetched_at = time.monotonic()  # back off as after a successful fetch
            if not self._keys:
                raise IssuerUnavailable(f"signing keys unavailable: {type(exc).__name__}") from None
            return
        self._keys = keys
        self._fetched_at = time.monotonic()

    def key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            age = time.monotonic() - self._fetched_at
            if age >= self._ttl or (kid not in self._keys and age >= self._min_refresh):
                self._refresh()
            key = self._keys.get(kid)
        if key is None:
            raise InvalidToken("unknown signing key")
        return key


def discovery_url(issuer: str, override: str | None = None) -> str:
    return override or f"{issuer.rstrip('/')}/.well-known/openid-configuration"


def discovery_jwks(issuer: str, timeout: float = 5.0, url: str | None = None) -> Callable[[], Mapping[str, Any]]:
    """Fetch the JWKS named by the issuer's OIDC discovery document (checked to be that issuer's)."""
    state: dict[str, str] = {}

    def fetch() -> Mapping[str, Any]:
        if "jwks_uri" not in state:
            answer = httpx.get(discovery_url(issuer, url), timeout=timeout)
            answer.raise_for_status()
            config = answer.json()
            if config.get("issuer") != issuer:
                raise ValueError("discovery document names another issuer")
            state["jwks_uri"] = str(config["jwks_uri"])
        answer = httpx.get(state["jwks_uri"], timeout=timeout)
        answer.raise_for_status()
        return answer.json()  # type: ignore[no-any-return]

    return fetch


def file_jwks(path: str) -> Callable[[], Mapping[str, Any]]:
    """A JWKS read from a file: the test issuer's, trusted only in test mode (settings refuse it
    elsewhere)."""

    def fetch() -> Mapping[str, Any]:
        return json.loads(Path(path).read_text())  # type: ignore[no-any-return]

    return fetch


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


class TokenVerifier:
    """Verifies access tokens for one audience against one or more trusted issuers."""

    def __init__(
        self,
        *,
        issuers: Mapping[str, JwksCache],
        audience: str,
        roles_claim: str = "realm_access.roles",
        borrower_claim: str = "borrower_id",
        subject_claim: str = "preferred_username",
        max_lifetime_seconds: int = 3600,
        leeway_seconds: int = 30,
    ) -> None:
        self.issuers = dict(issuers)
        self.audience = audience
        self.roles_claim = roles_claim
        self.borrower_claim = borrower_claim
        self.subject_claim = subject_claim
        self.max_lifetime = max_lifetime_seconds
        self.leeway = leeway_seconds

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise InvalidToken("malformed token") from None
        algorithm, kid, issuer = header.get("alg"), header.get("kid"), unverified.get("iss")
        if algorithm not in ALGORITHMS:
            raise InvalidToken("token not signed with an accepted algorithm")
        if not isinstance(kid, str) or not isinstance(issuer, str):
            raise InvalidToken("token without key id or issuer")
        keys = self.issuers.get(issuer)
        if keys is None:
            raise InvalidToken("token from an untrusted issuer")
        key = keys.key(kid)
        if key.algorithm_name != algorithm:
            raise InvalidToken("token algorithm does not match its key")
        try:
            claims = jwt.decode(
                token, key, algorithms=[algorithm], audience=self.audience, issuer=issuer, leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token expired") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken(f"token not issued for {self.audience}") from None
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"token refused: {type(exc).__name__}") from None
        return self.principal(claims)

    def principal(self, claims: Mapping[str, Any]) -> Principal:
        issued, expires = claims["iat"], claims["exp"]
        if not isinstance(issued, int | float) or not isinstance(expires, int | float):
            raise InvalidToken("token times are not numbers")
        if expires - issued > self.max_lifetime:
            raise InvalidToken(f"token lifetime exceeds {self.max_lifetime} seconds")
        granted = _claim(claims, self.roles_claim)
        if isinstance(granted, str):
            granted = [granted]
        if not isinstance(granted, list):
            raise InvalidToken(f"token without a {self.roles_claim} claim")
        role = next((r for r in ROLE_PRECEDENCE if r in granted), None)
        if role is None:
            raise InvalidToken("token grants no Forbear role")
        subject = claims.get(self.subject_claim)
        if not isinstance(subject, str) or not subject:
            subject = claims["sub"]
        if not isinstance(subject, str) or not _IDENTIFIER.match(subject):
            raise InvalidToken("token subject is not an identifier")
        borrower_id = claims.get(self.borrower_claim)
        if role == "borrower":
            if not isinstance(borrower_id, str) or not _IDENTIFIER.match(borrower_id):
                raise InvalidToken(f"borrower token without a valid {self.borrower_claim} claim")
        else:
            borrower_id = None
        return Principal(subject=subject, role=role, borrower_id=borrower_id)


def verifier_from_settings(settings: Any, audience: str | None = None) -> TokenVerifier:
    """The verifier a service builds at start-up: the configured issuer through its discovery
    document, and the test issuer's JWKS file in test mode only."""
    issuers: dict[str, JwksCache] = {
        settings.oidc_issuer: JwksCache(discovery_jwks(settings.oidc_issuer, url=settings.oidc_discovery_url),
                                        ttl_seconds=settings.oidc_jwks_cache_seconds)
    }
    if settings.auth_test_jwks_file:
        issuers[settings.auth_test_issuer] = JwksCache(file_jwks(settings.auth_test_jwks_file), ttl_seconds=5,
                                                       min_refresh_seconds=0)
    return TokenVerifier(
        issuers=issuers,
        audience=audience or settings.audience,
        roles_claim=settings.oidc_roles_claim,
        borrower_claim=settings.oidc_borrower_claim,
        subject_claim=settings.oidc_subject_claim,
        max_lifetime_seconds=settings.oidc_max_token_lifetime_seconds,
    )


def audiences(services: Iterable[str]) -> list[str]:
    return [f"forbear-{service}" for service in services]

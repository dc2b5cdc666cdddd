"""Sessions of the console's operators and the portal's borrowers: the authorization-code flow with PKCE against the identity provider, and
the console's own session in an encrypted, HttpOnly, SameSite=Strict cookie.

The browser never sees a token: the console exchanges the code for the operator's tokens, keeps
them sealed (Fernet: AES-128-CBC with an HMAC-SHA256) in its session cookie, and puts the access
token on the requests it proxies to the services, refreshing it when it is about to expire.
Nothing is kept in the process, so any console replica serves any session. Cross-site requests
carry no Strict cookie; unsafe methods must also carry the page's ``X-Requested-With`` header
and, when the browser names one, this origin.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

from cryptography.fernet import Fernet, InvalidToken
from forbear_shared import auth
from forbear_shared.oidc import Discovery, TokenRequestFailed, token_request

SESSION_COOKIE = "forbear_session"
LOGIN_COOKIE = "forbear_login"
#: a login started must come back from the identity provider within this
LOGIN_SECONDS = 600
CSRF_HEADER = "x-requested-with"
CSRF_VALUE = "forbear-console"
#: refresh the access token this long before it expires
REFRESH_EARLY_SECONDS = 30


@dataclass(frozen=True)
class Session:
    access_token: str
    refresh_token: str | None
    expires_at: float
    username: str
    role: str
    #: a borrower's own id (the token's ``borrower_id`` claim); none for operators
    borrower_id: str | None = None


@dataclass(frozen=True)
class LoginAttempt:
    state: str
    nonce: str
    verifier: str
    started: float


class SessionError(Exception):
    """No session, an expired one, or one that could not be refreshed (401)."""


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)) without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class Sessions:
    def __init__(self, *, discovery: Discovery, client_id: str, client_secret: str, redirect_uri: str,
                 key: str, verifier: auth.TokenVerifier, max_age_seconds: int,
                 roles: tuple[auth.Role, ...] = auth.STAFF) -> None:
        self.discovery = discovery
        self.client_id = client_id
        self._secret = client_secret
        self.redirect_uri = redirect_uri
        self._fernet = Fernet(key.encode())
        self.verifier = verifier
        self.max_age = max_age_seconds
        #: who may log in at this door (operators at the console, borrowers at the portal)
        self.roles = roles

    # -- sealing ---------------------------------------------------------------------------------
    def _seal(self, value: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(value, separators=(",", ":")).encode()).decode()

    def _open(self, sealed: str, ttl: int) -> dict[str, Any]:
        try:
            return json.loads(self._fernet.decrypt(sealed.encode(), ttl=ttl))  # type: ignore[no-any-return]
        except (InvalidToken, ValueError):
            raise SessionError("no valid session") from None

    # -- login -------------------------------------------------------------------------------------
    def begin(self) -> tuple[str, str]:
        """The identity provider's authorization URL and the sealed login cookie that proves the
        answer comes back to the browser that asked."""
        attempt = LoginAttempt(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48),
                               time.time())
        query = urlencode({
            "response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
            "scope": "openid", "state": attempt.state, "nonce": attempt.nonce,
            "code_challenge": pkce_challenge(attempt.verifier), "code_challenge_method": "S256",
        })
        return f"{self.discovery.authorization_endpoint}?{query}", self._seal(asdict(attempt))

    def complete(self, login_cookie: str | None, state: str, code: str) -> Session:
        if not login_cookie:
            raise SessionError("no login in progress in this browser")
        attempt = LoginAttempt(**self._open(login_cookie, LOGIN_SECONDS))
        if not secrets.compare_digest(attempt.state, state):
            raise SessionError("the login answer does not match the login started")
        try:
            answer = token_request(self.discovery, {
                "grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
                "client_id": self.client_id, "client_secret": self._secret, "code_verifier": attempt.verifier,
            })
        except TokenRequestFailed as exc:
            raise SessionError(str(exc)) from None
        return self._session(answer)

    def _session(self, answer: dict[str, Any]) -> Session:
        access = str(answer["access_token"])
        try:
            who = self.verifier.verify(access)
        except auth.InvalidToken as exc:
            raise SessionError(f"the identity provider's token was refused: {exc}") from None
        if who.role not in self.roles:
            raise SessionError(f"role {who.role} may not log in here")
        return Session(access, answer.get("refresh_token"), time.time() + float(answer.get("expires_in", 60)),
                       who.subject, who.role, who.borrower_id)

    # -- the session cookie ----------------------------------------------------------------------
    def seal(self, session: Session) -> str:
        return self._seal(asdict(session))

    def opened(self, cookie: str | None) -> Session:
        """The cookie's session as sealed (its access token possibly due for a refresh)."""
        if not cookie:
            raise SessionError("not logged in")
        return Session(**self._open(cookie, self.max_age))

    def current(self, cookie: str | None) -> tuple[Session, bool]:
        """The cookie's session with a usable access token, and whether it was refreshed (then the
        cookie must be set again)."""
        session = self.opened(cookie)
        if time.time() < session.expires_at - REFRESH_EARLY_SECONDS:
            return session, False
        if not session.refresh_token:
            raise SessionError("session expired")
        try:
            answer = token_request(self.discovery, {
                "grant_type": "refresh_token", "refresh_token": session.refresh_token,
                "client_id": self.client_id, "client_secret": self._secret,
            })
        except TokenRequestFailed:
            raise SessionError("session expired") from None
        return self._session(answer), True

    def end(self, cookie: str | None) -> None:
        """End the operator's session at the provider too (best effort: the cookie goes anyway), so
        that the next login at this browser asks for credentials again. Keycloak ends the session
        of a refresh token posted to its end-session endpoint by the client that holds it."""
        try:
            session = Session(**self._open(cookie, self.max_age)) if cookie else None
        except SessionError:
            return
        if session is None or not session.refresh_token:
            return
        config = self.discovery.config()
        endpoint = config.get("end_session_endpoint") or config.get("revocation_endpoint")
        if endpoint:
            import httpx

            try:
                httpx.post(str(endpoint), timeout=5, data={
                    "refresh_token": session.refresh_token, "token": session.refresh_token,
                    "token_type_hint": "refresh_token", "client_id": self.client_id, "client_secret": self._secret,
                })
            except httpx.HTTPError:
                pass

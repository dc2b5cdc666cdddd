"""The door a browser page goes through: its login at the identity provider, its session, a
same-origin proxy to the services, its static files and its security headers. The operators'
console (forbear_console.entrypoints.api) and the borrowers' portal
(forbear_console.entrypoints.portal) are each one such door, with their own client at the
provider, their own cookies and the roles that may log in; each adds its own routes.

The page talks only to this origin, so nothing is downloaded at run time and the services need
no CORS. The door keeps the user's tokens in its sealed session cookie and puts the access token
on every proxied call: the services, not the door, decide what a role may see and do (and they
mask personal data). Neither passwords (which the door never sees) nor tokens are ever logged.
"""

# no `from __future__ import annotations`: FastAPI reads the routes' `Depends(user)` when they are declared

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
from cryptography.fernet import Fernet
from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi import Path as FastApiPath
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from forbear_shared import auth, logs
from forbear_shared.devstack import SERVICES
from forbear_shared.http import ForbearErrorWithStatus, body_limit, configure_http, guarded, problem, problems
from forbear_shared.oidc import Discovery
from forbear_shared.settings import Settings
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from forbear_console import casefile
from forbear_console.session import CSRF_HEADER, LOGIN_SECONDS, Session, SessionError, Sessions
from forbear_console.upstream import FORWARDED_REQUEST_HEADERS, FORWARDED_RESPONSE_HEADERS, service_base_urls

log = logging.getLogger(__name__)
#: scripts both pages load (/static/common/...)
COMMON_STATIC = Path(__file__).resolve().parent / "static" / "common"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def security_headers_for(issuer: str) -> dict[str, str]:
    """The page is static and same-origin: scripts, styles, images and API calls come from here
    only; the one form (log in) goes here and on to the identity provider's login page."""
    parts = urlsplit(issuer)
    provider = f"{parts.scheme}://{parts.netloc}"
    return {
        "Content-Security-Policy": (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            f"font-src 'self'; form-action 'self' {provider}; base-uri 'none'; frame-ancestors 'none'"
        ),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


@dataclass(frozen=True)
class DoorSpec:
    """What makes one door differ from another."""

    #: ``console`` or ``portal``: the OpenAPI tag, and the name in messages
    name: str
    title: str
    description: str
    client_id: str
    client_secret: str
    #: where browsers reach the door (the redirect URI is ``<public_url>/auth/callback``)
    public_url: str
    session_key: str | None
    session_seconds: int
    #: the audience the door checks on the provider's access token
    audience: str
    #: who may log in
    roles: tuple[auth.Role, ...]
    session_cookie: str
    login_cookie: str
    #: the value of the page's ``X-Requested-With`` header on unsafe requests
    csrf_value: str
    static: Path
    #: where the browser lands after a login
    landing: str
    proxy_max_body_bytes: int
    port_offset: int
    #: the services' API host, ``{service}`` standing for each one's name (settings.service_host)
    service_host: str
    #: the user name goes into the login's log line (operators), or only the role (borrowers)
    log_username: bool = True


class SessionView(BaseModel):
    username: str
    role: str
    borrower_id: str | None = None


class BrowserDoor:
    """What the request guard asks before a body is read: a session cookie this door sealed,
    and, on unsafe methods, a request from this page (CSRF)."""

    def __init__(self, sessions: Sessions, spec: DoorSpec) -> None:
        self.sessions = sessions
        self.spec = spec

    def same_site(self, method: str, headers: Headers) -> None:
        if method in UNSAFE_METHODS:
            origin = headers.get("origin")
            if headers.get(CSRF_HEADER) != self.spec.csrf_value or (origin and origin != self.spec.public_url):
                raise ForbearErrorWithStatus(403, "cross_site_request", f"this request did not come from the {self.spec.name}")

    def authenticate_request(self, method: str, headers: Headers, cookies: dict[str, str]) -> None:
        self.same_site(method, headers)
        try:
            self.sessions.opened(cookies.get(self.spec.session_cookie))
        except SessionError as exc:
            raise ForbearErrorWithStatus(401, "not_logged_in", f"log in to the {self.spec.name}: {exc}") from None


@dataclass
class Door:
    """A door's app before its own routes are added (``finish`` adds the proxy, the page and
    the guard once they are)."""

    app: FastAPI
    spec: DoorSpec
    sessions: Sessions
    #: the route dependency giving the logged-in user's session (refreshed when about to expire)
    user: Callable[..., Any]
    #: what the lifespan opened (``client``: the HTTP client to the services), and what the
    #: door's ``on_start`` puts there
    state: dict[str, Any]
    settings: Settings

    def finish(self) -> FastAPI:
        return _finish(self)


def open_door(settings: Settings, spec: DoorSpec, *, on_start: Callable[[dict[str, Any]], None] | None = None,
              on_stop: Callable[[dict[str, Any]], None] | None = None) -> Door:
    logs.configure(settings.service_name, settings.log_level)
    # httpx would log every proxied URL at INFO; the services log their own requests
    logging.getLogger("httpx").setLevel(logging.WARNING)
    sessions = Sessions(
        discovery=Discovery(settings.oidc_issuer, url=settings.oidc_discovery_url),
        client_id=spec.client_id, client_secret=spec.client_secret,
        redirect_uri=f"{spec.public_url}/auth/callback",
        key=spec.session_key or Fernet.generate_key().decode(),
        verifier=auth.verifier_from_settings(settings, audience=spec.audience),
        max_age_seconds=spec.session_seconds, roles=spec.roles,
    )
    door = BrowserDoor(sessions, spec)
    state: dict[str, Any] = {"door": door}

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # type: ignore[no-untyped-def]
        state["client"] = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=3.0))
        if on_start is not None:
            on_start(state)
        yield
        await state["client"].aclose()
        if on_stop is not None:
            on_stop(state)

    app = FastAPI(title=spec.title, description=spec.description, version="0.1.0", lifespan=lifespan)

    async def user(request: Request) -> Session:
        """The user's session, its access token refreshed when about to expire."""
        door.same_site(request.method, request.headers)
        try:
            session, refreshed = await run_in_threadpool(sessions.current, request.cookies.get(spec.session_cookie))
        except SessionError as exc:
            raise ForbearErrorWithStatus(401, "not_logged_in", f"log in to the {spec.name}: {exc}") from None
        if refreshed:
            request.state.refreshed_session = session
        return session

    guarded(user, spec.roles)
    return Door(app, spec, sessions, user, state, settings)


def _finish(built: Door) -> FastAPI:
    app, spec, sessions, settings, state = built.app, built.spec, built.sessions, built.settings, built.state
    door: BrowserDoor = state["door"]
    user = built.user
    bases = service_base_urls(spec.port_offset, spec.service_host)
    secure = spec.public_url.startswith("https://")
    security_headers = security_headers_for(settings.oidc_issuer)

    def client() -> httpx.AsyncClient:
        return state["client"]  # type: ignore[no-any-return]

    def set_session_cookie(response: Response, session: Session) -> None:
        response.set_cookie(spec.session_cookie, sessions.seal(session), max_age=spec.session_seconds,
                            httponly=True, samesite="strict", secure=secure, path="/")

    def refreshed_cookie(asgi: ASGIApp) -> ASGIApp:
        """A session whose access token was refreshed while answering is sealed anew into the
        response (pure ASGI: the request guard's refusals pass through untouched)."""

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            async def sending(message: Message) -> None:
                session = scope.get("state", {}).get("refreshed_session")
                if message["type"] == "http.response.start" and session is not None:
                    carrier = Response()
                    set_session_cookie(carrier, session)
                    message = {**message, "headers": [*message.get("headers", []),
                                                      *[(k, v) for k, v in carrier.raw_headers if k == b"set-cookie"]]}
                await send(message)

            await asgi(scope, receive, sending)

        return middleware

    @app.get("/healthz", tags=["ops"], summary="Liveness: the process answers")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "service": settings.service_name}

    @app.get("/readyz", tags=["ops"], summary="Readiness: the four APIs answer /healthz")
    async def readyz() -> JSONResponse:
        async def probe(service: str) -> tuple[str, str]:
            try:
                answer = await client().get(f"{bases[service]}/healthz", timeout=3.0)
                return service, "ok" if answer.status_code == 200 else f"status {answer.status_code}"
            except httpx.HTTPError as exc:
                return service, f"unavailable: {type(exc).__name__}"

        results = dict(await asyncio.gather(*(probe(s) for s in SERVICES)))
        ready = all(v == "ok" for v in results.values())
        return JSONResponse(
            status_code=200 if ready else 503,
            content={"status": "ready" if ready else "not ready", "service": settings.service_name, "apis": results},
        )

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics")
    def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/auth/login", tags=[spec.name], summary="Start a login at the identity provider",
             status_code=303, responses=problems(503))
    def auth_login() -> RedirectResponse:
        try:
            url, attempt = sessions.begin()
        except Exception as exc:  # the provider's discovery document did not answer
            log.warning("identity provider unavailable", extra={"error": type(exc).__name__})
            raise ForbearErrorWithStatus(503, "identity_provider_unavailable",
                                         "the identity provider does not answer; try again shortly") from None
        response = RedirectResponse(url, status_code=303)
        # Lax: the provider sends the browser back with a top-level GET from its own site
        response.set_cookie(spec.login_cookie, attempt, max_age=LOGIN_SECONDS, httponly=True, samesite="lax",
                            secure=secure, path="/auth")
        return response

    @app.get("/auth/callback", tags=[spec.name], summary="Where the identity provider returns the user",
             status_code=303, responses=problems(401))
    def auth_callback(request: Request, code: Annotated[str | None, Query(max_length=4096)] = None,
                      state: Annotated[str | None, Query(max_length=256)] = None,
                      error: Annotated[str | None, Query(max_length=256)] = None) -> Response:
        if error or not code or not state:
            raise ForbearErrorWithStatus(401, "login_failed", "the identity provider did not complete the login")
        try:
            session = sessions.complete(request.cookies.get(spec.login_cookie), state, code)
        except SessionError as exc:
            log.info(f"{spec.name} login refused", extra={"why": str(exc)})
            raise ForbearErrorWithStatus(401, "login_failed", f"login refused: {exc}") from None
        who = {"operator": session.username} if spec.log_username else {}
        log.info(f"{spec.name} login", extra={**who, "role": session.role})
        response = RedirectResponse(spec.landing, status_code=303)
        response.delete_cookie(spec.login_cookie, path="/auth")
        set_session_cookie(response, session)
        return response

    @app.get("/auth/session", response_model=SessionView, tags=[spec.name], summary="Who is logged in")
    def auth_session(who: Annotated[Session, Depends(user)]) -> SessionView:
        return SessionView(username=who.username, role=who.role, borrower_id=who.borrower_id)

    @app.post("/auth/logout", status_code=204, tags=[spec.name], responses=problems(403),
              summary="End the session (and the user's session at the provider)")
    def auth_logout(request: Request) -> Response:
        door.same_site(request.method, request.headers)
        sessions.end(request.cookies.get(spec.session_cookie))
        response = Response(status_code=204)
        response.delete_cookie(spec.session_cookie, path="/")
        return response

    @app.api_route("/api/{service}/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                   tags=[spec.name], summary="Same-origin proxy to a service's API (the session's access token)",
                   responses=problems(404, 502), openapi_extra=body_limit(spec.proxy_max_body_bytes))
    async def proxy(service: str, path: str, request: Request, who: Annotated[Session, Depends(user)]) -> Response:
        if service not in bases:
            return problem(404, "unknown_service", f"no service {service[:64]!r}; one of {', '.join(SERVICES)}")
        headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED_REQUEST_HEADERS}
        headers["authorization"] = f"Bearer {who.access_token}"
        # streamed on as it arrives, never buffered whole; the first read lets the request guard
        # refuse an oversized body before the upstream is called
        body = request.stream()
        first = await anext(body, b"")

        async def content() -> AsyncIterator[bytes]:
            yield first
            async for chunk in body:
                yield chunk

        try:
            answer = await client().request(
                request.method, f"{bases[service]}/{path}", params=request.query_params,
                content=content(), headers=headers,
            )
        except httpx.HTTPError as exc:
            log.warning("upstream unavailable", extra={"upstream": service, "error": type(exc).__name__})
            return problem(502, "upstream_unavailable", f"{service} did not answer ({type(exc).__name__})")
        passed = {k: v for k, v in answer.headers.items() if k.lower() in FORWARDED_RESPONSE_HEADERS}
        return Response(content=answer.content, status_code=answer.status_code, headers=passed)

    @app.get("/case-file/{case_id}", tags=[spec.name], response_class=Response,
             responses={**problems(404, 502), 200: {"content": {"application/zip": {}}}},
             summary="The whole case file as one ZIP with a manifest of SHA-256 hashes (casefile.py)")
    async def case_file(case_id: Annotated[str, FastApiPath(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")],
                        who: Annotated[Session, Depends(user)]) -> Response:
        """Built from the services with the session's own token: a borrower gets their own case's
        file; staff the same file for a court, with the lender's own fields."""
        headers = {"authorization": f"Bearer {who.access_token}"}

        async def fetch(service: str, path: str) -> httpx.Response:
            try:
                return await client().get(f"{bases[service]}{path}", headers=headers)
            except httpx.HTTPError as exc:
                log.warning("upstream unavailable", extra={"upstream": service, "error": type(exc).__name__})
                raise ForbearErrorWithStatus(502, "upstream_unavailable",
                                             f"{service} did not answer ({type(exc).__name__})") from None

        data = await casefile.build(fetch, case_id, produced_by={"role": who.role, "subject": who.username},
                                    produced_at=dt.datetime.now(dt.UTC))
        return Response(content=data, media_type="application/zip", headers={
            "Content-Disposition": f'attachment; filename="{case_id}-case-file.zip"',
            "X-Content-SHA256": hashlib.sha256(data).hexdigest(), "Cache-Control": "no-store",
        })

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(spec.static / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static/common", StaticFiles(directory=COMMON_STATIC), name="common")
    app.mount("/static", StaticFiles(directory=spec.static), name="static")
    configure_http(app, service=settings.service_name, authz=door)
    app.add_middleware(refreshed_cookie)  # type: ignore[arg-type]

    @app.middleware("http")  # outermost: the guard's own refusals carry the headers too
    async def with_security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        for name, value in security_headers.items():
            response.headers.setdefault(name, value)
        return response

    return app

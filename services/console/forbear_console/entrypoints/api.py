"""HTTP door of the console: the page, the operator's login through the identity provider, a
same-origin proxy to the APIs, and the read model's queues, timelines and KPIs.

The page talks only to this origin, so nothing is downloaded at run time and the services need
no CORS. Operators log in with the authorization-code flow (PKCE) at the identity provider; the
console keeps their tokens in its sealed session cookie and puts the access token on every
proxied call: the services, not the console, decide what a role may see and do (and they mask
personal data). Pages read queues, case timelines and KPIs from the console's own read model
(forbear_console.readmodel, fed by the console worker) in SQL; actions still go through the
proxy to the services. Neither passwords (which the console never sees) nor tokens are ever logged.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
import psycopg
from cryptography.fernet import Fernet
from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi import Path as FastApiPath
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from forbear_shared import auth, logs
from forbear_shared.db import make_pool, transaction
from forbear_shared.devstack import SERVICES
from forbear_shared.http import ForbearErrorWithStatus, body_limit, configure_http, guarded, problem, problems
from forbear_shared.oidc import Discovery
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from psycopg_pool import ConnectionPool, PoolTimeout
from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from forbear_console.readmodel import SERVICE as READ_MODEL_SCHEMA
from forbear_console.readmodel import queries, snapshot
from forbear_console.readmodel.projector import NO_JIT
from forbear_console.session import (
    CSRF_HEADER,
    CSRF_VALUE,
    LOGIN_COOKIE,
    LOGIN_SECONDS,
    SESSION_COOKIE,
    Session,
    SessionError,
    Sessions,
)
from forbear_console.settings import ConsoleSettings, load_console_settings
from forbear_console.upstream import FORWARDED_REQUEST_HEADERS, FORWARDED_RESPONSE_HEADERS, service_base_urls

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent.parent / "static"
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


class SessionView(BaseModel):
    username: str
    role: str


class ConsoleDoor:
    """What the request guard asks before a body is read: a session cookie the console sealed,
    and, on unsafe methods, a request from this page (CSRF)."""

    def __init__(self, sessions: Sessions, public_url: str) -> None:
        self.sessions = sessions
        self.public_url = public_url

    def same_site(self, method: str, headers: Headers) -> None:
        if method in UNSAFE_METHODS:
            origin = headers.get("origin")
            if headers.get(CSRF_HEADER) != CSRF_VALUE or (origin and origin != self.public_url):
                raise ForbearErrorWithStatus(403, "cross_site_request", "this request did not come from the console")

    def authenticate_request(self, method: str, headers: Headers, cookies: dict[str, str]) -> None:
        self.same_site(method, headers)
        try:
            self.sessions.opened(cookies.get(SESSION_COOKIE))
        except SessionError as exc:
            raise ForbearErrorWithStatus(401, "not_logged_in", f"log in to the console: {exc}") from None


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or load_console_settings()
    logs.configure(settings.service_name, settings.log_level)
    # httpx would log every proxied URL at INFO; the services log their own requests
    logging.getLogger("httpx").setLevel(logging.WARNING)
    bases = service_base_urls(settings.port_offset)
    secure = settings.public_url.startswith("https://")
    sessions = Sessions(
        discovery=Discovery(settings.oidc_issuer, url=settings.oidc_discovery_url),
        client_id=settings.console_client_id, client_secret=settings.console_client_secret,
        redirect_uri=f"{settings.public_url}/auth/callback",
        key=settings.console_session_key or Fernet.generate_key().decode(),
        verifier=auth.verifier_from_settings(settings, audience="forbear-console"),
        max_age_seconds=settings.console_session_seconds,
    )
    door = ConsoleDoor(sessions, settings.public_url)
    security_headers = security_headers_for(settings.oidc_issuer)
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # type: ignore[no-untyped-def]
        state["client"] = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=3.0))
        if settings.database_url:
            state["pool"] = make_pool(settings.database_url, READ_MODEL_SCHEMA, max_size=4, name="console-api",
                                      timeout=settings.db_pool_timeout_seconds,
                                      statement_timeout_ms=settings.db_statement_timeout_ms)
        yield
        await state["client"].aclose()
        if "pool" in state:
            state["pool"].close()

    def client() -> httpx.AsyncClient:
        return state["client"]  # type: ignore[no-any-return]

    app = FastAPI(
        title="Forbear console",
        description="The operations console: work queues, case pages, actions and KPI charts.",
        version="0.1.0",
        lifespan=lifespan,
    )

    def set_session_cookie(response: Response, session: Session) -> None:
        response.set_cookie(SESSION_COOKIE, sessions.seal(session), max_age=settings.console_session_seconds,
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

    async def staff(request: Request) -> Session:
        """The operator's session, its access token refreshed when about to expire."""
        door.same_site(request.method, request.headers)
        try:
            session, refreshed = await run_in_threadpool(sessions.current, request.cookies.get(SESSION_COOKIE))
        except SessionError as exc:
            raise ForbearErrorWithStatus(401, "not_logged_in", f"log in to the console: {exc}") from None
        if refreshed:
            request.state.refreshed_session = session
        return session

    guarded(staff, auth.STAFF)

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

    @app.get("/auth/login", tags=["console"], summary="Start an operator's login at the identity provider",
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
        response.set_cookie(LOGIN_COOKIE, attempt, max_age=LOGIN_SECONDS, httponly=True, samesite="lax",
                            secure=secure, path="/auth")
        return response

    @app.get("/auth/callback", tags=["console"], summary="Where the identity provider returns the operator",
             status_code=303, responses=problems(401))
    def auth_callback(request: Request, code: Annotated[str | None, Query(max_length=4096)] = None,
                      state: Annotated[str | None, Query(max_length=256)] = None,
                      error: Annotated[str | None, Query(max_length=256)] = None) -> Response:
        if error or not code or not state:
            raise ForbearErrorWithStatus(401, "login_failed", "the identity provider did not complete the login")
        try:
            session = sessions.complete(request.cookies.get(LOGIN_COOKIE), state, code)
        except SessionError as exc:
            log.info("console login refused", extra={"why": str(exc)})
            raise ForbearErrorWithStatus(401, "login_failed", f"login refused: {exc}") from None
        log.info("console login", extra={"operator": session.username, "role": session.role})
        response = RedirectResponse("/#/queues", status_code=303)
        response.delete_cookie(LOGIN_COOKIE, path="/auth")
        set_session_cookie(response, session)
        return response

    @app.get("/auth/session", response_model=SessionView, tags=["console"], summary="Who is logged in")
    def auth_session(who: Annotated[Session, Depends(staff)]) -> SessionView:
        return SessionView(username=who.username, role=who.role)

    @app.post("/auth/logout", status_code=204, tags=["console"], responses=problems(403),
              summary="End the console session (and the operator's session at the provider)")
    def auth_logout(request: Request) -> Response:
        door.same_site(request.method, request.headers)
        sessions.end(request.cookies.get(SESSION_COOKIE))
        response = Response(status_code=204)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    def read(query: Any, *args: Any, **kwargs: Any) -> Any:
        """One read of the read model, in its own short transaction."""
        pool: ConnectionPool | None = state.get("pool")
        if pool is None:
            raise ForbearErrorWithStatus(503, "read_model_unavailable", "the console has no read model database")
        try:
            with transaction(pool) as conn:
                conn.execute(NO_JIT)
                return query(conn, *args, **kwargs)
        except (psycopg.OperationalError, PoolTimeout):
            raise ForbearErrorWithStatus(503, "read_model_unavailable", "the read model's database does not answer") from None
        except psycopg.errors.UndefinedTable:
            raise ForbearErrorWithStatus(503, "read_model_not_ready", "the console worker has not created the read model yet") from None

    @app.get("/kpis", tags=["console"], summary="KPIs from the read model (the README's KPI table), as the console worker last computed them",
             responses=problems(503))
    async def get_kpis(who: Annotated[Session, Depends(staff)]) -> Any:
        def both(conn: psycopg.Connection) -> dict[str, Any]:
            return {**snapshot.latest(conn), "read_model": queries.lag(conn)}

        return await run_in_threadpool(read, both)

    @app.get("/readmodel/queues/{queue_id}", tags=["console"], summary="One page of a work queue, from the read model",
             responses=problems(404, 503))
    async def get_queue(queue_id: str, who: Annotated[Session, Depends(staff)],
                        limit: Annotated[int, Query(ge=1, le=500)] = 100,
                        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Any:
        if queue_id not in queries.QUEUES:
            raise ForbearErrorWithStatus(404, "unknown_queue",
                                         f"no queue {queue_id[:64]!r}; one of {', '.join(queries.QUEUES)}")
        return await run_in_threadpool(read, queries.queue, queue_id, limit=limit, offset=offset)

    @app.get("/readmodel/cases/{case_id}", tags=["console"], responses=problems(404, 503),
             summary="A case's queue, merged timeline and agreements with instalment states, from the read model")
    async def get_case_timeline(case_id: Annotated[str, FastApiPath(min_length=1, max_length=64)],
                                who: Annotated[Session, Depends(staff)]) -> Any:
        found = await run_in_threadpool(read, queries.timeline, case_id)
        if found is None:
            raise ForbearErrorWithStatus(404, "unknown_case", "the read model has no event of this case (yet)")
        return found

    @app.get("/readmodel/lag", tags=["console"], summary="The newest event the read model projected",
             responses=problems(503))
    async def get_lag(who: Annotated[Session, Depends(staff)]) -> Any:
        return await run_in_threadpool(read, queries.lag)

    @app.api_route("/api/{service}/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                   tags=["console"], summary="Same-origin proxy to a service's API (the session's access token)",
                   responses=problems(404, 502), openapi_extra=body_limit(settings.proxy_max_body_bytes))
    async def proxy(service: str, path: str, request: Request, who: Annotated[Session, Depends(staff)]) -> Response:
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

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    configure_http(app, service=settings.service_name, authz=door)
    app.add_middleware(refreshed_cookie)  # type: ignore[arg-type]

    @app.middleware("http")  # outermost: the guard's own refusals carry the headers too
    async def with_security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        for name, value in security_headers.items():
            response.headers.setdefault(name, value)
        return response

    return app

"""HTTP door of the console: the page, the login, a same-origin proxy to the APIs, and KPIs.

The page talks only to this origin, so nothing is downloaded at run time and the services need
no CORS. Every API call carries the operator's bearer token, which the proxy passes through
unchanged: the services, not the console, decide what a role may see and do (and they mask
personal data). Neither passwords nor tokens are ever logged.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from forbear_shared import auth, logs
from forbear_shared.devstack import SERVICES
from forbear_shared.http import Authz, body_limit, configure_http, problem, problems
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from forbear_console import kpis
from forbear_console.operators import Operators
from forbear_console.settings import ConsoleSettings, load_console_settings
from forbear_console.upstream import FORWARDED_REQUEST_HEADERS, FORWARDED_RESPONSE_HEADERS, service_base_urls

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent.parent / "static"
TOKEN_HOURS = 10


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class LoginResult(BaseModel):
    token: str
    username: str
    role: str


#: the page is static and same-origin: scripts, styles, images and API calls come from here only
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or load_console_settings()
    logs.configure(settings.service_name, settings.log_level)
    # httpx would log every proxied URL at INFO; the services log their own requests
    logging.getLogger("httpx").setLevel(logging.WARNING)
    operators = Operators(settings.console_users)
    bases = service_base_urls(settings.port_offset)
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # type: ignore[no-untyped-def]
        state["client"] = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=3.0))
        yield
        await state["client"].aclose()

    def client() -> httpx.AsyncClient:
        return state["client"]  # type: ignore[no-any-return]

    app = FastAPI(
        title="Forbear console",
        description="The operations console: work queues, case pages, actions and KPI charts.",
        version="0.1.0",
        lifespan=lifespan,
    )

    authz = Authz(settings.auth_secret)
    staff = authz.roles(*auth.STAFF)
    #: the proxy passes the token on (the services decide by role) but refuses a request without a valid one
    caller = authz.roles(*auth.ROLES)

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

    @app.post("/login", response_model=LoginResult, tags=["console"], responses=problems(401),
              summary="Demo operator login: a bearer token for the services (a lender uses its IdP)")
    def login(body: LoginRequest) -> Any:
        operator = operators.authenticate(body.username, body.password)
        if operator is None:
            log.info("console login refused")
            return problem(401, "bad_credentials", "unknown operator or wrong password")
        token = auth.mint(settings.auth_secret, operator.username, operator.role, hours=TOKEN_HOURS)
        log.info("console login", extra={"operator": operator.username, "role": operator.role})
        return LoginResult(token=token, username=operator.username, role=operator.role)

    @app.get("/kpis", tags=["console"], summary="KPIs computed from the services' list APIs")
    async def get_kpis(who: Annotated[auth.Principal, Depends(staff)], request: Request) -> Any:
        authorization = request.headers["authorization"]

        async def fetch(service: str, path: str, params: dict[str, str] | None = None) -> Any:
            try:
                answer = await client().get(f"{bases[service]}{path}", params=params,
                                            headers={"Authorization": authorization})
            except httpx.HTTPError as exc:
                raise kpis.SourceUnavailable(f"{service} {path}: {type(exc).__name__}") from None
            if answer.status_code != 200:
                raise kpis.SourceUnavailable(f"{service} {path}: HTTP {answer.status_code}")
            return answer.json()

        return await kpis.compute(fetch, cache_seconds=settings.kpi_cache_seconds)

    @app.api_route("/api/{service}/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                   tags=["console"], summary="Same-origin proxy to a service's API (token passed through)",
                   responses=problems(404, 502), openapi_extra=body_limit(settings.proxy_max_body_bytes))
    async def proxy(service: str, path: str, request: Request,
                    _who: Annotated[auth.Principal, Depends(caller)]) -> Response:
        if service not in bases:
            return problem(404, "unknown_service", f"no service {service[:64]!r}; one of {', '.join(SERVICES)}")
        headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED_REQUEST_HEADERS}
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
    configure_http(app, service=settings.service_name, authz=authz)

    @app.middleware("http")  # outermost: the guard's own refusals carry the headers too
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app

"""What every service's FastAPI app has: health, readiness, metrics, auth, error mapping."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from kafka import KafkaConsumer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from psycopg_pool import ConnectionPool

from forbear_shared import auth, idempotency, metrics
from forbear_shared.db import transaction
from forbear_shared.errors import ForbearError
from forbear_shared.settings import Settings

log = logging.getLogger(__name__)


class KafkaProbe:
    """Readiness asks the broker for metadata; one lazily made client is reused."""

    def __init__(self, bootstrap: str, required_topics: Iterable[str]) -> None:
        self.bootstrap = bootstrap
        self.required = set(required_topics)
        self._client: KafkaConsumer | None = None
        self._lock = threading.Lock()

    def check(self) -> str | None:
        with self._lock:
            try:
                if self._client is None:
                    self._client = KafkaConsumer(bootstrap_servers=self.bootstrap, request_timeout_ms=5000)
                topics = self._client.topics()
            except Exception as exc:
                self._client = None
                return f"kafka unavailable: {type(exc).__name__}"
        missing = self.required - topics
        return f"missing topics: {sorted(missing)}" if missing else None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


_bearer = HTTPBearer(auto_error=False)


class ForbearErrorWithStatus(ForbearError):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(reason, message)
        self.status_code = status


class Authz:
    """Route dependencies: ``Depends(authz.roles("agent", "supervisor"))`` gives the caller.

    No token or a bad one is 401; a role not allowed on the route is 403 naming the roles; an
    issuer whose keys cannot be fetched is 503.
    """

    def __init__(self, verifier: auth.TokenVerifier) -> None:
        self.verifier = verifier

    @classmethod
    def from_settings(cls, settings: Settings) -> Authz:
        return cls(auth.verifier_from_settings(settings))

    def principal(self, credentials: HTTPAuthorizationCredentials | None) -> auth.Principal:
        if credentials is None:
            raise ForbearErrorWithStatus(401, "missing_token", "a bearer token is required")
        try:
            return self.verifier.verify(credentials.credentials)
        except auth.InvalidToken as exc:
            raise ForbearErrorWithStatus(401, "invalid_token", f"invalid bearer token: {exc}") from None
        except auth.IssuerUnavailable as exc:
            raise ForbearErrorWithStatus(503, "issuer_unavailable", f"tokens cannot be checked now: {exc}") from None

    def roles(self, *allowed: auth.Role) -> Callable[..., auth.Principal]:
        def dependency(
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        ) -> auth.Principal:
            principal = self.principal(credentials)
            if principal.role not in allowed:
                raise ForbearErrorWithStatus(
                    403, "forbidden_role", f"role {principal.role} may not do this; allowed: {', '.join(allowed)}"
                )
            return principal

        return dependency


def observe_http(app: FastAPI, service: str) -> None:
    """RED metrics of every request, labelled by route template (bounded), never by raw path."""

    @app.middleware("http")
    async def red_metrics(request: Request, call_next):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            template = getattr(route, "path", "unmatched")
            if template != "/metrics":
                metrics.HTTP_REQUESTS.labels(service, request.method, template, str(status)).inc()
                metrics.HTTP_DURATION.labels(service, request.method, template).observe(time.perf_counter() - started)


def idempotent_json(
    pool: ConnectionPool,
    scope: str,
    key: str | None,
    digest: str,
    work: Callable[[psycopg.Connection], tuple[int, Any]],
) -> JSONResponse:
    """Run ``work`` in one transaction with its Idempotency-Key (when given) recorded beside it.

    The same key and request replay the first answer (header ``Idempotency-Replayed: true``);
    the same key with another request is a 409 (forbear_shared.idempotency).
    """
    with transaction(pool) as conn:
        if key is not None:
            replay = idempotency.claim(conn, scope, key, digest)
            if replay is not None:
                return JSONResponse(replay.body, status_code=replay.status_code,
                                    headers={"Idempotency-Replayed": "true"})
        status, body = work(conn)
        body = jsonable_encoder(body)
        if key is not None:
            idempotency.record(conn, scope, key, status, body)
    return JSONResponse(body, status_code=status)


def create_service_app(
    *,
    settings: Settings,
    pool: ConnectionPool,
    title: str,
    description: str,
    routers: Iterable[APIRouter],
    required_topics: Iterable[str],
    on_shutdown: Callable[[], None] | None = None,
) -> FastAPI:
    probe = KafkaProbe(settings.kafka_bootstrap, required_topics)
    service = settings.service_name

    def shutdown() -> None:
        probe.close()
        if on_shutdown:
            on_shutdown()
        pool.close()

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # type: ignore[no-untyped-def]
        yield
        shutdown()

    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)

    observe_http(app, service)

    @app.exception_handler(ForbearError)
    async def forbear_error(_request: Request, exc: ForbearError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.message, "reason": exc.reason})

    @app.get("/healthz", tags=["ops"], summary="Liveness: the process answers")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get("/readyz", tags=["ops"], summary="Readiness: Postgres and Kafka answer")
    def readyz() -> JSONResponse:
        problems: dict[str, str] = {}
        try:
            with pool.connection(timeout=5) as conn:
                conn.execute("select 1")
        except Exception as exc:
            problems["postgres"] = f"unavailable: {type(exc).__name__}"
        kafka_problem = probe.check()
        if kafka_problem:
            problems["kafka"] = kafka_problem
        if problems:
            return JSONResponse(status_code=503, content={"status": "not ready", "service": service, "problems": problems})
        return JSONResponse(content={"status": "ready", "service": service, "postgres": "ok", "kafka": "ok"})

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics", include_in_schema=True)
    def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router)
    return app

"""What every service's FastAPI app has: health, readiness, metrics, auth, error mapping.

Every error of every service and of the console is an RFC 9457 problem
(``application/problem+json``) with a stable ``reason``; ``configure_http`` installs that
mapping, the request guard (limits, auth before body, input that Postgres cannot store) and
the RED metrics.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import secrets
import string
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Annotated, Any, Protocol
from urllib.parse import parse_qsl

import psycopg
import psycopg_pool
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from psycopg_pool import ConnectionPool
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import cookie_parser
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from forbear_shared import auth, idempotency, metrics
from forbear_shared import business_date as business_dates
from forbear_shared.db import transaction
from forbear_shared.errors import ForbearError
from forbear_shared.readiness import KafkaProbe, Readiness, check_postgres
from forbear_shared.retry import postgres_unavailable
from forbear_shared.settings import Settings
from forbear_shared.unit_of_work import Service, UnitOfWork

log = logging.getLogger(__name__)


_bearer = HTTPBearer(auto_error=False)
_ROLES_ATTR = "forbear_roles"
#: where the request guard leaves the caller it verified before the body (``request.state``)
_PRINCIPAL_STATE = "forbear_principal"


class ForbearErrorWithStatus(ForbearError):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(reason, message)
        self.status_code = status


class Authz:
    """Route dependencies: ``Depends(authz.roles("agent", "supervisor"))`` gives the caller.

    No token or a bad one is 401; a role not allowed on the route is 403 naming the roles; an
    issuer whose keys cannot be fetched is 503. Every verification goes through ``principal``;
    ``authenticate`` is the same check on a raw ``Authorization`` header value, for the request
    guard that refuses before reading a body.
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

    def authenticate(self, authorization: str | None) -> auth.Principal:
        """Verify an ``Authorization`` header value as the route dependency would (HTTPBearer's parsing)."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        credentials = (
            HTTPAuthorizationCredentials(scheme=scheme, credentials=token)
            if scheme.lower() == "bearer" and token else None
        )
        return self.principal(credentials)

    def authenticate_request(self, method: str, headers: Headers, cookies: Mapping[str, str]) -> auth.Principal:
        """The request guard's question (see ``RequestGuard``): who is calling, before any body."""
        return self.authenticate(headers.get("authorization"))

    def roles(self, *allowed: auth.Role) -> Callable[..., auth.Principal]:
        def dependency(
            request: Request,
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        ) -> auth.Principal:
            verified = getattr(request.state, _PRINCIPAL_STATE, None)
            principal = verified if isinstance(verified, auth.Principal) else self.principal(credentials)
            if principal.role not in allowed:
                raise ForbearErrorWithStatus(
                    403, "forbidden_role", f"role {principal.role} may not do this; allowed: {', '.join(allowed)}"
                )
            return principal

        return guarded(dependency, allowed)


class Door(Protocol):
    """Who may knock: ``Authz`` (bearer tokens) for the services, the console's session door."""

    def authenticate_request(self, method: str, headers: Headers, cookies: Mapping[str, str]) -> object: ...


def guarded(dependency: Callable[..., Any], roles: Iterable[str]) -> Callable[..., Any]:
    """Mark a route dependency as the caller check: routes using it are refused by the request
    guard before their body is read, and document 401 and 403."""
    setattr(dependency, _ROLES_ATTR, tuple(roles))
    return dependency


# -- one error shape: RFC 9457 problem details ------------------------------------------------

class Roles:
    """The role sets routes admit, named once for every service: ``roles = Roles(authz)`` in
    ``create_app``, then ``def route(who: roles.staff)``. A route's roles are also its OpenAPI
    401/403 (``document_problems``). FastAPI reads these annotations when the route is declared,
    so a module declaring routes this way does not use ``from __future__ import annotations``."""

    def __init__(self, authz: Authz) -> None:
        def door(*allowed: auth.Role) -> Any:
            return Annotated[auth.Principal, Depends(authz.roles(*allowed))]

        #: every authenticated caller (read-only facts such as the business date)
        self.anyone = door(*auth.ROLES)
        #: operations staff
        self.staff = door("agent", "supervisor")
        self.staff_or_borrower = door("agent", "supervisor", "borrower")
        self.staff_or_system = door("agent", "supervisor", "system")
        self.supervisor = door("supervisor")
        #: supervisors and automated pipelines (close of business, lifecycle operations)
        self.supervisor_or_system = door("supervisor", "system")
        #: the borrower, or an agent acting on the borrower's behalf
        self.borrower_or_agent = door("borrower", "agent")
        #: who may sign: the borrower (or an agent recording it), the lender's supervisor
        self.signer = door("borrower", "agent", "supervisor")
        #: who records a payment by hand: an agent at the counter, core banking's pipeline
        self.agent_or_system = door("agent", "system")


PROBLEM_MEDIA_TYPE = "application/problem+json"
#: JSON request bodies are a few hundred bytes; 64 KiB leaves room for a long story or reason
DEFAULT_MAX_BODY_BYTES = 64 * 1024
#: what a multipart upload adds around its file: boundaries, part headers, the small form fields
MULTIPART_OVERHEAD_BYTES = 16 * 1024
_INT64_MAX = 2**63 - 1
_MAX_ERRORS = 20
#: what a 503 asks the client to wait: about one probe round of a recovering service
RETRY_AFTER_SECONDS = 5
_MAX_MSG = 200

_REASONS = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    406: "not_acceptable", 409: "conflict", 413: "body_too_large", 415: "unsupported_media_type",
    422: "invalid_request", 500: "internal_error", 502: "bad_gateway", 503: "unavailable",
}


class FieldProblem(BaseModel):
    """One invalid part of a request: where it is and what is wrong, never the value itself."""

    loc: list[str | int] = Field(description="location, e.g. [\"body\", \"loans\", 0, \"principal\"] or [\"query\", \"offset\"]")
    type: str = Field(description="machine code of the error, e.g. missing, string_too_long, string_nul")
    msg: str


class Problem(BaseModel):
    """RFC 9457 problem details, with ``reason``: a stable machine code for the error."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="URI of the problem type: urn:forbear:problem:<reason>")
    title: str = Field(description="the HTTP status phrase")
    status: int
    detail: str = Field(description="a human sentence about this occurrence")
    reason: str = Field(description="stable machine code, e.g. case_not_found, invalid_token, body_too_large")
    errors: list[FieldProblem] | None = Field(None, description="validation errors: each field or location at fault")
    error_id: str | None = Field(None, description="for an unexpected error: the id it is logged under")


def problem_body(status: int, reason: str, detail: str, **extensions: Any) -> dict[str, Any]:
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body: dict[str, Any] = {"type": f"urn:forbear:problem:{reason}", "title": title, "status": status,
                            "detail": detail, "reason": reason}
    body.update({k: v for k, v in extensions.items() if v is not None})
    return body


def problem(status: int, reason: str, detail: str, headers: Mapping[str, str] | None = None,
            **extensions: Any) -> JSONResponse:
    return JSONResponse(jsonable_encoder(problem_body(status, reason, detail, **extensions)), status_code=status,
                        headers=dict(headers or {}), media_type=PROBLEM_MEDIA_TYPE)


_PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
_DESCRIPTIONS = {
    400: "a body that cannot be parsed as its content type says", 401: "no bearer token, or an invalid one (reason missing_token, invalid_token)",
    403: "role or party not allowed (reason forbidden_role, or a more specific one)",
    404: "unknown id, or one the caller may not know of", 409: "refused in the current state; reason says why",
    413: "request body over this route's limit (reason body_too_large)",
    422: "invalid request; errors name each field (reason invalid_request, or a domain reason)",
    502: "an upstream service did not answer",
    503: "a dependency is unavailable now (reason database_unavailable, issuer_unavailable); retry after Retry-After seconds",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a route returns, all in the problem shape."""
    return {s: {"description": _DESCRIPTIONS.get(s, HTTPStatus(s).phrase), "content": _PROBLEM_CONTENT}
            for s in statuses}


def _clip(text: str, limit: int = _MAX_MSG) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _loc(parts: Iterable[Any]) -> list[str | int]:
    return [p if isinstance(p, int) else _clip(str(p), 64) for p in parts]


def _field_problems(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"loc": _loc(e.get("loc", ())), "type": str(e.get("type", "invalid")), "msg": _clip(str(e.get("msg", "")))}
            for e in list(errors)[:_MAX_ERRORS]]


def _invalid(errors: list[dict[str, Any]], reason: str = "invalid_request") -> JSONResponse:
    where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return problem(422, reason, _clip(f"invalid request: {where}{more}", 600), errors=errors)


def install_error_handlers(app: FastAPI, routes: Iterable[BaseRoute] = ()) -> None:
    """``routes``: every route of the app (an included router's too), so that a 405 names in
    ``Allow`` every method of the path, not only those of the first route that matched it."""
    methods_by_path: list[tuple[Any, set[str]]] = []
    for route in routes:
        if isinstance(route, APIRoute):
            methods_by_path.append((route.path_regex, set(route.methods or ())))

    @app.exception_handler(ForbearError)
    async def forbear_error(_request: Request, exc: ForbearError) -> JSONResponse:
        return problem(exc.status_code, exc.reason, exc.message)

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(psycopg_pool.PoolTimeout)
    async def database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
        if not postgres_unavailable(exc):
            raise exc  # a statement's own failure: the guard's 500 with an error id
        log.warning("database unavailable", extra={"error": type(exc).__name__, "route": _route_label(_request.scope)})
        return problem(503, "database_unavailable", "the database is unavailable or too slow now; retry later",
                       headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _invalid(_field_problems(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        reason = getattr(exc, "reason", None) or _REASONS.get(exc.status_code, f"http_{exc.status_code}")
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            allowed = set().union(*(m for regex, m in methods_by_path if regex.match(_request.url.path)))
            if allowed:
                headers["Allow"] = ", ".join(sorted(allowed))
        return problem(exc.status_code, reason, _clip(detail, 600), headers=headers,
                       errors=getattr(exc, "errors", None))


# -- the request guard: before any route reads a body -------------------------------------------


class Refusal(StarletteHTTPException):
    """A refusal raised from the guard's ``receive``: an HTTPException, so that FastAPI's body
    parsing lets it through to the problem handler above, with its reason and field errors."""

    def __init__(self, status: int, reason: str, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(status, detail)
        self.reason = reason
        self.errors = errors


def text_error(value: str) -> str | None:
    """Why a string cannot be stored as text (Postgres refuses NUL; UTF-8 has no lone surrogates)."""
    if "\x00" in value:
        return "string_nul"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "string_unpaired_surrogate"
    return None


_TEXT_MSGS = {"string_nul": "NUL characters are not allowed",
              "string_unpaired_surrogate": "unpaired surrogates are not text",
              "int_out_of_range": "integers are limited to 64 bits",
              "float_not_finite": "numbers must be finite"}


def _json_problems(value: Any, loc: list[str | int], out: list[dict[str, Any]]) -> None:
    if len(out) >= _MAX_ERRORS:
        return
    if isinstance(value, str):
        kind = text_error(value)
        if kind:
            out.append({"loc": _loc(loc), "type": kind, "msg": _TEXT_MSGS[kind]})
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if abs(value) > _INT64_MAX:
            out.append({"loc": _loc(loc), "type": "int_out_of_range", "msg": _TEXT_MSGS["int_out_of_range"]})
    elif isinstance(value, float):
        if not math.isfinite(value):
            out.append({"loc": _loc(loc), "type": "float_not_finite", "msg": _TEXT_MSGS["float_not_finite"]})
    elif isinstance(value, dict):
        for key, item in value.items():
            kind = text_error(key)
            if kind:
                out.append({"loc": _loc([*loc, "(key)"]), "type": kind, "msg": _TEXT_MSGS[kind]})
            _json_problems(item, [*loc, key], out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _json_problems(item, [*loc, i], out)


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class RequestGuard:
    """Pure ASGI middleware in front of every route, so that nothing is parsed before it:

    - a NUL in the path or the query is a 422 (Postgres text cannot hold it);
    - when the route first asks for its body, and before a byte of it is read: on a route
      guarded by ``Authz``, no valid bearer token is a 401; a Content-Length over the route's
      limit (``body_limit`` in its ``openapi_extra``, else 64 KiB) is a 413;
    - what arrives is counted against that limit (chunked bodies too) and refused at it (413);
    - a JSON body is read whole (it is small) and refused with 422 naming each location that
      holds a NUL, a lone surrogate, an integer beyond 64 bits or a non-finite number;
    - anything unexpected is a 500 problem with an error id, logged (traceback included) under
      that id through the one log formatter; nothing of the request is echoed.

    The checks run when the body is first received, because only then does the scope name the
    route (FastAPI's routing has run) and its dependencies not yet.
    """

    def __init__(self, app: ASGIApp, *, authz: Door | None, default_max_body: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.authz = authz
        self.default_max_body = default_max_body
        self._guarded: dict[int, bool] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            found = _path_and_query_problems(scope)
            if found:
                await _invalid(found, "invalid_characters")(scope, receive, tracking_send)
                return
            await self.app(scope, _GuardedBody(self, scope, receive), tracking_send)
        except Exception:
            error_id = _error_id()
            log.exception("unexpected error", extra={"error_id": error_id, "method": _method_label(scope["method"]),
                                                     "route": _route_label(scope)})
            if not started:
                response = problem(500, "internal_error",
                                   f"an unexpected error occurred; it is logged under error id {error_id}",
                                   error_id=error_id)
                await response(scope, receive, send)

    def is_guarded(self, route: Any) -> bool:
        known = self._guarded.get(id(route))
        if known is None:
            known = isinstance(route, APIRoute) and _route_roles(route) is not None
            self._guarded[id(route)] = known
        return known


class _GuardedBody:
    """The ``receive`` a route sees: checks once, then counts (or replays a checked JSON body)."""

    def __init__(self, guard: RequestGuard, scope: Scope, receive: Receive) -> None:
        self.guard = guard
        self.scope = scope
        self.receive = receive
        self.checked = False
        self.received = 0
        self.limit = guard.default_max_body
        self.replay: bytes | None = None

    async def __call__(self) -> Message:
        if not self.checked:
            self.checked = True
            await self._first()
        if self.replay is not None:
            body, self.replay = self.replay, None
            return {"type": "http.request", "body": body, "more_body": False}
        message = await self.receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                raise _too_large(self.limit)
        return message

    async def _first(self) -> None:
        route = self.scope.get("route")
        headers = Headers(scope=self.scope)
        if route is not None and self.guard.authz is not None and self.guard.is_guarded(route):
            try:
                caller = self.guard.authz.authenticate_request(self.scope["method"], headers,
                                                               cookie_parser(headers.get("cookie", "")))
                # the route's role check takes the caller verified here rather than verifying again
                self.scope.setdefault("state", {})[_PRINCIPAL_STATE] = caller
            except ForbearError as exc:
                raise Refusal(exc.status_code, exc.reason, exc.message) from None
        self.limit = max_body_bytes(route) or self.guard.default_max_body
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            raise _too_large(self.limit)
        if _is_json(headers.get("content-type")):
            self.replay = await self._checked_json()

    async def _checked_json(self) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise Refusal(400, "client_disconnected", "the client went away before sending its body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                raise _too_large(self.limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        found: list[dict[str, Any]] = []
        try:
            _json_problems(json.loads(body), ["body"], found)
        except ValueError:
            pass  # not JSON: FastAPI answers json_invalid with its position
        except RecursionError:
            found.append({"loc": ["body"], "type": "json_too_deep", "msg": "JSON nested too deeply"})
        if found:
            reason = "invalid_characters" if found[0]["type"].startswith("string_") else "invalid_request"
            where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in found[:3])
            raise Refusal(422, reason, f"invalid request: {where}", errors=found)
        return body


_LIMIT_KEY = "x-max-body-bytes"


def body_limit(nbytes: int) -> dict[str, Any]:
    """``openapi_extra`` of a route whose body may be larger than the JSON default (uploads):
    the guard enforces it and the OpenAPI document states it."""
    return {_LIMIT_KEY: nbytes}


def max_body_bytes(route: Any) -> int | None:
    extra = getattr(route, "openapi_extra", None) or {}
    limit = extra.get(_LIMIT_KEY)
    return limit if isinstance(limit, int) else None


def _error_id() -> str:
    """20 random letters (94 bits): no digit run the log redaction would mask."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(20))


def _too_large(limit: int) -> Refusal:
    return Refusal(413, "body_too_large", f"request bodies on this route are limited to {limit} bytes")


def _path_and_query_problems(scope: Scope) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    kind = text_error(scope.get("path", ""))
    if kind:
        found.append({"loc": ["path"], "type": kind, "msg": _TEXT_MSGS[kind]})
    query = scope.get("query_string", b"").decode("latin-1")
    for key, value in parse_qsl(query, keep_blank_values=True):
        for part in (key, value):
            kind = text_error(part)
            if kind:
                found.append({"loc": _loc(["query", key.replace("\x00", "")]), "type": kind,
                              "msg": _TEXT_MSGS[kind]})
                break
    return found[:_MAX_ERRORS]


def _route_roles(route: APIRoute) -> tuple[str, ...] | None:
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        roles = getattr(dependant.call, _ROLES_ATTR, None)
        if roles is not None:
            return tuple(roles)
        stack.extend(dependant.dependencies)
    return None


def document_problems(route: BaseRoute) -> None:
    """A route's OpenAPI lists the statuses it returns, in the problem shape: the ones its form
    implies (401 and 403 from its Authz roles, 422 for any input, 413 for a body) beside the
    ones it declares with ``problems(...)`` (404, 409, domain 403s and 422s)."""
    if not isinstance(route, APIRoute):
        return
    implied: list[int] = []
    roles = _route_roles(route)
    if roles is not None:
        implied.append(401)
        if set(roles) != set(auth.ROLES):
            implied.append(403)
        implied.append(503)
    dependant = route.dependant
    if route.body_field is not None:
        implied += [400, 413, 422]
    elif _has_inputs(dependant):
        implied.append(422)
    for status, response in problems(*implied).items():
        route.responses.setdefault(status, response)


def _has_inputs(dependant: Any) -> bool:
    stack = [dependant]
    while stack:
        d = stack.pop()
        if d.path_params or d.query_params or d.header_params or d.body_params:
            return True
        stack.extend(d.dependencies)
    return False


def _problem_schemas(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(problem_schema.pop("$defs", {}))
        components["Problem"] = problem_schema
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        _state_door_rules(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


#: what the request guard refuses in any string, stated in the contract
TEXT_PATTERN = "^[^\\x00]*$"
#: a string that must say something: not blank, and no NUL
NON_BLANK_TEXT = {"pattern": "^[^\\x00]*[^\\s\\x00][^\\x00]*$"}


def _state_door_rules(node: Any) -> None:
    """Give the schemas the guard's rules, so that the published contract is the one the door
    enforces: free-form strings hold no NUL (strings with a pattern, format or enum keep
    theirs), integers fit 64 bits (where no tighter bound is declared)."""
    if isinstance(node, dict):
        if node.get("type") == "string" and not {"pattern", "format", "enum", "const"} & node.keys():
            node["pattern"] = TEXT_PATTERN
        if node.get("type") == "integer":
            if not {"maximum", "exclusiveMaximum"} & node.keys():
                node["maximum"] = _INT64_MAX
            if not {"minimum", "exclusiveMinimum"} & node.keys():
                node["minimum"] = -_INT64_MAX
        for value in node.values():
            _state_door_rules(value)
    elif isinstance(node, list):
        for value in node:
            _state_door_rules(value)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method_label(method: str) -> str:
    return method if method in _METHODS else "other"


def _route_label(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


def observe_http(app: FastAPI, service: str) -> None:
    """RED metrics of every request. Labels stay bounded whatever the client sends: the method
    if it is a known one (else ``other``), the route template (else ``unmatched``), never the raw path."""

    @app.middleware("http")
    async def red_metrics(request: Request, call_next):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            template = _route_label(request.scope)
            method = _method_label(request.method)
            if template != "/metrics":
                metrics.HTTP_REQUESTS.labels(service, method, template, str(status)).inc()
                metrics.HTTP_DURATION.labels(service, method, template).observe(time.perf_counter() - started)


def configure_http(app: FastAPI, *, service: str, authz: Door | None,
                   default_max_body: int = DEFAULT_MAX_BODY_BYTES, extra_routes: Iterable[BaseRoute] = ()) -> None:
    """The one error-to-HTTP mapping, the request guard and the RED metrics, for every
    service's app and the console's: call it once the routes are in place (the routes of an
    included router get ``document_problems`` before they are included)."""
    install_error_handlers(app, [*app.routes, *extra_routes])
    app.add_middleware(RequestGuard, authz=authz, default_max_body=default_max_body)
    observe_http(app, service)
    for route in app.routes:
        document_problems(route)
    _problem_schemas(app)


#: list pages: at most 500 rows; an offset is bounded so that it always fits the database's integer
Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="rows to skip")]


#: the Idempotency-Key header of every POST that may be repeated safely (forbear_shared.idempotency)
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=idempotency.MAX_KEY_LENGTH,
    description="repeat a request safely: the same key and body replay the first response",
)]


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
                                    headers={"Idempotency-Replayed": "true"}, media_type=_media(replay.status_code))
        status, body = work(conn)
        body = jsonable_encoder(body)
        if key is not None:
            idempotency.record(conn, scope, key, status, body)
    return JSONResponse(body, status_code=status, media_type=_media(status))


def idempotent(
    service: Service,
    who: auth.Principal,
    key: str | None,
    request: tuple[object, ...],
    status: int,
    run: Callable[[UnitOfWork[Any]], Any],
) -> JSONResponse:
    """The one door of a change under an Idempotency-Key: ``run`` (one use case) gets a unit of
    work joined to the transaction that records the answer, so both commit together.

    Keys are the caller's own (scope: role and subject); ``request`` names what is asked
    (method, route, its ids and body) and is what makes a reused key with another request a 409.
    """
    return idempotent_json(
        service.ctx.pool, f"{who.role}:{who.subject}", key, idempotency.request_hash(*request),
        lambda conn: (status, _answer(run(service.unit_of_work(conn)))),
    )


def _answer(result: Any) -> Any:
    return result.model_dump(mode="json") if isinstance(result, BaseModel) else result


def _media(status: int) -> str:
    """A refusal recorded by ``work`` is a problem body (``problem_body``); an answer is JSON."""
    return PROBLEM_MEDIA_TYPE if status >= 400 else "application/json"


class BusinessDateView(BaseModel):
    business_date: dt.date


def create_service_app(
    *,
    settings: Settings,
    pool: ConnectionPool,
    title: str,
    description: str,
    routers: Iterable[APIRouter],
    required_topics: Iterable[str],
    authz: Authz,
    on_shutdown: Callable[[], None] | None = None,
) -> FastAPI:
    probe = KafkaProbe(settings.kafka_bootstrap, required_topics)
    readiness = Readiness(settings.service_name, {"postgres": lambda: check_postgres(pool), "kafka": probe.check})
    service = settings.service_name

    def shutdown() -> None:
        probe.close()
        if on_shutdown:
            on_shutdown()
        pool.close()

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # type: ignore[no-untyped-def]
        yield
        shutdown()

    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)

    @app.get("/healthz", tags=["ops"], summary="Liveness: the process answers")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get("/readyz", tags=["ops"], summary="Readiness: Postgres and Kafka answer")
    def readyz() -> JSONResponse:
        found = readiness.refresh()
        problems = {name: problem for name, problem in found.items() if problem}
        if problems:
            return JSONResponse(status_code=503, content={"status": "not ready", "service": service, "problems": problems},
                                headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        return JSONResponse(content={"status": "ready", "service": service, "postgres": "ok", "kafka": "ok"})

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics", include_in_schema=True)
    def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    dates = APIRouter(tags=["business date"])

    @dates.get("/business-date", response_model=BusinessDateView,
               summary="The business date as this service last heard it from close of business")
    def get_business_date(_who: auth.Principal = Depends(authz.roles(*auth.ROLES))) -> BusinessDateView:
        with transaction(pool) as conn:
            return BusinessDateView(business_date=business_dates.current(conn, settings.initial_business_date))

    routers = [dates, *routers]
    routes = [route for router in routers for route in router.routes]
    for route in routes:
        document_problems(route)
    for router in routers:
        app.include_router(router)
    configure_http(app, service=service, authz=authz, extra_routes=routes)
    return app

"""HTTP door of the console: the page, the operator's login through the identity provider, a
same-origin proxy to the APIs (forbear_console.web, the door it shares with the borrowers'
portal), and the read model's queues, timelines and KPIs.

Operators log in with the authorization-code flow (PKCE) at the identity provider; the console
keeps their tokens in its sealed session cookie and puts the access token on every proxied call:
the services, not the console, decide what a role may see and do (and they mask personal data).
Pages read queues, case timelines and KPIs from the console's own read model
(forbear_console.readmodel, fed by the console worker) in SQL; actions still go through the
proxy to the services.
"""

from pathlib import Path
from typing import Annotated, Any

import psycopg
from fastapi import Depends, FastAPI, Query
from fastapi import Path as FastApiPath
from fastapi.concurrency import run_in_threadpool
from forbear_shared import auth
from forbear_shared.db import make_pool, transaction
from forbear_shared.http import ForbearErrorWithStatus, problems
from forbear_shared.policy_loader import load_policy
from psycopg_pool import ConnectionPool, PoolTimeout

from forbear_console.readmodel import SERVICE as READ_MODEL_SCHEMA
from forbear_console.readmodel import queries, snapshot
from forbear_console.readmodel.projector import NO_JIT
from forbear_console.session import CSRF_VALUE, LOGIN_COOKIE, SESSION_COOKIE, Session
from forbear_console.settings import ConsoleSettings, load_console_settings
from forbear_console.web import DoorSpec, open_door

STATIC = Path(__file__).resolve().parent.parent / "static"


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or load_console_settings()
    spec = DoorSpec(
        name="console", title="Forbear console",
        description="The operations console: work queues, case pages, actions and KPI charts.",
        client_id=settings.console_client_id, client_secret=settings.console_client_secret,
        public_url=settings.public_url, session_key=settings.console_session_key,
        session_seconds=settings.console_session_seconds, audience="forbear-console", roles=auth.STAFF,
        session_cookie=SESSION_COOKIE, login_cookie=LOGIN_COOKIE, csrf_value=CSRF_VALUE, static=STATIC,
        landing="/#/queues", proxy_max_body_bytes=settings.proxy_max_body_bytes, port_offset=settings.port_offset,
        service_host=settings.service_host,
    )

    def open_pool(state: dict[str, Any]) -> None:
        if settings.database_url:
            state["pool"] = make_pool(settings.database_url, READ_MODEL_SCHEMA, max_size=4, name="console-api",
                                      timeout=settings.db_pool_timeout_seconds,
                                      statement_timeout_ms=settings.db_statement_timeout_ms)

    def close_pool(state: dict[str, Any]) -> None:
        if "pool" in state:
            state["pool"].close()

    # the arms the policy file names, with their shares of new cases (the Policies page)
    configured = [{"arm": arm, "policy_version": arm_policy.version, "share": str(share)}
                  for arm, share, arm_policy in load_policy(settings.policy_file).arms()]

    door = open_door(settings, spec, on_start=open_pool, on_stop=close_pool)
    app, state, staff = door.app, door.state, door.user

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

    @app.get("/policies", tags=["console"], responses=problems(503),
             summary="The policy's arms and their shares, each arm's KPIs, and the challenger against the champion "
                     "(B − A with its 95 % interval), as the console worker last computed them")
    async def get_policies(who: Annotated[Session, Depends(staff)]) -> Any:
        def arms(conn: psycopg.Connection) -> dict[str, Any]:
            k = snapshot.latest(conn)
            return {"as_of": k.get("as_of"), "configured": configured, "arms": k.get("policies", []),
                    "comparison": k.get("policy_comparison", []), "computed": k["computed"]}

        return await run_in_threadpool(read, arms)

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

    return door.finish()

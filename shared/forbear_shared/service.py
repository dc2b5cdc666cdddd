"""One bootstrap per service: settings, logs, migrations, pool — built at start-up, not import."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg_pool import ConnectionPool
from pydantic import BaseModel

from forbear_shared import business_date, logs, outbox, retry
from forbear_shared.db import make_pool, migrate
from forbear_shared.events import Envelope, new_event
from forbear_shared.retry import postgres_unavailable
from forbear_shared.settings import Settings, load_settings


@dataclass
class ServiceContext:
    settings: Settings
    pool: ConnectionPool

    @property
    def name(self) -> str:
        return self.settings.service_name

    def now(self) -> dt.datetime:
        """Technical timestamp for ``occurred_at`` and audit rows; never for business rules."""
        return dt.datetime.now(dt.UTC)

    def business_date(self, conn: psycopg.Connection) -> dt.date:
        """The lender's business date as this service knows it (its own projection)."""
        return business_date.current(conn, self.settings.initial_business_date)

    def emit(
        self,
        conn: psycopg.Connection,
        *,
        type: str,
        payload: BaseModel,
        case_id: str,
        topic: str,
        business_date: dt.date,
        causation: Envelope | None = None,
        policy: tuple[str, str] | None = None,
    ) -> Envelope:
        """Record an event in the outbox, inside the caller's transaction.

        ``topic`` is the catalogue name (e.g. ``intake.events``); the deployment's prefix is added.
        """
        envelope, full_topic = self.event(
            type=type, payload=payload, case_id=case_id, topic=topic, business_date=business_date, causation=causation,
            policy=policy,
        )
        outbox.add(conn, envelope, full_topic)
        return envelope

    def event(
        self,
        *,
        type: str,
        payload: BaseModel,
        case_id: str,
        topic: str,
        business_date: dt.date,
        causation: Envelope | None = None,
        policy: tuple[str, str] | None = None,
    ) -> tuple[Envelope, str]:
        """An event and its deployment topic, built as ``emit`` builds it but not yet recorded:
        collect many and record them with ``emit_many`` (one outbox statement). ``policy`` is
        the (version, arm) the service acted under for the case."""
        envelope = new_event(
            type=type,
            payload=payload,
            case_id=case_id,
            business_date=business_date,
            producer=self.name,
            occurred_at=self.now(),
            causation=causation,
            policy=policy,
        )
        return envelope, self.settings.topic(topic)

    def emit_many(self, conn: psycopg.Connection, events: Sequence[tuple[Envelope, str]]) -> None:
        """Record events built with ``event`` in the outbox, in order, inside the caller's transaction."""
        outbox.add_many(conn, events)


def bootstrap(service: str, migrations: Path, *, pool_size: int = 10, settings: Settings | None = None) -> ServiceContext:
    settings = settings or load_settings(service)
    logs.configure(service, settings.log_level)
    # a process started while Postgres is away waits for it; a migration that fails on a live
    # database is not retried: the process exits naming it
    retry.call(lambda: migrate(settings.database_url, service, migrations), service=service, operation="migrations",
               retry_if=postgres_unavailable)
    pool = make_pool(settings.database_url, service, max_size=pool_size, name=service,
                     timeout=settings.db_pool_timeout_seconds, statement_timeout_ms=settings.db_statement_timeout_ms)
    return ServiceContext(settings, pool)

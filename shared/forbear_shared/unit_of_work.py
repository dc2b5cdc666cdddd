"""The one shape of a use case: ``use_case(command_or_event, uow) -> result``.

A service's bootstrap builds its ``Service`` once at start-up (settings, pool, policy and the
service's own collaborators). Every door asks it for a unit of work and hands that to one use
case:

- an API route: ``svc.unit_of_work()``, or, for a change under an Idempotency-Key, the unit of
  work ``forbear_shared.http.idempotent`` joins to the transaction that records the answer;
- a worker: the unit of work ``forbear_shared.worker`` joins to the inbox's transaction, so the
  event is marked handled in the same commit as its effect.

The use case opens the one transaction (``with uow:``), loads what it needs through the
service's repository, lets the pure domain decide, writes, and records its events with
``uow.emit``. Joined to a transaction it did not open, ``with uow:`` neither commits nor rolls
back: the owner of that transaction does, once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Generic, Self, TypeVar

import psycopg
from pydantic import BaseModel

from forbear_shared.db import transaction
from forbear_shared.domain.policy import Policy
from forbear_shared.events import Envelope
from forbear_shared.events.schemas.monitoring import LENDER_KEY
from forbear_shared.service import ServiceContext


@dataclass
class Service:
    """What every use case of a service may use, built once by the service's ``bootstrap``.

    A service adds its own collaborators (an evidence store, caches) in a subclass."""

    ctx: ServiceContext
    policy: Policy

    @property
    def name(self) -> str:
        return self.ctx.name

    @property
    def events_topic(self) -> str:
        """The catalogue name of the topic this service announces its facts on."""
        return f"{self.ctx.name}.events"

    def unit_of_work(self, conn: psycopg.Connection | None = None) -> UnitOfWork[Self]:
        """A unit of work of its own, or joined to ``conn``'s open transaction."""
        return UnitOfWork(self, conn)


S = TypeVar("S", bound=Service)


class UnitOfWork(Generic[S]):
    """One transaction of one use case, and the one way to record its events."""

    def __init__(self, service: S, conn: psycopg.Connection | None = None) -> None:
        self.service = service
        self._joined = conn is not None
        self._conn = conn
        self._scope: AbstractContextManager[psycopg.Connection] | None = None
        self._business_date: dt.date | None = None

    # -- the transaction ---------------------------------------------------------------------

    def __enter__(self) -> Self:
        if self._joined:
            return self
        if self._scope is not None:
            raise RuntimeError("a unit of work is one transaction: it is not entered twice")
        self._scope = transaction(self.service.ctx.pool)
        self._conn = self._scope.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._joined or self._scope is None:
            return
        scope, self._scope = self._scope, None
        try:
            scope.__exit__(kind, exc, tb)
        finally:
            self._conn = None
            self._business_date = None

    @property
    def conn(self) -> psycopg.Connection:
        if self._conn is None:
            raise RuntimeError("the unit of work is not open: use it inside `with uow:`")
        return self._conn

    # -- what a use case asks of it -----------------------------------------------------------

    @property
    def ctx(self) -> ServiceContext:
        return self.service.ctx

    @property
    def policy(self) -> Policy:
        return self.service.policy

    @property
    def business_date(self) -> dt.date:
        """The lender's business date as this service knows it, read once per transaction."""
        if self._business_date is None:
            self._business_date = self.service.ctx.business_date(self.conn)
        return self._business_date

    def now(self) -> dt.datetime:
        """Technical timestamp for audit rows; never for business rules."""
        return self.service.ctx.now()

    def event(self, *, type: str, payload: BaseModel, case_id: str, business_date: dt.date,
              causation: Envelope | None = None, topic: str | None = None) -> tuple[Envelope, str]:
        """An event built as ``emit`` builds it, not yet recorded (collect many for ``emit_many``)."""
        return self.service.ctx.event(type=type, payload=payload, case_id=case_id,
                                      topic=topic or self.service.events_topic, business_date=business_date,
                                      causation=causation, policy=self.policy_of(case_id))

    def emit(self, *, type: str, payload: BaseModel, case_id: str, business_date: dt.date,
             causation: Envelope | None = None, topic: str | None = None) -> Envelope:
        """Record an event in the outbox, in this transaction (on the service's own topic unless
        ``topic`` names another, e.g. ``notifications.requested``)."""
        return self.service.ctx.emit(self.conn, type=type, payload=payload, case_id=case_id,
                                     topic=topic or self.service.events_topic, business_date=business_date,
                                     causation=causation, policy=self.policy_of(case_id))

    def policy_of(self, case_id: str) -> tuple[str, str] | None:
        """The policy version and arm this service acts under for ``case_id`` (``Policy.arm_of``):
        every event about a case carries both on its envelope; the lender's own (the business
        date's, keyed ``lender``) carry none."""
        if case_id == LENDER_KEY:
            return None
        champion = self.service.policy
        acting = champion.for_case(case_id)  # the case id hashed once
        return acting.version, "champion" if acting is champion else "challenger"

    def emit_many(self, events: Sequence[tuple[Envelope, str]]) -> None:
        """Record events built with ``event``, in order, with one outbox statement."""
        self.service.ctx.emit_many(self.conn, events)


"""A unit of work without a database, and an in-memory stand-in for the repository functions
a use case calls: use cases tested on their rules, not on Postgres."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from forbear_monitoring.adapters import repository
from forbear_monitoring.bootstrap import Monitoring
from forbear_monitoring.domain.renegotiation import Renegotiation
from forbear_shared.unit_of_work import UnitOfWork


class FakeUnitOfWork(UnitOfWork[Monitoring]):
    """Joined to a connection that is never used (the repository is faked): ``with uow:`` neither
    commits nor rolls back; events are collected, in order, as ``(type, topic, payload)``."""

    def __init__(self, service: Monitoring, business_date: dt.date) -> None:
        super().__init__(service, conn=object())  # type: ignore[arg-type]
        self._today = business_date
        self.emitted: list[tuple[str, str | None, Any]] = []

    @property
    def business_date(self) -> dt.date:
        return self._today

    def event(self, *, type: str, payload: Any, case_id: str, business_date: dt.date, causation: Any = None,
              topic: str | None = None) -> Any:
        return (type, topic, payload)

    def emit(self, **fields: Any) -> Any:
        self.emitted.append(self.event(**fields))

    def emit_many(self, events: Any) -> None:
        self.emitted.extend(events)


@dataclass
class Book:
    """The renegotiation projection and the offers, as the repository functions see them."""

    renegotiations: dict[str, Renegotiation] = field(default_factory=dict)
    offers: dict[str, tuple[str, str]] = field(default_factory=dict)

    def install(self, monkeypatch: Any) -> None:
        def lock_renegotiation(_conn: Any, case_id: str) -> Renegotiation | None:
            return self.renegotiations.get(case_id)

        def insert_renegotiation(_conn: Any, r: Renegotiation) -> None:
            self.renegotiations.setdefault(r.case_id, r)

        def save_renegotiations(_conn: Any, changed: list[Renegotiation]) -> None:
            for r in changed:
                self.renegotiations[r.case_id] = r

        def earlier_requests(_conn: Any, agreement_id: str, *, other_than: str) -> list[dt.date]:
            return [r.requested_on for r in self.renegotiations.values()
                    if r.agreement_id == agreement_id and r.case_id != other_than and r.state != "over_limit"]

        def insert_offer(_conn: Any, offer_id: str, case_id: str, _expires_on: dt.date) -> None:
            self.offers.setdefault(offer_id, (case_id, "open"))

        def set_offer_state(_conn: Any, offer_id: str, state: str, *, only_from: str | None = None) -> None:
            case_id, current = self.offers[offer_id]
            if only_from is None or current == only_from:
                self.offers[offer_id] = (case_id, state)

        def offers_left(_conn: Any, case_id: str) -> int:
            return sum(1 for c, s in self.offers.values() if c == case_id and s in ("open", "accepted"))

        for fn in (lock_renegotiation, insert_renegotiation, save_renegotiations, earlier_requests, insert_offer,
                   set_offer_state, offers_left):
            monkeypatch.setattr(repository, fn.__name__, fn)

"""Helpers for the monitoring scenarios: events as the other services and core banking send them."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

from forbear_shared.domain.money import Money
from forbear_shared.domain.schedule import Schedule, equal_principal_schedule
from forbear_shared.events import encode, new_event
from forbear_shared.events.schemas.agreement import AgreementActivated
from forbear_shared.events.schemas.common import ScheduleDoc
from pydantic import BaseModel

from tests.support.http import client
from tests.support.infra import eventually, producer, read_topic

NOW = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def business_date() -> dt.date:
    with client("monitoring", role="supervisor") as api:
        return dt.date.fromisoformat(api.get("/business-date").json()["business_date"])


def advance(to: dt.date) -> dict[str, Any]:
    with client("monitoring", role="supervisor") as api:
        response = api.post("/business-date/advance", json={"to": to.isoformat()})
    assert response.status_code == 200, response.text
    return response.json()


def advance_to(to: dt.date) -> None:
    """Advance unless the business date is already there (shared session date)."""
    if business_date() < to:
        advance(to)


def send(infra: Any, topic: str, type_: str, payload: BaseModel, case_id: str, on: dt.date) -> uuid.UUID:
    event = new_event(type=type_, payload=payload, case_id=case_id, business_date=on, producer="test",
                      occurred_at=NOW)
    kafka = producer(infra)
    kafka.send(infra.topic(topic), key=case_id.encode(), value=encode(event)).get(timeout=30)
    kafka.close()
    return event.event_id


def working_day(day: dt.date) -> bool:
    """The State Council's working days, read straight from chinese-calendar (not through
    Forbear's calendar), so tests check the product's rule against the table itself."""
    import chinese_calendar

    return bool(chinese_calendar.is_workday(day))


def grace_cutoff(due: dt.date, grace: int = 3) -> dt.date:
    """The demo's grace cutoff: the due date moved to a working day, then 3 working days."""
    day = due
    while not working_day(day):
        day += dt.timedelta(days=1)
    for _ in range(grace):
        day += dt.timedelta(days=1)
        while not working_day(day):
            day += dt.timedelta(days=1)
    return day


def plain_first_due(after: dt.date) -> dt.date:
    """The first date from ``after`` that is a working day followed by 3 working days: its grace
    ends 3 calendar days later, so a test's DPD arithmetic stays due + 3 + DPD."""
    day = after
    while grace_cutoff(day) != day + dt.timedelta(days=3):
        day += dt.timedelta(days=1)
    return day


def three_month_schedule(first_due: dt.date) -> Schedule:
    """3,000.00 at 12 %/year, equal principal, 3 months (30/360, regular periods):
    1,000.00 + 30.00 = 1,030.00; 1,000.00 + 20.00 = 1,020.00; 1,000.00 + 10.00 = 1,010.00."""
    return equal_principal_schedule(Money.of("3000.00"), Decimal("0.12"), 3, first_due)


def activate(infra: Any, *, schedule: Schedule, on: dt.date, borrower_id: str | None = None,
             loan_id: str | None = None, supersedes: str | None = None) -> dict[str, str]:
    ids = {"agreement_id": uid("AGR"), "case_id": uid("CASE"), "borrower_id": borrower_id or uid("B"),
           "loan_id": loan_id or uid("LOAN")}
    payload = AgreementActivated(
        agreement_id=ids["agreement_id"], borrower_id=ids["borrower_id"], loan_ids=[ids["loan_id"]],
        option="term_extension", schedule=ScheduleDoc.model_validate(schedule.to_dict()),
        document_sha256="ab" * 32, activated_on=on, policy_version="demo-lender-2026.1",
        supersedes_agreement_id=supersedes,
    )
    send(infra, "agreement.events", "agreement.activated", payload, ids["case_id"], on)
    eventually(lambda: agreement(ids["agreement_id"]) is not None)
    return ids


def agreement(agreement_id: str) -> dict[str, Any] | None:
    with client("monitoring", role="agent") as api:
        response = api.get(f"/agreements/{agreement_id}")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return response.json()


def pay(infra: Any, loan_id: str, amount: str, on: dt.date, reference: str | None = None) -> str:
    from forbear_shared.events.schemas.corebanking import PaymentReceived

    reference = reference or uid("PAY")
    send(infra, "corebanking.payments", "payment.received",
         PaymentReceived(reference=reference, loan_id=loan_id, amount=Decimal(amount), received_on=on), loan_id, on)
    return reference


def wait_payment(agreement_id: str, reference: str) -> dict[str, Any]:
    def applied() -> dict[str, Any] | None:
        view = agreement(agreement_id)
        assert view is not None
        found = [p for p in view["payments"] if p["reference"] == reference]
        return view if found else None

    result: dict[str, Any] = eventually(applied)
    return result


def events(infra: Any, topic: str, agreement_id: str, type_: str | None = None, min_count: int = 0,
           timeout: float = 30.0) -> list[dict[str, Any]]:
    """Events about one agreement on a topic, waiting (up to ``timeout``) for ``min_count``."""

    def matching() -> list[dict[str, Any]]:
        found = []
        for message in read_topic(infra, topic, timeout=2):
            body = json.loads(message.value)
            if body["payload"].get("agreement_id") != agreement_id:
                continue
            if type_ is None or body["type"] == type_:
                found.append(body)
        return found

    if min_count == 0:
        return matching()
    result: list[dict[str, Any]] = eventually(lambda: (lambda f: f if len(f) >= min_count else None)(matching()),
                                             timeout=timeout)
    return result

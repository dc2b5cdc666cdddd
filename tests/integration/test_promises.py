"""Promises to pay through the real stack: recorded over HTTP, paid through core banking, judged by
close of business, and what they do to the escalation ladder.

Numbers from the demo policy: grace 3 days (``plain_first_due`` keeps it 3 calendar days),
reminder at DPD 1, warning at DPD 7; ``[promises]``: at most 14 days ahead, one open promise per
agreement, an open promise holds the ladder, a broken one moves an agreement in arrears one level
up. The plan is ``three_month_schedule``: instalments 1,030.00 / 1,020.00 / 1,010.00.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.integration.test_monitoring_support import (
    activate,
    advance,
    advance_to,
    agreement,
    business_date,
    events,
    pay,
    three_month_schedule,
    uid,
    wait_payment,
)
from tests.support.calendar import plain_first_due
from tests.support.http import client

pytestmark = pytest.mark.integration

DAY = dt.timedelta(days=1)


def promise(ids: dict[str, str], amount: str, due: dt.date, *, role: str = "agent", channel: str = "phone",
            key: str | None = None) -> dict:
    borrower = ids["borrower_id"] if role == "borrower" else None
    headers = {"Idempotency-Key": key} if key else {}
    with client("monitoring", role=role, borrower_id=borrower) as api:
        response = api.post(f"/agreements/{ids['agreement_id']}/promises", headers=headers,
                            json={"amount": amount, "due_date": due.isoformat(), "channel": channel})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_promise_paid_in_two_parts_is_kept_at_the_close_that_sees_the_amount(stack, infra) -> None:
    today = business_date()
    ids = activate(infra, schedule=three_month_schedule(plain_first_due(today + 10 * DAY)), on=today)
    # the borrower promises 1,030.00 (the first instalment) by today + 5
    made = promise(ids, "1030.00", today + 5 * DAY, role="borrower", channel="portal", key=uid("k"))
    assert (made["status"], made["recorded_by"], made["made_on"]) == ("open", "borrower", today.isoformat())
    wait_payment(ids["agreement_id"], pay(infra, ids["loan_id"], "500.00", today))
    advance(today + 2 * DAY)  # the closes of today and today + 1: 500.00 of 1,030.00, still open
    assert [p["status"] for p in agreement(ids["agreement_id"])["promises"]] == ["open"]
    wait_payment(ids["agreement_id"], pay(infra, ids["loan_id"], "530.00", today + 2 * DAY))
    advance(today + 3 * DAY)  # the close of today + 2: 500.00 + 530.00 = 1,030.00, kept
    kept = events(infra, "monitoring.events", ids["agreement_id"], "promise.kept", min_count=1)
    assert [(k["payload"]["paid"], k["payload"]["on"]) for k in kept] == [("1030.00", (today + 2 * DAY).isoformat())]
    with client("monitoring", role="borrower", borrower_id=ids["borrower_id"]) as own:
        listed = own.get(f"/agreements/{ids['agreement_id']}/promises").json()
    assert [(p["status"], p["paid"]) for p in listed] == [("kept", "1030.00")]
    recorded = events(infra, "monitoring.events", ids["agreement_id"], "promise.recorded", min_count=1)
    assert recorded[0]["payload"]["channel"] == "portal" and recorded[0]["payload"]["amount"] == "1030.00"


def test_a_broken_promise_moves_the_ladder_once_and_an_open_one_holds_it(stack, infra) -> None:
    today = business_date()
    schedule = three_month_schedule(plain_first_due(today + 10 * DAY))
    due = schedule.instalments[0].due_date
    broken_ids = activate(infra, schedule=schedule, on=today)
    held_ids = activate(infra, schedule=schedule, on=today)
    advance_to(due + 4 * DAY)  # DPD 1: both missed, at reminder
    assert agreement(broken_ids["agreement_id"])["level"] == "reminder"
    day = business_date()
    assert day == due + 4 * DAY

    # 500.00 promised by due + 5, 499.99 paid: one cent short
    promise(broken_ids, "500.00", due + 5 * DAY)
    wait_payment(broken_ids["agreement_id"], pay(infra, broken_ids["loan_id"], "499.99", due + 4 * DAY))
    # 100.00 promised by due + 12 on the other: open while DPD passes 7
    promise(held_ids, "100.00", due + 12 * DAY)

    advance(due + 10 * DAY)  # one catch-up over six closes: due + 4 .. due + 9
    broken = events(infra, "monitoring.events", broken_ids["agreement_id"], "promise.broken", min_count=1)
    assert [(b["payload"]["paid"], b["payload"]["on"]) for b in broken] == [("499.99", (due + 5 * DAY).isoformat())]
    view = agreement(broken_ids["agreement_id"])
    # broken at the close of due + 5 (the sweep of due + 6, DPD 3): reminder -> warning ahead of DPD 7
    assert view["level"] == "warning"
    assert [(s["to_level"], s["on"], s["reason"]) for s in view["escalation"]] == [
        ("reminder", (due + 4 * DAY).isoformat(), "dpd_1"), ("warning", (due + 6 * DAY).isoformat(), "promise_broken")]
    assert [p["status"] for p in view["promises"]] == ["broken"]
    # the other is held at reminder at DPD 7 while its promise is open
    held = agreement(held_ids["agreement_id"])
    assert held["level"] == "reminder" and held["days_past_due"] == 7

    wait_payment(held_ids["agreement_id"], pay(infra, held_ids["loan_id"], "100.00", due + 10 * DAY))
    advance(due + 11 * DAY)  # the close of due + 10: kept; no longer held, DPD 8 asks for the warning
    held = agreement(held_ids["agreement_id"])
    assert [p["status"] for p in held["promises"]] == ["kept"]
    assert held["level"] == "warning" and held["escalation"][-1]["reason"] == "dpd_8"
    advance(due + 13 * DAY)  # later closes judge nothing again
    assert len(events(infra, "monitoring.events", broken_ids["agreement_id"], "promise.broken")) == 1
    assert len(events(infra, "monitoring.events", held_ids["agreement_id"], "promise.kept")) == 1


def test_bad_promises_are_refused_with_a_reason(stack, infra) -> None:
    today = business_date()
    ids = activate(infra, schedule=three_month_schedule(today + 10 * DAY), on=today)
    path = f"/agreements/{ids['agreement_id']}/promises"
    good = {"amount": "100.00", "due_date": (today + 3 * DAY).isoformat(), "channel": "phone"}
    with client("monitoring", role="agent") as api:
        for body in ({**good, "amount": "0.00"}, {**good, "amount": "-1.00"}, {**good, "amount": "1.005"},
                     {**good, "amount": "1e20"}, {**good, "amount": 100.0}, {**good, "channel": "pigeon"},
                     {**good, "channel": "phone\x00"}, {**good, "due_date": "2026-02-30"}, {**good, "note": "x"}):
            response = api.post(path, json=body)
            assert response.status_code == 422, (body, response.text)
            assert response.json()["reason"]
        # the whole debt is 3,060.00 (1,030.00 + 1,020.00 + 1,010.00); a cent more is not owed
        assert api.post(path, json={**good, "amount": "3060.01"}).json()["reason"] == "promise_exceeds_owed"
        past = api.post(path, json={**good, "due_date": (today - DAY).isoformat()})
        assert (past.status_code, past.json()["reason"]) == (422, "promise_date_in_past")
        far = api.post(path, json={**good, "due_date": (today + 15 * DAY).isoformat()})
        assert (far.status_code, far.json()["reason"]) == (422, "promise_date_too_far")
        first = api.post(path, json=good, headers={"Idempotency-Key": "p-" + ids["agreement_id"]})
        assert first.status_code == 201, first.text
        again = api.post(path, json=good, headers={"Idempotency-Key": "p-" + ids["agreement_id"]})
        assert again.status_code == 201 and again.json() == first.json()
        second = api.post(path, json={**good, "amount": "50.00"})
        assert (second.status_code, second.json()["reason"]) == (409, "promise_open")
        assert api.post("/agreements/AGR-unknown/promises", json=good).status_code == 404
    with client("monitoring", role="borrower", borrower_id=uid("B")) as other:
        assert other.post(path, json=good).status_code == 404  # someone else's agreement does not exist
        assert other.get(path).status_code == 404
    with client("monitoring", role="supervisor") as supervisor:
        assert supervisor.post(path, json=good).status_code == 403
        assert len(supervisor.get(path).json()) == 1

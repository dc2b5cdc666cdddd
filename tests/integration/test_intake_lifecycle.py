"""Intake hearing the rest of the system: decisions, new evidence, the evidence deadline at COB."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from forbear_shared.events import encode, new_event
from forbear_shared.events.schemas.evaluation import CaseDecided

from tests.integration.test_intake_api import PDF, events_of, open_case, upload
from tests.support.http import client
from tests.support.infra import eventually, producer, read_events

pytestmark = pytest.mark.integration


def case_status(case_id: str) -> dict:
    with client("intake") as api:
        return api.get(f"/cases/{case_id}").json()


def test_a_case_asked_for_more_evidence_is_resubmitted_when_its_evidence_becomes_complete(stack, infra) -> None:
    case = open_case()
    cid = case["case_id"]
    decided = CaseDecided(decision_id=f"E-{uuid.uuid4().hex[:8]}", borrower_id=case["borrower_id"],
                          outcome="need_more_evidence", reasons=[{"code": "evidence_incomplete"}],
                          policy_version="demo-lender-2026.1", decided_on=dt.date(2026, 1, 5), submission=1)
    event = new_event(type="case.decided", payload=decided, case_id=cid, business_date=dt.date(2026, 1, 5),
                      producer="evaluation", occurred_at=dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC))
    kafka = producer(infra)
    kafka.send(infra.topic("evaluation.events"), key=cid.encode(), value=encode(event)).get(timeout=30)
    kafka.close()
    heard = eventually(lambda: case_status(cid) if case_status(cid)["last_outcome"] == "need_more_evidence" else None)
    assert heard["status"] == "awaiting_evidence"
    assert any(e["action"] == "decision_heard" and e["detail"]["reasons"] == ["evidence_incomplete"]
               for e in heard["timeline"])
    with client("intake") as api:
        docs = [upload(api, cid, t, PDF).json() for t in ("termination_letter", "unemployment_registration")]
        first = api.post(f"/cases/{cid}/evidence/{docs[0]['document_id']}/review", json={"outcome": "accept"})
        assert api.get(f"/cases/{cid}").json()["status"] == "evidence_to_review"
        second = api.post(f"/cases/{cid}/evidence/{docs[1]['document_id']}/review", json={"outcome": "accepted"})
        after = api.get(f"/cases/{cid}").json()
    assert first.status_code == 200 and second.status_code == 200
    # re-submitted in the review's own transaction (evaluation may already be deciding it)
    assert after["submissions"] == 1
    assert any(e["action"] == "case_submitted" and e["reason"] == "evidence_completed" for e in after["timeline"])
    payload = events_of(infra, cid, "case.submitted")[0]["payload"]
    assert [d["status"] for d in payload["evidence"]] == ["accepted", "accepted"]
    assert not payload["evidence_deadline_passed"]


def test_an_incomplete_case_past_its_deadline_goes_to_evaluation_once_and_is_declined(stack, infra) -> None:
    case = open_case()
    cid = case["case_id"]
    with client("intake") as api:
        assert upload(api, cid, "termination_letter", PDF).status_code == 201
    deadline = dt.date.fromisoformat(case["evidence_deadline"])
    with client("monitoring", role="supervisor") as api:
        current = dt.date.fromisoformat(api.get("/business-date").json()["business_date"])
        target = max(deadline + dt.timedelta(days=1), current + dt.timedelta(days=1))
        assert api.post("/business-date/advance", json={"to": target.isoformat()}).status_code == 200

    submitted = events_of(infra, cid, "case.submitted")[0]
    assert submitted["payload"]["evidence_deadline_passed"] is True
    assert submitted["business_date"] == target.isoformat()
    assert [d["status"] for d in submitted["payload"]["evidence"]] == ["pending"]
    # another close of business does not submit it again
    with client("monitoring", role="supervisor") as api:
        assert api.post("/business-date/advance", json={}).status_code == 200
    with client("intake") as api:
        eventually(lambda: api.get("/business-date").json()["business_date"] > target.isoformat())
    copies = read_events(infra, "intake.events")
    assert len([c for c in copies if c["case_id"] == cid and c["type"] == "case.submitted"]) == 1
    declined = eventually(lambda: case_status(cid) if case_status(cid)["status"] == "declined" else None, timeout=60)
    assert declined["last_outcome"] == "decline"

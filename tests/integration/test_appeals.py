"""Appeals of a decline through the real broker, database and services.

A renegotiation of a monitored agreement is routed to a supervisor (two silent delinquencies are
not a decline indicator in the demo policy), supervisor A declines it, the borrower appeals within
the window, supervisor A may not review the appeal, supervisor B overturns it. Meanwhile the
agreement is past its breach notice's remedy period: the pending appeal holds the referral exactly
as the pending renegotiation did. The demo policy: 15 working days to appeal
(``calendar.units.appeal_window``), a statement of 20 to 4000 characters, at least one piece of
new evidence, one appeal per decision; breach notice at DPD 15 with 14 calendar days to remedy.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from forbear_shared.events import encode, new_event
from forbear_shared.events.schemas.intake import CaseSubmitted

from tests.integration.test_evaluation_flow import send as send_raw
from tests.integration.test_evaluation_flow import submission
from tests.integration.test_monitoring_support import (
    activate,
    advance,
    advance_to,
    agreement,
    business_date,
    events,
    three_month_schedule,
)
from tests.support.calendar import plain_first_due, policy, working_day
from tests.support.http import client
from tests.support.infra import eventually, read_topic

pytestmark = pytest.mark.integration

DAY = dt.timedelta(days=1)
POLICY = policy()
GROUNDS = "Both silent months were spent in hospital after the accident; the discharge summary shows it."


def fifteen_working_days_after(day: dt.date) -> dt.date:
    """The window's last day, counted off the holiday table itself (the day of the decision not counted)."""
    counted = 0
    while counted < POLICY.appeals.window_days:
        day += DAY
        counted += working_day(day)
    return day


def evaluation_date() -> dt.date:
    with client("evaluation", role="agent") as api:
        return dt.date.fromisoformat(api.get("/business-date").json()["business_date"])


def case_events(infra: Any, case_id: str, type_: str, count: int) -> list[dict[str, Any]]:
    def found() -> list[dict[str, Any]]:
        listed = [json.loads(m.value) for m in read_topic(infra, "evaluation.events", timeout=5)
                  if m.key == case_id.encode()]
        listed = [e for e in listed if e["type"] == type_]
        return listed if len(listed) >= count else []

    result: list[dict[str, Any]] = eventually(found, timeout=60)
    return result


def renegotiation_submitted(infra: Any, case_id: str, ids: dict[str, str], today: dt.date) -> None:
    base = submission(case_id, ids["borrower_id"], history={"no_contact_delinquencies_24m": 2},
                      renegotiates_agreement_id=ids["agreement_id"], opened_on=today.isoformat(),
                      evidence_deadline=(today + 14 * DAY).isoformat())
    loans = [loan.model_copy(update={"as_of": today, "loan_id": ids["loan_id"], "borrower_id": ids["borrower_id"]})
             for loan in base.loans]
    payload = CaseSubmitted.model_validate({**base.model_dump(mode="json"), "loans": [
        loan.model_dump(mode="json") for loan in loans]})
    event = new_event(type="case.submitted", payload=payload, case_id=case_id, business_date=today,
                      producer="intake", occurred_at=dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC))
    send_raw(infra, "intake.events", case_id, encode(event))


def test_a_declined_borrower_appeals_and_a_second_supervisor_overturns_while_referral_waits(stack, infra) -> None:
    today = business_date()
    schedule = three_month_schedule(plain_first_due(today + 10 * DAY))
    due = schedule.instalments[0].due_date
    ids = activate(infra, schedule=schedule, on=today)
    breach_on = due + 18 * DAY  # DPD 15 after 3 days' grace (at most): the breach notice, 14 days to remedy
    advance_to(breach_on)
    assert agreement(ids["agreement_id"])["level"] == "breach_notice"
    today = business_date()
    eventually(lambda: evaluation_date() == today)

    # the renegotiation goes to a supervisor; supervisor A declines it with a written reason
    case_id = f"case-{uuid.uuid4().hex[:10]}"
    renegotiation_submitted(infra, case_id, ids, today)
    [routed] = case_events(infra, case_id, "case.decided", 1)
    assert routed["payload"]["outcome"] == "needs_supervisor"
    assert "appeal_deadline" not in routed["payload"]  # only a decline states the right to appeal

    def open_review() -> dict[str, Any] | None:
        with client("evaluation", role="agent") as api:
            listed = api.get("/reviews", params={"status": "open", "case_id": case_id}).json()["reviews"]
        return listed[0] if listed else None

    review = eventually(open_review)
    with client("evaluation", role="supervisor", subject="sup-a") as sup_a:
        declined = sup_a.post(f"/reviews/{review['review_id']}/decide",
                              json={"outcome": "decline", "reason": "Silent twice while able to call the lender."})
    assert declined.status_code == 200, declined.text
    decline = declined.json()
    deadline = fifteen_working_days_after(d := dt.date.fromisoformat(decline["decided_on"]))
    assert decline["outcome"] == "decline" and decline["decided_by_subject"] == "sup-a"
    assert decline["appeal_deadline"] == deadline.isoformat() and d == today
    [_, decided] = case_events(infra, case_id, "case.decided", 2)
    assert decided["payload"]["appeal_deadline"] == deadline.isoformat()
    eventually(lambda: not agreement(ids["agreement_id"])["pending_renegotiations"])  # the decline ended it

    path = f"/decisions/{decline['decision_id']}/appeals"
    body = {"statement": GROUNDS, "evidence": [{"document_type": "discharge_summary",
                                                "description": "hospital discharge summary, 3 weeks"}]}
    borrower = ids["borrower_id"]
    with client("evaluation", role="borrower", subject=f"portal-{borrower}", borrower_id=borrower) as me:
        # refused input: each a problem with its reason, never a 500
        # the schema states the policy's bounds (20 to 4000 characters, 1 to 10 pieces of evidence) ...
        short = me.post(path, json={**body, "statement": "I disagree."})  # 11 characters
        assert short.status_code == 422 and "statement" in short.text
        no_evidence = me.post(path, json={**body, "evidence": []})
        assert no_evidence.status_code == 422 and "evidence" in no_evidence.text
        # ... and the rules count the grounds trimmed: 15 spaces and 5 letters are 5 characters
        padded = me.post(path, json={**body, "statement": " " * 15 + "short"})
        assert padded.status_code == 422 and padded.json()["reason"] == "statement_too_short"
        nul = me.post(path, json={**body, "statement": GROUNDS + "\x00"})
        assert nul.status_code == 422 and "statement" in nul.text
        huge = me.post(path, json={**body, "statement": "长" * 20001})
        assert huge.status_code == 422 and "statement" in huge.text
        not_a_type = me.post(path, json={**body, "evidence": [{"document_type": "selfie", "description": "x"}]})
        assert not_a_type.status_code == 422
        as_representative = me.post(path, json={**body, "representative_id": "rep-1"})
        assert as_representative.status_code == 403
        assert as_representative.json()["reason"] == "representative_needs_staff"
        lodged = me.post(path, json=body, headers={"Idempotency-Key": f"appeal-{case_id}"})
        assert lodged.status_code == 201, lodged.text
        again = me.post(path, json=body, headers={"Idempotency-Key": f"appeal-{case_id}"})
        assert again.status_code == 201 and again.json() == lodged.json()  # the same request, the same appeal
        twice = me.post(path, json=body)
        assert twice.status_code == 409 and twice.json()["reason"] == "appeal_limit_reached"
        [mine] = me.get(f"/cases/{case_id}/appeals").json()["appeals"]
        assert mine == lodged.json()
    appeal = lodged.json()
    assert (appeal["status"], appeal["lodged_by"], appeal["deadline"]) == ("pending", "borrower", deadline.isoformat())
    assert appeal["decision_decided_by_subject"] is None  # a borrower is not told who decided

    with client("evaluation", role="borrower", subject="portal-other", borrower_id="someone-else") as stranger:
        not_yours = stranger.post(path, json=body)
        assert not_yours.status_code == 404 and not_yours.json()["reason"] == "decision_not_found"
        assert stranger.get(f"/cases/{case_id}/appeals").status_code == 404

    [lodged_event] = case_events(infra, case_id, "appeal.lodged", 1)
    assert lodged_event["payload"] == {
        "appeal_id": appeal["appeal_id"], "decision_id": decline["decision_id"], "borrower_id": borrower,
        "lodged_on": today.isoformat(), "deadline": deadline.isoformat(), "lodged_by": "borrower",
        "evidence_types": ["discharge_summary"], "renegotiates_agreement_id": ids["agreement_id"]}
    assert GROUNDS not in json.dumps(lodged_event)  # the borrower's words stay out of the events

    # monitoring heard it: the agreement's referral waits for the appeal
    pending = eventually(lambda: agreement(ids["agreement_id"])["pending_renegotiations"])
    assert pending == [{"case_id": case_id, "state": "appealed"}]
    held_on = breach_on + 15 * DAY  # remedy period (14 days) over: referral is due, but held
    advance(held_on)
    view = agreement(ids["agreement_id"])
    assert view["status"] == "active" and view["level"] == "breach_notice"
    blocked = events(infra, "monitoring.events", ids["agreement_id"], "referral.blocked", min_count=1)
    assert [r["code"] for r in blocked[-1]["payload"]["reasons"]] == ["pending_appeal"]
    assert appeal["appeal_id"] in json.dumps(blocked[-1]["payload"])
    assert events(infra, "legal.referrals", ids["agreement_id"]) == []

    # the supervisors' queue; supervisor A made the decision and may not review its appeal
    with client("evaluation", role="agent") as agent:
        queue = [a for a in agent.get("/appeals").json()["appeals"] if a["case_id"] == case_id]
        assert [(a["appeal_id"], a["decision_decided_by_subject"]) for a in queue] == [(appeal["appeal_id"], "sup-a")]
        decide = f"/appeals/{appeal['appeal_id']}/decide"
        assert agent.post(decide, json={"outcome": "overturn", "reason": "agents do not decide"}).status_code == 403
    with client("evaluation", role="supervisor", subject="sup-a") as sup_a:
        same = sup_a.post(decide, json={"outcome": "uphold", "reason": "I stand by my decision."})
        assert same.status_code == 403 and same.json()["reason"] == "same_supervisor"
    with client("evaluation", role="supervisor", subject="sup-b") as sup_b:
        blank = sup_b.post(decide, json={"outcome": "overturn", "reason": "   "})
        assert blank.status_code == 422 and blank.json()["reason"] == "reason_required"
        overturned = sup_b.post(decide, json={"outcome": "overturn", "reason": "The hospital stay explains both."})
        assert overturned.status_code == 200, overturned.text
        again = sup_b.post(decide, json={"outcome": "uphold", "reason": "second thoughts"})
        assert again.status_code == 409 and again.json()["reason"] == "appeal_overturned"
    result = overturned.json()
    assert (result["status"], result["decided_by_subject"]) == ("overturned", "sup-b")

    # the decline is set aside: a decision by sup-b sends the case back for the appeal's evidence
    [_, _, reopened] = case_events(infra, case_id, "case.decided", 3)
    assert reopened["payload"]["outcome"] == "need_more_evidence"
    assert [r["code"] for r in reopened["payload"]["reasons"]] == ["appeal_overturned"]
    assert reopened["payload"]["decision_id"] == result["outcome_decision_id"]
    [decided_event] = case_events(infra, case_id, "appeal.decided", 1)
    assert decided_event["payload"] == {
        "appeal_id": appeal["appeal_id"], "decision_id": decline["decision_id"], "borrower_id": borrower,
        "outcome": "overturned", "decided_on": evaluation_date().isoformat(),
        "outcome_decision_id": result["outcome_decision_id"], "renegotiates_agreement_id": ids["agreement_id"]}
    # and the renegotiation is in evaluation again: referral still waits
    pending = eventually(lambda: [p for p in agreement(ids["agreement_id"])["pending_renegotiations"]
                                  if p["state"] == "evaluating"])
    assert pending == [{"case_id": case_id, "state": "evaluating"}]
    with client("evaluation", role="borrower", subject=f"portal-{borrower}", borrower_id=borrower) as me:
        superseded = me.post(path, json=body)
        assert superseded.status_code == 409 and superseded.json()["reason"] == "decision_superseded"

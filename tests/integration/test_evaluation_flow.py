"""Evaluation against the real broker and database: case.submitted in, case.decided out.

Events are produced onto the real ``intake.events`` / ``agreement.events`` topics and the
decisions observed on ``evaluation.events`` and through the evaluation API. The numbers come
from the demo lender's policy:

    disposable income     = 8300.00 income - 6100.00 essentials - 300.00 other debts = 1900.00
    affordable instalment = 0.7 (affordable_share_of_disposable_income) x 1900.00   = 1330.00
    original instalment   = 2566.38 > 1900.00, so no capacity to pay (wilful-default indicator)

Set ``FORBEAR_TEST_SERVICES=evaluation`` to start only the evaluation processes (useful while
another service is being built); by default the whole stack runs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from forbear_shared.devstack import Stack
from forbear_shared.events import encode, new_event
from forbear_shared.events.schemas.agreement import OfferCountered
from forbear_shared.events.schemas.intake import CaseSubmitted
from forbear_shared.policy_loader import load_policy

from tests.support.calendar import payable_on
from tests.support.http import PORT_OFFSET, client, worker_metrics_url
from tests.support.infra import eventually, producer, read_topic

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
SUBMITTED_ON = dt.date(2026, 3, 10)
POLICY = load_policy()
DISPOSABLE = Decimal("8300.00") - Decimal("6100.00") - Decimal("300.00")
AFFORDABLE = (POLICY.evaluation.affordable_share_of_disposable_income * DISPOSABLE).quantize(Decimal("0.01"))
ORIGINAL_INSTALMENT = Decimal("2566.38")


@pytest.fixture(scope="module")
def services(request: pytest.FixtureRequest, infra: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    if os.environ.get("FORBEAR_TEST_SERVICES") != "evaluation":
        yield request.getfixturevalue("stack")
        return
    only = Stack(Path(tmp_path_factory.mktemp("evaluation-only")), infra.service_env(), port_offset=PORT_OFFSET)
    names = ["evaluation-api", "evaluation-worker"]
    try:
        only.up(names)
        yield only
    finally:
        only.down()


# -- building what intake would send -----------------------------------------------------------

def new_case_id() -> str:
    return f"case-{uuid.uuid4().hex[:10]}"


def submission(case_id: str, borrower_id: str, **changes: Any) -> CaseSubmitted:
    """An unemployed borrower: benefit 1900.00 + spouse 6400.00, both documents accepted."""
    data: dict[str, Any] = {
        "borrower_id": borrower_id,
        "submission": 1,
        "hardship_category": "unemployment",
        "channel": "phone",
        "dpd_at_first_contact": 19,
        "opened_on": "2026-03-02",
        "loans": [{
            "loan_id": f"loan-{case_id}", "borrower_id": borrower_id, "original_principal": "70000.00",
            "outstanding_principal": "51582.38", "annual_rate": "0.096", "original_term_months": 36,
            "remaining_term_months": 22, "contractual_instalment": str(ORIGINAL_INSTALMENT),
            "overdue_principal": "4256.30", "overdue_interest": "876.46", "penalty_interest": "38.20",
            "days_past_due": 40, "as_of": "2026-03-10",
        }],
        "statement": {
            "income": [{"category": "unemployment_benefit", "monthly_amount": "1900.00"},
                       {"category": "spouse_salary", "monthly_amount": "6400.00"}],
            "essential_expenditure": [{"category": "rent", "monthly_amount": "3000.00"},
                                      {"category": "food_household", "monthly_amount": "1800.00"},
                                      {"category": "utilities", "monthly_amount": "400.00"},
                                      {"category": "childcare", "monthly_amount": "600.00"},
                                      {"category": "transport", "monthly_amount": "300.00"}],
            "other_debt_payments": [{"category": "credit_card", "monthly_amount": "300.00"}],
            "dependants": 1,
            "gross_monthly_income": "10500.00",
        },
        "evidence": [
            {"document_id": f"{case_id}-d1", "document_type": "termination_letter", "status": "accepted",
             "sha256": "a" * 64},
            {"document_id": f"{case_id}-d2", "document_type": "unemployment_registration", "status": "accepted",
             "sha256": "b" * 64},
        ],
        "evidence_deadline": "2026-03-16",
    }
    data.update(changes)
    return CaseSubmitted.model_validate(data)


def submitted_event(case_id: str, payload: CaseSubmitted) -> Any:
    return new_event(type="case.submitted", payload=payload, case_id=case_id, business_date=SUBMITTED_ON,
                     producer="intake", occurred_at=NOW)


def send(infra: Any, topic: str, key: str, value: bytes) -> None:
    kafka = producer(infra)
    try:
        kafka.send(infra.topic(topic), key=key.encode(), value=value).get(timeout=30)
        kafka.flush()
    finally:
        kafka.close()


def submit(infra: Any, case_id: str, payload: CaseSubmitted) -> Any:
    event = submitted_event(case_id, payload)
    send(infra, "intake.events", case_id, encode(event))
    return event


def decided_events(infra: Any, case_id: str, count: int = 1) -> list[dict[str, Any]]:
    def found() -> list[dict[str, Any]]:
        events = [json.loads(m.value) for m in read_topic(infra, "evaluation.events", timeout=5)
                  if m.key == case_id.encode()]
        events = [e for e in events if e["type"] == "case.decided"]
        return events if len(events) >= count else []

    return eventually(found, timeout=60)


def decisions(case_id: str, role: str = "agent", borrower_id: str | None = None) -> httpx.Response:
    with client("evaluation", role=role, borrower_id=borrower_id) as api:
        return api.get(f"/cases/{case_id}/decisions")


def worker_metric(name: str, **labels: str) -> float:
    text = httpx.get(worker_metrics_url("evaluation"), timeout=5).text
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
        if match and all(f'{k}="{v}"' in (match.group(1) or "") for k, v in labels.items()):
            total += float(match.group(2))
    return total


def assert_schedule_is_whole(offer: dict[str, Any]) -> None:
    schedule = offer["schedule"]
    assert len(schedule["instalments"]) == offer["term_months"]
    principal = sum(Decimal(i["principal"]) for i in schedule["instalments"])
    assert principal == Decimal(schedule["principal"])  # principal parts sum exactly to the principal


# -- the scenarios ----------------------------------------------------------------------------------

def test_unemployed_borrower_with_complete_evidence_is_approved_with_ranked_offers(services, infra) -> None:
    case_id, borrower = new_case_id(), f"b-{uuid.uuid4().hex[:6]}"
    submit(infra, case_id, submission(case_id, borrower))

    [event] = decided_events(infra, case_id)
    payload = event["payload"]
    assert payload["outcome"] == "approve"
    assert payload["decided_by"] == "rules"
    assert payload["policy_version"] == POLICY.version == "demo-lender-2026.1"
    assert [o["rank"] for o in payload["offers"]] == list(range(1, len(payload["offers"]) + 1))
    first = payload["offers"][0]
    assert first["option"] == "term_extension"
    assert first["old_instalment"] == "2566.38"
    assert Decimal(first["new_instalment"]) <= AFFORDABLE == Decimal("1330.00")
    # the waterfall's plan: 1328.13 a month over 46 months at 3.85 %
    assert (first["new_instalment"], first["term_months"], first["annual_rate"]) == ("1328.13", 46, "0.0385")
    # every offer discloses its APR; an annuity with a regular first month costs its nominal
    # rate (monthly IRR 0.0385 / 12 x 12), the cents of rounding below 0.0001 %
    assert first["apr"] == "0.038500"
    assert all(Decimal(o["apr"]) > 0 for o in payload["offers"])
    assert_schedule_is_whole(first)
    codes = [r["code"] for r in payload["reasons"]]
    assert "affordable_plan_found" in codes and "value_test_passed" in codes

    response = decisions(case_id)
    assert response.status_code == 200
    [decision] = response.json()["decisions"]
    assert decision["decision_id"] == payload["decision_id"]
    assert decision["assessment"]["affordable_instalment"] == "1330.00"
    assert decision["assessment"]["disposable_income"] == "1900.00"
    assert decision["offers"][0]["schedule"] == first["schedule"]

    # the borrower sees their own case; another borrower is told it does not exist
    assert decisions(case_id, role="borrower", borrower_id=borrower).status_code == 200
    assert decisions(case_id, role="borrower", borrower_id="someone-else").status_code == 404
    assert decisions(case_id, role="system").status_code == 403

    assert worker_metric("forbear_decisions_total", outcome="approve") >= 1
    assert worker_metric("forbear_time_to_first_decision_days_count") >= 1


def test_a_weekly_loan_is_restructured_weekly_and_judged_on_its_payments_a_month(services, infra) -> None:
    # services/evaluation/examples/weekly-extended.json through the broker: 24,000.00 + 1,900.00
    # + 60.00 (penalty 20.00 waived) = 25,960.00 at 12 %, weekly (i = 0.12 x 7 / 360);
    # 21 months = 91 weeks would be 316.96 a week = 1,373.51 a month > 1,330.00;
    # 22 months = floor(22 x 52 / 12) = 95 weeks of 304.99 = 1,321.62 a month
    case_id, borrower = new_case_id(), f"b-{uuid.uuid4().hex[:6]}"
    weekly = {
        "loan_id": f"loan-{case_id}", "borrower_id": borrower, "original_principal": "40000.00",
        "outstanding_principal": "24000.00", "annual_rate": "0.12", "original_term_months": 24,
        "remaining_term_months": 12, "contractual_instalment": "490.80", "overdue_principal": "1900.00",
        "overdue_interest": "60.00", "penalty_interest": "20.00", "days_past_due": 20, "as_of": "2026-03-10",
        "repayment_frequency": "weekly",
    }
    submit(infra, case_id, submission(case_id, borrower, loans=[weekly]))

    [event] = decided_events(infra, case_id)
    payload = event["payload"]
    assert payload["outcome"] == "approve"
    first = payload["offers"][0]
    assert (first["option"], first["new_instalment"], first["term_months"]) == ("term_extension", "304.99", 95)
    schedule = first["schedule"]
    assert schedule["frequency"] == "weekly" and schedule["principal"] == "25960.00"
    # the plan starts on evaluation's business date (wherever the session's date is) and falls due
    # a week later, then every week; a due date on a closed day is payable the next working day
    start = dt.date.fromisoformat(event["business_date"])
    assert schedule["start_date"] == start.isoformat()
    assert schedule["instalments"][0]["due_date"] == payable_on(start + dt.timedelta(days=7)).isoformat()
    assert schedule["instalments"][0]["interest"] == "60.57"  # 25,960 x 0.12 x 7 / 360 = 60.573
    assert_schedule_is_whole(first)


def test_borrower_whose_income_covers_the_instalment_and_who_twice_went_silent_is_declined_as_wilful(
    services, infra
) -> None:
    case_id, borrower = new_case_id(), f"b-{uuid.uuid4().hex[:6]}"
    # disposable income 12000.00 - 5000.00 = 7000.00 covers the original instalment 2566.38
    statement = {"income": [{"category": "salary", "monthly_amount": "12000.00"}],
                 "essential_expenditure": [{"category": "rent", "monthly_amount": "5000.00"}]}
    submit(infra, case_id, submission(case_id, borrower, statement=statement,
                                      history={"no_contact_delinquencies_24m": 2}))

    [event] = decided_events(infra, case_id)
    payload = event["payload"]
    assert payload["outcome"] == "decline"
    assert payload["offers"] == []
    reasons = {r["code"]: r["detail"] for r in payload["reasons"]}
    assert "capacity_to_pay" in reasons and "repeated_no_contact_delinquency" in reasons
    assert "7000.00" in reasons["capacity_to_pay"] and "2566.38" in reasons["capacity_to_pay"]
    assert reasons["repeated_no_contact_delinquency"].startswith("2 earlier overdue episodes")


def test_incomplete_evidence_past_its_deadline_is_declined_for_missing_evidence(services, infra) -> None:
    case_id, borrower = new_case_id(), f"b-{uuid.uuid4().hex[:6]}"
    only_letter = [{"document_id": f"{case_id}-d1", "document_type": "termination_letter", "status": "accepted",
                    "sha256": "a" * 64}]
    submit(infra, case_id, submission(case_id, borrower, evidence=only_letter, evidence_deadline="2026-03-09",
                                      evidence_deadline_passed=True))

    [event] = decided_events(infra, case_id)
    payload = event["payload"]
    assert payload["outcome"] == "decline"
    reasons = {r["code"]: r["detail"] for r in payload["reasons"]}
    assert "evidence_deadline_expired" in reasons
    assert "unemployment_registration" in reasons["evidence_deadline_expired"]


def test_incomplete_evidence_before_its_deadline_asks_for_more(services, infra) -> None:
    case_id, borrower = new_case_id(), f"b-{uuid.uuid4().hex[:6]}"
    pending = [{"document_id": f"{case_id}-d1", "document_type": "termination_letter", "status": "accepted",
                "sha256": "a" * 64},
               {"document_id": f"{case_id}-d2", "document_type": "unemployment_registration", "status": "pending",
                "sha256": "b" * 64}]
    submit(infra, case_id, submission(case_id, borrower, evidence=pending, evidence_deadline="2099-01-01"))
    [event] = decided_events(infra, case_id)
    assert event["payload"]["outcome"] == "need_more_evidence"
    assert {r["code"] for r in event["payload"]["reasons"]} >= {"evidence_incomplete"}

    # new evidence: intake submits again (submission 2) and the case is re-evaluated
    submit(infra, case_id, submission(case_id, borrower, submission=2))
    events = decided_events(infra, case_id, count=2)
    assert [e["payload"]["submission"] for e in events] == [1, 2]
    assert events[1]["payload"]["outcome"] == "approve"


def test_a_case_routed_to_a_supervisor_is_decided_with_a_written_reason_and_audited(services, infra) -> None:
    case_id, borrower = new_case_id(), f"b-{uuid.uuid4().hex[:6]}"
    # two silent delinquencies without capacity to pay: not a decline indicator in this policy, so a supervisor decides
    assert "repeated_no_contact_delinquency" not in POLICY.evaluation.wilful_default.decline_indicators
    submit(infra, case_id, submission(case_id, borrower, history={"no_contact_delinquencies_24m": 2}))
    [rules_event] = decided_events(infra, case_id)
    assert rules_event["payload"]["outcome"] == "needs_supervisor"
    assert rules_event["payload"]["offers"][0]["new_instalment"] == "1328.13"

    def open_review() -> dict[str, Any] | None:
        with client("evaluation", role="agent") as api:  # agents may read the queue
            reviews = api.get("/reviews", params={"status": "open"}).json()["reviews"]
        return next((r for r in reviews if r["case_id"] == case_id), None)

    review = eventually(open_review)
    assert review["decision_id"] == rules_event["payload"]["decision_id"]
    path = f"/reviews/{review['review_id']}/decide"
    reason = "Both silent episodes fell in the borrower's documented hospital stay."

    with client("evaluation", role="agent") as agent:
        assert agent.post(path, json={"outcome": "approve", "reason": reason}).status_code == 403
    with client("evaluation", role="borrower", borrower_id=borrower) as own:
        assert own.post(path, json={"outcome": "approve", "reason": reason}).status_code == 403

    with client("evaluation", role="supervisor", subject="sup-li") as sup:
        assert sup.post(path, json={"outcome": "approve", "reason": ""}).status_code == 422
        blank = sup.post(path, json={"outcome": "approve", "reason": "   "})
        assert blank.status_code == 422 and blank.json()["reason"] == "reason_required"
        assert sup.post(path, json={"outcome": "approve", "reason": reason, "offer_ranks": [9]}).status_code == 409
        unknown_field = sup.post(path, json={"outcome": "approve", "reason": reason, "override": True})
        assert unknown_field.status_code == 422 and "override" in str(unknown_field.json()["detail"])
        huge_rank = sup.post(path, json={"outcome": "approve", "reason": reason, "offer_ranks": [10**30]})
        assert huge_rank.status_code == 422 and "offer_ranks" in str(huge_rank.json()["detail"])
        assert sup.post("/reviews/rev-unknown/decide", json={"outcome": "approve", "reason": reason}).status_code == 404

        body = {"outcome": "approve", "reason": reason, "offer_ranks": [1]}
        decided = sup.post(path, json=body, headers={"Idempotency-Key": f"k-{case_id}"})
        assert decided.status_code == 200, decided.text
        decision = decided.json()
        assert (decision["outcome"], decision["decided_by"], decision["override_reason"]) == (
            "approve", "supervisor", reason)
        assert decision["decided_by_subject"] == "sup-li"
        assert decision["supersedes_decision_id"] == review["decision_id"]
        assert [o["rank"] for o in decision["offers"]] == [1]

        # the same request again with its key is the same answer; without it, a second decision is refused
        replay = sup.post(path, json=body, headers={"Idempotency-Key": f"k-{case_id}"})
        assert replay.status_code == 200 and replay.json()["decision_id"] == decision["decision_id"]
        reused = sup.post(path, json={**body, "outcome": "decline"}, headers={"Idempotency-Key": f"k-{case_id}"})
        assert reused.status_code == 409
        twice = sup.post(path, json={"outcome": "decline", "reason": "changed my mind"})
        assert twice.status_code == 409 and twice.json()["reason"] == "review_decided"

        detail = sup.get(f"/reviews/{review['review_id']}").json()
    assert detail["status"] == "decided" and detail["outcome_decision_id"] == decision["decision_id"]
    audit = detail["audit"]
    assert [a["action"] for a in audit] == ["opened", "approved"]
    assert audit[1]["actor_subject"] == "sup-li" and audit[1]["actor_role"] == "supervisor"
    assert audit[1]["reason"] == reason
    assert audit[1]["before"]["outcome"] == "needs_supervisor" and audit[1]["after"]["outcome"] == "approve"

    events = decided_events(infra, case_id, count=2)
    supervisor_event = events[1]["payload"]
    assert supervisor_event["decided_by"] == "supervisor"
    assert supervisor_event["override_reason"] == reason
    assert supervisor_event["outcome"] == "approve"
    assert supervisor_event["decision_id"] == decision["decision_id"]
    assert "supervisor_approved" in [r["code"] for r in supervisor_event["reasons"]]

    # the borrower sees the outcome, not which supervisor decided it
    mine = decisions(case_id, role="borrower", borrower_id=borrower).json()["decisions"]
    assert mine[-1]["outcome"] == "approve" and mine[-1]["decided_by_subject"] is None


def test_a_counter_proposal_is_met_within_policy_or_declined_with_the_limit_named(services, infra) -> None:
    case_id, borrower = new_case_id(), f"b-{uuid.uuid4().hex[:6]}"
    submit(infra, case_id, submission(case_id, borrower))
    decided_events(infra, case_id)

    def counter(**terms: Any) -> None:
        payload = OfferCountered(offer_id=f"offer-{uuid.uuid4().hex[:6]}", borrower_id=borrower,
                                 countered_on=SUBMITTED_ON, **terms)
        event = new_event(type="offer.countered", payload=payload, case_id=case_id, business_date=SUBMITTED_ON,
                          producer="agreement", occurred_at=NOW)
        send(infra, "agreement.events", case_id, encode(event))

    counter(proposed_instalment=Decimal("1200.00"))  # below the 1328.13 offered: more concessions needed
    met = decided_events(infra, case_id, count=2)[1]["payload"]
    reasons = {r["code"]: r["detail"] for r in met["reasons"]}
    assert "counter_proposal_met" in reasons
    assert met["outcome"] == "approve"
    [offer] = met["offers"]
    assert Decimal(offer["new_instalment"]) <= Decimal("1200.00")

    # 14 months already run + 60 new = 74, above max_total_term_months = 60
    counter(proposed_term_months=60)
    declined = decided_events(infra, case_id, count=3)[2]["payload"]
    reasons = {r["code"]: r["detail"] for r in declined["reasons"]}
    assert "max_total_term_months" in reasons["counter_proposal_declined"]
    assert declined["outcome"] == "approve"  # the plans the lender can offer are offered again
    assert declined["offers"][0]["new_instalment"] == "1328.13"


def test_a_poison_event_goes_to_the_dead_letter_topic_and_the_next_is_decided(services, infra) -> None:
    case_id, borrower = new_case_id(), f"b-{uuid.uuid4().hex[:6]}"
    broken_id = new_case_id()
    # schema-valid, but the loan belongs to another borrower: the handler refuses it every time
    wrong_owner = submission(broken_id, borrower)
    wrong_owner = wrong_owner.model_copy(update={
        "loans": [wrong_owner.loans[0].model_copy(update={"borrower_id": "another-borrower"})]})
    send(infra, "intake.events", case_id, b"{not json")
    send(infra, "intake.events", case_id, encode(submitted_event(broken_id, wrong_owner)))
    submit(infra, case_id, submission(case_id, borrower))

    [event] = decided_events(infra, case_id)
    assert event["payload"]["outcome"] == "approve"

    def dead_letters() -> dict[str, Any]:
        found: dict[str, Any] = {}
        for message in read_topic(infra, "evaluation.dlq", timeout=5):
            headers = {k: v.decode() for k, v in message.headers}
            if message.value == b"{not json":
                found["malformed"] = headers
            elif broken_id.encode() in message.value:
                found["handler"] = headers
        return found if len(found) == 2 else {}

    found = eventually(dead_letters, timeout=60)
    assert found["malformed"]["dlq.reason"] == "malformed"
    assert found["malformed"]["dlq.consumer"] == "evaluation"
    assert found["malformed"]["dlq.origin.topic"] == infra.topic("intake.events")
    assert found["handler"]["dlq.reason"] == "handler_failed"
    assert "borrower" in found["handler"]["dlq.error"]
    assert decisions(broken_id).status_code == 404  # nothing half-written


def test_the_same_submission_delivered_twice_is_decided_once(services, infra) -> None:
    case_id, borrower = new_case_id(), f"b-{uuid.uuid4().hex[:6]}"
    raw = encode(submitted_event(case_id, submission(case_id, borrower)))
    duplicates_before = worker_metric("forbear_consumer_events_total", consumer="evaluation", outcome="duplicate")
    send(infra, "intake.events", case_id, raw)
    send(infra, "intake.events", case_id, raw)

    eventually(lambda: worker_metric("forbear_consumer_events_total", consumer="evaluation",
                                     outcome="duplicate") > duplicates_before, timeout=60)
    assert len(decided_events(infra, case_id)) == 1
    assert len(decisions(case_id).json()["decisions"]) == 1


def test_submissions_sent_while_the_worker_is_dead_are_each_decided_once_after_restart(services, infra) -> None:
    """The faust worker killed (SIGKILL) mid-stream: nothing it had not committed is skipped or doubled."""
    borrower = f"b-{uuid.uuid4().hex[:6]}"
    before = [new_case_id() for _ in range(3)]
    for case_id in before:
        submit(infra, case_id, submission(case_id, borrower))
    services.kill("evaluation-worker")
    during = [new_case_id() for _ in range(5)]
    for case_id in during:
        submit(infra, case_id, submission(case_id, borrower))
    services.start("evaluation-worker")
    services.wait_ready(["evaluation-worker"])

    for case_id in before + during:
        assert len(decided_events(infra, case_id)) >= 1
        assert len(decisions(case_id).json()["decisions"]) == 1

"""Personal data and evidence of closed cases are erased when the policy's retention runs out,
on the lender's business date, by the intake worker's scheduled job; a case referred to legal
is on hold; what was erased is recorded without the data itself.

The five years are not waited for: the cases' closing dates are moved back in intake's table,
against the business date intake knows.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from forbear_intake.adapters.evidence_store import EvidenceMissing, S3EvidenceStore
from forbear_shared.domain.calendar import add_months
from forbear_shared.events import encode, new_event
from forbear_shared.events.schemas.agreement import AgreementActivated
from forbear_shared.events.schemas.evaluation import CaseDecided
from forbear_shared.events.schemas.monitoring import AgreementReferred

from tests.integration.test_intake_api import PDF, business_date, events_of, new_borrower, open_case, upload
from tests.support.http import client
from tests.support.infra import TestInfra, eventually, producer

pytestmark = pytest.mark.integration

GOLDEN = Path(__file__).parents[1] / "contract" / "golden"
FIVE_YEARS = 60  # months: the demo policy's [retention] personal_data_years = 5
NAME, NATIONAL_ID, PHONE = "王小明", "310101199001011234", "13812345678"


def _publish(infra: TestInfra, topic: str, type_: str, case_id: str, payload: Any, producer_name: str) -> None:
    event = new_event(type=type_, payload=payload, case_id=case_id, business_date=dt.date(2026, 1, 5),
                      producer=producer_name, occurred_at=dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC))
    kafka = producer(infra)
    kafka.send(infra.topic(topic), key=case_id.encode(), value=encode(event)).get(timeout=30)
    kafka.close()


def _decline(infra: TestInfra, case: dict) -> None:
    decided = CaseDecided(decision_id=f"E-{uuid.uuid4().hex[:8]}", borrower_id=case["borrower_id"],
                          outcome="decline", reasons=[{"code": "capacity_to_pay"}],
                          policy_version="demo-lender-2026.1", decided_on=dt.date(2026, 1, 5), submission=1)
    _publish(infra, "evaluation.events", "case.decided", case["case_id"], decided, "evaluation")


def _intake_case(infra: TestInfra, case_id: str) -> dict:
    with infra.connect("intake") as conn:
        row = conn.execute("select * from cases where case_id = %s", (case_id,)).fetchone()
    assert row is not None
    return row


def _closed_on(infra: TestInfra, case_id: str, on: dt.date) -> None:
    with infra.connect("intake") as conn:
        conn.execute("update cases set closed_on = %s where case_id = %s", (on, case_id))


def _status(case_id: str, status: str) -> dict | None:
    with client("intake", role="supervisor") as api:
        case = api.get(f"/cases/{case_id}").json()
    return case if case["status"] == status else None


def _stored(store: S3EvidenceStore, sha256: str) -> bool:
    try:
        store.get(sha256)
    except EvidenceMissing:
        return False
    return True


def _erased(infra: TestInfra, case_id: str) -> dict | None:
    row = _intake_case(infra, case_id)
    return row if row["personal_data_erased_on"] is not None else None


def test_a_declined_case_is_erased_five_years_after_it_closed_and_the_erasure_recorded(stack, infra) -> None:
    store = S3EvidenceStore(infra.evidence)  # where the services keep evidence in the tests
    own_bytes = PDF + f"% {uuid.uuid4()}\n".encode()
    case = open_case()
    cid = case["case_id"]
    other = open_case()  # another borrower's case holding a document of the same bytes as one of ours
    with client("intake") as api:
        own = upload(api, cid, "termination_letter", own_bytes).json()
        same = upload(api, cid, "unemployment_registration", PDF).json()
        assert upload(api, other["case_id"], "termination_letter", PDF).status_code == 201
        assert api.put(f"/cases/{cid}/statement", json={
            "income": [{"category": "unemployment_benefit", "monthly_amount": "2100.00"}],
            "essential_expenditure": [{"category": "rent", "monthly_amount": "900.00"}]}).status_code == 200
        assert api.post(f"/cases/{cid}/contacts", json={
            "party": "borrower", "channel": "phone", "local_time": "10:00",
            "note": f"call back on {PHONE}"}).status_code == 201
    assert _stored(store, own["sha256"]) and _stored(store, same["sha256"])

    _decline(infra, case)
    eventually(lambda: _status(cid, "declined"), timeout=60)
    # the case closed on the business date of the decision it heard
    assert _intake_case(infra, cid)["closed_on"] == dt.date(2026, 1, 5)
    today = business_date()
    _closed_on(infra, cid, add_months(today, -FIVE_YEARS))  # closed five years ago today: due

    erased = eventually(lambda: _erased(infra, cid), timeout=60)
    assert erased["personal_data_erased_on"] == today
    with client("intake", role="supervisor") as api:
        view = api.get(f"/cases/{cid}").json()
        gone = api.get(f"/cases/{cid}/evidence/{own['document_id']}/content")
    assert {k: view["borrower"][k] for k in ("name", "national_id", "phone")} == {
        "name": None, "national_id": None, "phone": None}
    assert view["story"] == "" and view["statement"] is None
    assert [c["note"] for c in view["contacts"]] == [None]
    # what the statistics need stays
    assert (view["status"], view["hardship_category"], view["channel"], view["dpd_at_first_contact"]) == (
        "declined", "unemployment", "phone", 45)
    assert sorted(d["sha256"] for d in view["documents"]) == sorted([own["sha256"], same["sha256"]])
    assert gone.status_code == 410 and gone.json()["reason"] == "evidence_erased"
    assert not _stored(store, own["sha256"])
    assert _stored(store, same["sha256"])  # the other case's document still needs these bytes
    assert any(e["action"] == "personal_data_erased" and e["reason"] == "closed_case_retention"
               for e in view["timeline"])

    with infra.connect("intake") as conn:
        audit = conn.execute("select subject, subject_id, fields, detail, policy_version, rule, closed_on, "
                             "business_date from personal_data_erasures where case_id = %s order by id",
                             (cid,)).fetchall()
    assert {(a["subject"], a["subject_id"]): a["fields"] for a in audit} == {
        ("case", cid): ["story", "statement"],
        ("contact", view["contacts"][0]["contact_id"]): ["note"],
        ("evidence_document", own["document_id"]): ["file", "original_filename"],
        ("evidence_document", same["document_id"]): ["original_filename"],
        ("borrower", case["borrower_id"]): ["name", "national_id", "phone"],
    }
    assert {(a["policy_version"], a["rule"], a["closed_on"], a["business_date"]) for a in audit} == {
        ("demo-lender-2026.1", "closed_case_retention", add_months(today, -FIVE_YEARS), today)}
    recorded = json.dumps(audit, default=str, ensure_ascii=False)
    assert NAME not in recorded and NATIONAL_ID not in recorded and PHONE not in recorded

    event = events_of(infra, cid, "case.personal_data_erased")[0]
    assert event["business_date"] == today.isoformat()
    assert event["payload"] == {
        "borrower_id": case["borrower_id"], "closed_on": add_months(today, -FIVE_YEARS).isoformat(),
        "erased_on": today.isoformat(), "policy_version": "demo-lender-2026.1", "rule": "closed_case_retention",
        "document_ids": [own["document_id"], same["document_id"]], "borrower_erased": True,
    }
    assert NAME not in json.dumps(event, ensure_ascii=False) and PHONE not in json.dumps(event)


def test_a_case_referred_to_legal_is_kept_and_a_borrowers_open_case_keeps_their_identity(stack, infra) -> None:
    borrower = new_borrower()
    referred, declined, still_open = (open_case(borrower_id=borrower) for _ in range(3))
    golden = json.loads((GOLDEN / "agreement.activated.v1.json").read_text())["event"]["payload"]
    agreement_id = f"A-{uuid.uuid4().hex[:10]}"
    _publish(infra, "agreement.events", "agreement.activated", referred["case_id"],
             AgreementActivated.model_validate({**golden, "agreement_id": agreement_id, "borrower_id": borrower}),
             "agreement")
    eventually(lambda: _status(referred["case_id"], "agreement_active"), timeout=60)
    _publish(infra, "monitoring.events", "agreement.referred", referred["case_id"],
             AgreementReferred(agreement_id=agreement_id, referral_id=f"R-{uuid.uuid4().hex[:8]}",
                               route="lawsuit", on=dt.date(2026, 1, 5)), "monitoring")
    eventually(lambda: _status(referred["case_id"], "legal_referral"), timeout=60)
    _decline(infra, declined)
    eventually(lambda: _status(declined["case_id"], "declined"), timeout=60)

    today = business_date()
    # the referral closed ten years ago, the declined case five: the job sees the referral first
    _closed_on(infra, referred["case_id"], add_months(today, -2 * FIVE_YEARS))
    _closed_on(infra, declined["case_id"], add_months(today, -FIVE_YEARS))
    eventually(lambda: _erased(infra, declined["case_id"]), timeout=60)

    assert _intake_case(infra, referred["case_id"])["personal_data_erased_on"] is None
    event = events_of(infra, declined["case_id"], "case.personal_data_erased")[0]
    assert event["payload"]["borrower_erased"] is False
    with client("intake", role="supervisor") as api:
        kept = api.get(f"/cases/{still_open['case_id']}").json()
        held = api.get(f"/cases/{referred['case_id']}").json()
    assert kept["borrower"]["name"] == NAME and kept["borrower"]["national_id"] == NATIONAL_ID
    assert held["story"] != "" and held["status"] == "legal_referral"
    with infra.connect("intake") as conn:
        subjects = [r["subject"] for r in conn.execute(
            "select subject from personal_data_erasures where case_id = %s order by id", (declined["case_id"],))]
    assert subjects == ["case"]  # no contact notes, no documents, and the borrower kept


def test_evaluation_drops_its_copy_of_an_erased_cases_statement(stack, infra) -> None:
    case = open_case()
    cid = case["case_id"]
    with client("intake") as api:
        assert api.put(f"/cases/{cid}/statement", json={
            "income": [{"category": "unemployment_benefit", "monthly_amount": "2100.00"}],
            "essential_expenditure": [{"category": "rent", "monthly_amount": "900.00"}]}).status_code == 200
        assert api.post(f"/cases/{cid}/submit").status_code == 200
    # evaluation's own decision first (the evidence is missing), then the decline that closes the case
    eventually(lambda: _status(cid, "awaiting_evidence") if _status(cid, "awaiting_evidence") and
               _intake_case(infra, cid)["last_outcome"] else None, timeout=60)

    def evaluation_statement() -> Any:
        with infra.connect("evaluation") as conn:
            row = conn.execute("select submitted from cases where case_id = %s", (cid,)).fetchone()
        return row["submitted"]["statement"] if row else None

    assert evaluation_statement()["income"][0]["monthly_amount"] == "2100.00"
    _decline(infra, case)
    eventually(lambda: _status(cid, "declined"), timeout=60)
    _closed_on(infra, cid, add_months(business_date(), -FIVE_YEARS))
    eventually(lambda: _erased(infra, cid), timeout=60)
    eventually(lambda: evaluation_statement() is None, timeout=60)
    with infra.connect("evaluation") as conn:
        decisions = conn.execute("select outcome from decisions where case_id = %s", (cid,)).fetchall()
    assert [d["outcome"] for d in decisions] == ["need_more_evidence"]  # the lender's record of its decision stays

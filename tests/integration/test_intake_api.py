"""Intake through its HTTP API against the real broker, database and service processes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid

import pytest
from forbear_shared.events import encode, new_event
from forbear_shared.events.schemas.common import LoanSnapshot
from forbear_shared.events.schemas.corebanking import LoanSnapshotted

from tests.support.http import client
from tests.support.infra import eventually, producer, read_events

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00" + b"\x00" * 64


def new_borrower() -> str:
    return f"B-{uuid.uuid4().hex[:10]}"


def business_date() -> dt.date:
    with client("intake") as api:
        return dt.date.fromisoformat(api.get("/business-date").json()["business_date"])


def loan(borrower_id: str, dpd: int = 45, loan_id: str | None = None, as_of: dt.date | None = None) -> dict:
    """A loan as of intake's business date (a declared loan's as_of lies within the policy window of it)."""
    return {
        "loan_id": loan_id or f"L-{uuid.uuid4().hex[:10]}",
        "borrower_id": borrower_id,
        "original_principal": "60000.00",
        "outstanding_principal": "42000.00",
        "annual_rate": "0.0800",
        "original_term_months": 36,
        "remaining_term_months": 20,
        "contractual_instalment": "1880.22",
        "overdue_principal": "2800.00",
        "overdue_interest": "560.00",
        "penalty_interest": "35.00",
        "days_past_due": dpd,
        "as_of": (as_of or business_date()).isoformat(),
    }


def case_body(borrower_id: str, **extra) -> dict:
    body = {
        "borrower": {"borrower_id": borrower_id, "name": "王小明", "national_id": "310101199001011234",
                     "phone": "13812345678"},
        "loans": [loan(borrower_id)],
        "hardship_category": "unemployment",
        "story": "The factory closed in December; my phone is 13812345678.",
        "channel": "phone",
        "history": {"no_contact_delinquencies_24m": 0, "broken_agreements_12m": 0, "declaration_untrue": False},
    }
    body.update(extra)
    return body


def open_case(role: str = "agent", borrower_id: str | None = None, **extra) -> dict:
    borrower_id = borrower_id or new_borrower()
    with client("intake", role=role, borrower_id=borrower_id if role == "borrower" else None) as api:
        body = case_body(borrower_id, **extra)
        if role == "borrower":
            body.pop("history")
        response = api.post("/cases", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def events_of(infra, case_id: str, type_: str, min_count: int = 1) -> list[dict]:
    def found():
        values = read_events(infra, "intake.events", timeout=5)
        hits = [v for v in values if v["case_id"] == case_id and v["type"] == type_]
        return hits if len(hits) >= min_count else None

    return eventually(found, timeout=30)


def upload(api, case_id: str, document_type: str, data: bytes, content_type: str = "application/pdf", **kw):
    return api.post(f"/cases/{case_id}/evidence", data={"document_type": document_type},
                    files={"file": ("scan.pdf", data, content_type)}, **kw)


# -- opening ---------------------------------------------------------------------------------


def test_opening_a_case_announces_it_and_requests_the_evidence_with_a_deadline(stack, infra) -> None:
    with client("intake") as api:
        today = dt.date.fromisoformat(api.get("/business-date").json()["business_date"])
    case = open_case()
    assert case["status"] == "awaiting_evidence"
    assert case["dpd_at_first_contact"] == 45  # default: the largest DPD of the loans
    assert case["evidence_deadline"] == (today + dt.timedelta(days=14)).isoformat()
    assert case["evidence"]["missing"] == ["termination_letter", "unemployment_registration"]
    opened = events_of(infra, case["case_id"], "case.opened")[0]
    assert opened["payload"]["hardship_category"] == "unemployment"
    assert opened["payload"]["loan_ids"] == [case["loans"][0]["loan_id"]]
    requested = events_of(infra, case["case_id"], "evidence.requested")[0]
    assert requested["payload"] == {"missing_document_types": ["termination_letter", "unemployment_registration"],
                                    "deadline": case["evidence_deadline"]}
    # the story and personal data stay in intake
    raw = json.dumps([opened, requested], ensure_ascii=False)
    assert "13812345678" not in raw and "310101199001011234" not in raw and "王小明" not in raw
    assert "factory" not in raw
    assert any(e["action"] == "case_opened" and e["actor"] == "tester" for e in case["timeline"])


def test_the_same_idempotency_key_replays_the_first_case_and_refuses_another_body(stack) -> None:
    borrower = new_borrower()
    body = case_body(borrower)
    key = f"open-{uuid.uuid4()}"
    with client("intake") as api:
        first = api.post("/cases", json=body, headers={"Idempotency-Key": key})
        again = api.post("/cases", json=body, headers={"Idempotency-Key": key})
        other = api.post("/cases", json={**body, "channel": "email"}, headers={"Idempotency-Key": key})
        cases = api.get("/cases", params={"borrower_id": borrower}).json()
    assert first.status_code == 201 and again.status_code == 201
    assert again.json()["case_id"] == first.json()["case_id"]
    assert again.headers.get("Idempotency-Replayed") == "true"
    assert other.status_code == 409 and other.json()["reason"] == "idempotency_key_reused"
    assert len(cases) == 1


def test_a_case_needs_known_loans_of_its_own_borrower(stack) -> None:
    borrower = new_borrower()
    with client("intake") as api:
        unknown = api.post("/cases", json={**case_body(borrower), "loans": [], "loan_ids": ["L-nobody-knows"]})
        foreign = api.post("/cases", json={**case_body(borrower), "loans": [loan(new_borrower())]})
        float_money = case_body(borrower)
        float_money["loans"][0]["outstanding_principal"] = 42000.5
        floats = api.post("/cases", json=float_money)
    assert unknown.status_code == 409 and unknown.json()["reason"] == "unknown_loan"
    assert foreign.status_code == 409 and foreign.json()["reason"] == "loan_not_of_borrower"
    assert floats.status_code == 422


def test_a_borrower_cannot_rewrite_another_borrowers_loan_and_nothing_is_written(stack, infra) -> None:
    victim_case = open_case()
    victim_loan = victim_case["loans"][0]
    before = loan_row(infra, victim_loan["loan_id"])
    attacker = new_borrower()
    rewritten = {**loan(attacker, loan_id=victim_loan["loan_id"]), "outstanding_principal": "1.00",
                 "as_of": (business_date() + dt.timedelta(days=1)).isoformat()}
    with client("intake", role="borrower", borrower_id=attacker) as api:
        declared = api.post("/cases", json={**case_body(attacker), "loans": [rewritten], "history": None})
        named = api.post("/cases", json={**case_body(attacker), "loans": [], "history": None,
                                         "loan_ids": [victim_loan["loan_id"]]})
        own_cases = api.get("/cases").json()
    assert declared.status_code == 409 and declared.json()["reason"] == "loan_of_another_borrower"
    assert named.status_code == 409 and named.json()["reason"] == "loan_of_another_borrower"
    assert loan_row(infra, victim_loan["loan_id"]) == before
    assert own_cases == []
    with infra.connect("intake") as conn:
        assert conn.execute("select 1 from borrowers where borrower_id = %s", (attacker,)).fetchone() is None


def test_a_declared_loan_never_overwrites_core_banking_and_gives_way_to_its_snapshot(stack, infra) -> None:
    borrower = new_borrower()
    today = business_date()
    snapshot = LoanSnapshot.model_validate(loan(borrower, dpd=12, as_of=today))
    publish_snapshot(infra, snapshot)
    eventually(lambda: loan_row(infra, snapshot.loan_id), timeout=30)
    # the borrower declares the same loan with other figures: the case refers to core banking's record
    own_figures = {**loan(borrower, loan_id=snapshot.loan_id, dpd=90), "outstanding_principal": "100.00"}
    with client("intake", role="borrower", borrower_id=borrower) as api:
        referred = api.post("/cases", json={**case_body(borrower), "loans": [own_figures], "history": None})
    assert referred.status_code == 201, referred.text
    assert referred.json()["loans"][0]["outstanding_principal"] == "42000.00"
    assert referred.json()["dpd_at_first_contact"] == 12
    assert loan_row(infra, snapshot.loan_id)["source"] == "corebanking"

    # a loan core banking has not sent yet is declared as of a day ahead (within the window)...
    declared = loan(borrower, as_of=today + dt.timedelta(days=1))
    with client("intake", role="borrower", borrower_id=borrower) as api:
        opened = api.post("/cases", json={**case_body(borrower), "loans": [declared], "history": None})
    assert opened.status_code == 201, opened.text
    assert loan_row(infra, declared["loan_id"])["source"] == "case"
    # ...and core banking's snapshot as of today, older than the declaration, still replaces it
    lender_record = LoanSnapshot.model_validate({**declared, "as_of": today.isoformat(),
                                                 "outstanding_principal": "41000.00"})
    publish_snapshot(infra, lender_record)
    row = eventually(lambda: (lambda r: r if r["source"] == "corebanking" else None)(
        loan_row(infra, declared["loan_id"])), timeout=30)
    assert row["as_of"] == today and row["snapshot"]["outstanding_principal"] == "41000.00"


@pytest.mark.parametrize(("field", "value"), [
    ("currency", "XYZ-not-a-currency"),
    ("original_principal", "1E+400"),
    ("contractual_instalment", "1880.225"),
    ("annual_rate", "55"),
    ("original_term_months", 200_000),
    ("days_past_due", 1_000_000),
])
def test_a_loan_field_out_of_bounds_is_refused_naming_the_field(stack, infra, field, value) -> None:
    borrower = new_borrower()
    bad = {**loan(borrower), field: value}
    with client("intake") as api:
        response = api.post("/cases", json={**case_body(borrower), "loans": [bad]})
    assert response.status_code == 422
    assert field in json.dumps(response.json()["detail"])
    assert loan_row(infra, bad["loan_id"]) is None


@pytest.mark.parametrize("as_of", ["9999-12-31", "0001-01-01"])
def test_a_loan_dated_far_from_the_business_date_is_refused_and_not_written(stack, infra, as_of) -> None:
    """A date in form, but outside the policy's snapshot window (31 days) of the business date."""
    borrower = new_borrower()
    bad = {**loan(borrower), "as_of": as_of}
    with client("intake") as api:
        response = api.post("/cases", json={**case_body(borrower), "loans": [bad]})
    assert response.status_code == 409 and response.json()["reason"] == "as_of_outside_window"
    assert loan_row(infra, bad["loan_id"]) is None


def test_a_declared_loan_outside_the_lenders_policy_is_refused_with_the_reason(stack, infra) -> None:
    """Policy loans: currencies ["CNY"], max_term_months 60, snapshot_window_days 31."""
    borrower = new_borrower()
    today = business_date()
    cases = {
        "currency_not_accepted": {"currency": "USD"},
        "term_above_policy": {"original_term_months": 61, "remaining_term_months": 40},
        "remaining_term_above_original": {"original_term_months": 36, "remaining_term_months": 37},
        "as_of_outside_window": {"as_of": (today - dt.timedelta(days=32)).isoformat()},
        "oldest_unpaid_due_date_out_of_range": {"oldest_unpaid_due_date": (today + dt.timedelta(days=1)).isoformat()},
        "next_due_date_out_of_range": {"next_due_date": (today + dt.timedelta(days=21 * 31)).isoformat()},
        # a re-ageing after the snapshot it is reported with
        "reaged_on_out_of_range": {"reaged_on": [(today + dt.timedelta(days=1)).isoformat()]},
    }
    with client("intake") as api:
        for reason, changes in cases.items():
            bad = {**loan(borrower, as_of=today), **changes}
            response = api.post("/cases", json={**case_body(borrower), "loans": [bad]})
            assert response.status_code == 409, (reason, response.text)
            assert response.json()["reason"] == reason
            assert loan_row(infra, bad["loan_id"]) is None
        window_edge = loan(borrower, as_of=today - dt.timedelta(days=31))
        assert api.post("/cases", json={**case_body(borrower), "loans": [window_edge]}).status_code == 201


def publish_snapshot(infra, snapshot: LoanSnapshot) -> None:
    event = new_event(type="loan.snapshot", payload=LoanSnapshotted(loan=snapshot), case_id=snapshot.loan_id,
                      business_date=snapshot.as_of, producer="corebanking",
                      occurred_at=dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC))
    kafka = producer(infra)
    kafka.send(infra.topic("corebanking.loans"), key=snapshot.loan_id.encode(), value=encode(event)).get(timeout=30)
    kafka.close()


def loan_row(infra, loan_id: str) -> dict | None:
    with infra.connect("intake") as conn:
        return conn.execute("select borrower_id, as_of, source, snapshot from loans where loan_id = %s",
                            (loan_id,)).fetchone()


def test_a_loan_snapshot_from_core_banking_is_consumed_and_opens_a_case_by_loan_id(stack, infra) -> None:
    borrower = new_borrower()
    snapshot = LoanSnapshot.model_validate({**loan(borrower, dpd=12), "loan_id": f"L-{uuid.uuid4().hex[:8]}"})
    publish_snapshot(infra, snapshot)
    body = {**case_body(borrower), "loans": [], "loan_ids": [snapshot.loan_id]}

    def opened():
        with client("intake") as api:
            response = api.post("/cases", json=body)
        return response.json() if response.status_code == 201 else None

    case = eventually(opened, timeout=30)
    assert case["dpd_at_first_contact"] == 12
    assert case["loans"][0]["outstanding_principal"] == "42000.00"


# -- statement -------------------------------------------------------------------------------


def test_a_statement_with_a_negative_amount_is_refused(stack) -> None:
    case = open_case()
    good = {"income": [{"category": "unemployment_benefit", "monthly_amount": "2100.00"}],
            "essential_expenditure": [{"category": "rent", "monthly_amount": "900.00"}], "dependants": 1}
    bad = {**good, "essential_expenditure": [{"category": "rent", "monthly_amount": "-900.00"}]}
    with client("intake") as api:
        refused = api.put(f"/cases/{case['case_id']}/statement", json=bad)
        recorded = api.put(f"/cases/{case['case_id']}/statement", json=good)
    assert refused.status_code == 422
    assert recorded.status_code == 200
    assert recorded.json()["statement"]["income"][0]["monthly_amount"] == "2100.00"


# -- evidence --------------------------------------------------------------------------------


def test_evidence_is_stored_by_sha256_checked_by_its_bytes_and_reviewed_once(stack, infra) -> None:
    case = open_case()
    cid = case["case_id"]
    with client("intake") as api:
        stored = upload(api, cid, "termination_letter", PDF, headers={"Idempotency-Key": f"up-{cid}"})
        replay = upload(api, cid, "termination_letter", PDF, headers={"Idempotency-Key": f"up-{cid}"})
        exe = upload(api, cid, "termination_letter", EXE)
        disguised = upload(api, cid, "termination_letter", PNG, content_type="application/pdf")
        empty = upload(api, cid, "termination_letter", b"")
        unknown_type = upload(api, cid, "horoscope", PDF)
        assert stored.status_code == 201, stored.text
        doc = stored.json()
        content = api.get(f"/cases/{cid}/evidence/{doc['document_id']}/content")
        queue = [c["case_id"] for c in api.get("/cases", params={"status": "evidence_to_review"}).json()]
        no_reason = api.post(f"/cases/{cid}/evidence/{doc['document_id']}/review", json={"outcome": "reject"})
        accepted = api.post(f"/cases/{cid}/evidence/{doc['document_id']}/review", json={"outcome": "accept"})
        twice = api.post(f"/cases/{cid}/evidence/{doc['document_id']}/review", json={"outcome": "accept"})
        after = api.get(f"/cases/{cid}").json()
    assert doc["sha256"] == hashlib.sha256(PDF).hexdigest() and doc["media_type"] == "application/pdf"
    assert replay.status_code == 201 and replay.json()["document_id"] == doc["document_id"]
    assert exe.status_code == 422 and exe.json()["reason"] == "unsupported_file_type"
    assert disguised.status_code == 422 and disguised.json()["reason"] == "content_type_mismatch"
    assert empty.status_code == 422 and empty.json()["reason"] == "empty_file"
    assert unknown_type.status_code == 422 and unknown_type.json()["reason"] == "unknown_document_type"
    assert content.status_code == 200 and content.content == PDF
    assert content.headers["content-type"] == "application/pdf"
    assert cid in queue
    assert no_reason.status_code == 422 and no_reason.json()["reason"] == "rejection_needs_reason"
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert twice.status_code == 409 and twice.json()["reason"] == "already_reviewed"
    assert after["status"] == "awaiting_evidence"  # unemployment registration still missing
    assert len(after["documents"]) == 1
    reviewed = events_of(infra, cid, "evidence.reviewed")[0]["payload"]
    assert reviewed["document_id"] == doc["document_id"] and reviewed["outcome"] == "accepted"
    # in the run's bucket of the object store, content-addressed
    stored = infra.evidence.client().get_object(Bucket=infra.evidence.bucket, Key=f"{doc['sha256'][:2]}/{doc['sha256']}")
    assert stored["Body"].read() == PDF


def test_an_evidence_file_over_the_size_limit_is_refused_with_413(stack) -> None:
    case = open_case()
    big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024)
    with client("intake") as api:
        response = upload(api, case["case_id"], "termination_letter", big)
    assert response.status_code == 413 and response.json()["reason"] == "file_too_large"


# -- contacts --------------------------------------------------------------------------------


def test_a_call_at_23_00_is_refused_logged_and_announced(stack, infra) -> None:
    case = open_case()
    cid = case["case_id"]
    with client("intake") as api:
        refused = api.post(f"/cases/{cid}/contacts",
                           json={"party": "borrower", "channel": "phone", "local_time": "23:00"})
        log = api.get(f"/cases/{cid}/contacts").json()
    assert refused.status_code == 422
    assert refused.json()["reason"] == "outside_contact_hours"
    assert [(c["local_time"], c["outcome"], c["refusal_reasons"]) for c in log] == [
        ("23:00", "refused", ["outside_contact_hours"])]
    event = events_of(infra, cid, "contact.recorded")[0]["payload"]
    assert event["outcome"] == "refused" and event["refusal_reason"] == "outside_contact_hours"


def test_the_eighth_attempt_in_seven_days_is_refused(stack) -> None:
    case = open_case()
    cid = case["case_id"]
    with client("intake") as api:
        allowed = [api.post(f"/cases/{cid}/contacts",
                            json={"party": "borrower", "channel": "phone", "local_time": f"{9 + i:02d}:00"})
                   for i in range(7)]
        eighth = api.post(f"/cases/{cid}/contacts",
                          json={"party": "guarantor", "channel": "phone", "local_time": "17:30"})
        inbound = api.post(f"/cases/{cid}/contacts", json={"party": "borrower", "channel": "phone",
                                                            "direction": "inbound", "local_time": "18:00"})
    assert [r.status_code for r in allowed] == [201] * 7
    assert eighth.status_code == 422 and eighth.json()["reason"] == "too_many_attempts"
    assert inbound.status_code == 201  # the borrower calling the lender is never refused


def test_the_borrowers_phone_contacts_are_never_contacted(stack) -> None:
    case = open_case()
    with client("intake", role="system") as api:
        response = api.post(f"/cases/{case['case_id']}/contacts",
                            json={"party": "phone_contact", "channel": "phone", "local_time": "10:00"})
    assert response.status_code == 422 and response.json()["reason"] == "party_not_allowed"


# -- roles, ownership, masking ---------------------------------------------------------------


def test_personal_data_is_clear_only_to_supervisors(stack) -> None:
    borrower = new_borrower()
    case = open_case(borrower_id=borrower)
    cid = case["case_id"]
    with client("intake", role="supervisor") as api:
        clear = api.get(f"/cases/{cid}").json()["borrower"]
    with client("intake", role="borrower", borrower_id=borrower) as api:
        own = api.get(f"/cases/{cid}").json()["borrower"]
    assert case["borrower"] == {"borrower_id": borrower, "name": "王**", "national_id": "3101**********1234",
                                "phone": "138****5678", "masked": True}
    assert clear["national_id"] == "310101199001011234" and clear["phone"] == "13812345678" and not clear["masked"]
    assert own["masked"] and own["phone"] == "138****5678"


def test_a_borrower_sees_and_acts_only_on_their_own_cases(stack) -> None:
    mine = open_case(role="borrower")
    theirs = open_case()
    me = mine["borrower_id"]
    with client("intake", role="borrower", borrower_id=me) as api:
        listed = {c["borrower_id"] for c in api.get("/cases").json()}
        other = api.get(f"/cases/{theirs['case_id']}")
        other_upload = upload(api, theirs["case_id"], "termination_letter", PDF)
        other_submit = api.post(f"/cases/{theirs['case_id']}/submit")
        for_someone_else = api.post("/cases", json={**case_body(theirs["borrower_id"]), "history": None})
        with_history = api.post("/cases", json=case_body(me))
        review = api.post(f"/cases/{mine['case_id']}/evidence/D-x/review", json={"outcome": "accept"})
        contact = api.post(f"/cases/{mine['case_id']}/contacts",
                           json={"party": "borrower", "channel": "phone", "local_time": "10:00"})
    assert listed == {me}
    assert other.status_code == 404 and other.json()["reason"] == "case_not_found"
    assert other_upload.status_code == 404 and other_submit.status_code == 404
    assert for_someone_else.status_code == 403 and for_someone_else.json()["reason"] == "not_own_borrower"
    assert with_history.status_code == 403 and with_history.json()["reason"] == "history_is_lender_record"
    assert review.status_code == 403 and review.json()["reason"] == "forbidden_role"
    assert contact.status_code == 403


def test_only_a_supervisor_corrects_the_lenders_records_and_says_why(stack) -> None:
    case = open_case()
    body = {"history": {"no_contact_delinquencies_24m": 2, "broken_agreements_12m": 0, "declaration_untrue": False},
            "reason": "two earlier silent delinquencies found in the core banking archive"}
    with client("intake", role="agent") as api:
        refused = api.put(f"/cases/{case['case_id']}/history", json=body)
    with client("intake", role="supervisor", subject="sup-li") as api:
        corrected = api.put(f"/cases/{case['case_id']}/history", json=body)
    assert refused.status_code == 403 and refused.json()["reason"] == "forbidden_role"
    assert corrected.status_code == 200
    assert corrected.json()["history"]["no_contact_delinquencies_24m"] == 2
    audit = [e for e in corrected.json()["timeline"] if e["action"] == "history_corrected"]
    assert audit[0]["actor"] == "sup-li" and audit[0]["reason"].startswith("two earlier")


def test_unknown_case_is_404(stack) -> None:
    with client("intake") as api:
        assert api.get("/cases/C-does-not-exist").status_code == 404
        assert api.post("/cases/C-does-not-exist/submit").status_code == 404


# -- submission ------------------------------------------------------------------------------


def test_submitting_sends_everything_evaluation_needs_once(stack, infra) -> None:
    # a declaration found untrue is declined outright, so the case is never submittable again,
    # whether or not evaluation has answered before the second submission
    case = open_case(history={"no_contact_delinquencies_24m": 0, "broken_agreements_12m": 0,
                              "declaration_untrue": True})
    cid = case["case_id"]
    with client("intake") as api:
        api.put(f"/cases/{cid}/statement", json={
            "income": [{"category": "unemployment_benefit", "monthly_amount": "2100.00"}],
            "essential_expenditure": [{"category": "rent", "monthly_amount": "900.00"}]})
        doc = upload(api, cid, "termination_letter", PDF).json()
        submitted = api.post(f"/cases/{cid}/submit")
        again = api.post(f"/cases/{cid}/submit")
    assert submitted.status_code == 200 and submitted.json()["status"] == "under_evaluation"
    assert again.status_code == 409 and again.json()["reason"] == "case_not_submittable"
    payload = events_of(infra, cid, "case.submitted")[0]["payload"]
    assert payload["submission"] == 1
    assert payload["loans"][0]["loan_id"] == case["loans"][0]["loan_id"]
    assert payload["statement"]["income"][0]["monthly_amount"] == "2100.00"
    assert payload["evidence"] == [{"document_id": doc["document_id"], "document_type": "termination_letter",
                                    "status": "pending", "rejection_reason": None, "found_false": False,
                                    "sha256": doc["sha256"]}]
    assert payload["evidence_deadline"] == case["evidence_deadline"] and not payload["evidence_deadline_passed"]


def test_a_renegotiation_is_announced_and_only_once_per_agreement_in_twelve_months(stack, infra) -> None:
    borrower = new_borrower()
    agreement_id = f"A-{uuid.uuid4().hex[:8]}"
    # the agreement service's activation, as intake hears it
    from forbear_shared.events.schemas.agreement import AgreementActivated

    first = open_case(borrower_id=borrower)
    activated = AgreementActivated.model_validate({
        "agreement_id": agreement_id, "borrower_id": borrower, "loan_ids": [first["loans"][0]["loan_id"]],
        "option": "term_extension", "document_sha256": "a" * 64, "activated_on": "2026-01-05",
        "policy_version": "demo-lender-2026.1",
        "schedule": {"method": "annuity", "principal": "100.00", "annual_rate": "0.07", "day_count": "30/360",
                     "start_date": "2026-01-05", "instalments": [{
                         "number": 1, "due_date": "2026-02-05", "kind": "regular", "opening_balance": "100.00",
                         "principal": "100.00", "interest": "0.58", "fee": "0.00", "total": "100.58",
                         "closing_balance": "0.00"}]},
    })
    event = new_event(type="agreement.activated", payload=activated, case_id=first["case_id"],
                      business_date=dt.date(2026, 1, 5), producer="agreement",
                      occurred_at=dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC))
    kafka = producer(infra)
    kafka.send(infra.topic("agreement.events"), key=first["case_id"].encode(), value=encode(event)).get(timeout=30)
    kafka.close()

    def active():
        with client("intake") as api:
            return api.get(f"/cases/{first['case_id']}").json()["status"] == "agreement_active"

    eventually(active)
    body = case_body(borrower, renegotiates_agreement_id=agreement_id, loans=[],
                     loan_ids=[first["loans"][0]["loan_id"]])
    with client("intake") as api:
        renegotiation = api.post("/cases", json=body)
        second = api.post("/cases", json=body)
        stranger = api.post("/cases", json={**case_body(new_borrower()), "renegotiates_agreement_id": agreement_id})
    assert renegotiation.status_code == 201, renegotiation.text
    assert second.status_code == 409 and second.json()["reason"] == "renegotiation_limit"
    assert stranger.status_code == 422 and stranger.json()["reason"] == "unknown_agreement"
    requested = events_of(infra, renegotiation.json()["case_id"], "renegotiation.requested")[0]["payload"]
    assert requested["agreement_id"] == agreement_id and requested["borrower_id"] == borrower


def test_a_declared_loan_core_banking_then_gives_to_another_borrower_is_not_shown_to_the_declarer(
        stack, infra) -> None:
    declarer, owner = new_borrower(), new_borrower()
    declared = loan(declarer)
    with client("intake", role="borrower", borrower_id=declarer) as api:
        opened = api.post("/cases", json={**case_body(declarer), "loans": [declared], "history": None})
    assert opened.status_code == 201, opened.text
    publish_snapshot(infra, LoanSnapshot.model_validate({**declared, "borrower_id": owner}))
    eventually(lambda: (lambda r: r if r["borrower_id"] == owner else None)(loan_row(infra, declared["loan_id"])),
               timeout=30)
    with client("intake", role="borrower", borrower_id=declarer) as api:
        view = api.get(f"/cases/{opened.json()['case_id']}").json()
    assert view["loans"] == []

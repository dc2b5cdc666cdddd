"""The agreement service against the real broker and database, through its API and topics only.

A ``case.decided`` is produced on ``evaluation.events`` as evaluation would; offers, the
agreement document, signatures and activation are observed through the agreement API and on
``agreement.events``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from forbear_shared.domain.apr import schedule_apr
from forbear_shared.domain.money import Money
from forbear_shared.domain.schedule import Schedule, equal_instalment_schedule
from forbear_shared.events import encode, new_event
from forbear_shared.events.schemas.common import Reason
from forbear_shared.events.schemas.evaluation import CaseDecided, OfferTerms

from tests.support.http import client
from tests.support.infra import DEV_MAILBOX, eventually, producer, read_events, read_topic, signing_code

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
POLICY_VERSION = "demo-lender-2026.1"


# -- helpers -------------------------------------------------------------------------


def business_date(service: str = "agreement") -> dt.date:
    with client(service) as api:
        return dt.date.fromisoformat(api.get("/business-date").json()["business_date"])


def schedule(start: dt.date, principal: str, rate: str, months: int) -> dict[str, Any]:
    first_due = start + dt.timedelta(days=30)
    return equal_instalment_schedule(Money.of(principal), Decimal(rate), months, first_due, start_date=start).to_dict()


def terms(rank: int, option: str, start: dt.date, months: int, old: str = "1100.00") -> OfferTerms:
    plan = schedule(start, "12000.00", "0.06", months)
    return OfferTerms(
        rank=rank,
        option=option,
        schedule=plan,
        new_instalment=Decimal(plan["instalments"][0]["total"]),
        old_instalment=Decimal(old),
        term_months=months,
        annual_rate=Decimal("0.06"),
        capitalised_arrears=Decimal("1250.00"),
        summary=f"{option} over {months} months",
        loan_ids=["LN-0001", "LN-0002"],
        apr=schedule_apr(Schedule.from_dict(plan)).apr,
    )


def publish_decision(
    infra, case_id: str, borrower_id: str, decided_on: dt.date, *, outcome: str = "approve",
    offers: list[OfferTerms] | None = None, renegotiates: str | None = None,
) -> str:
    decision_id = f"dec-{uuid.uuid4().hex[:12]}"
    if offers is None:
        offers = [terms(1, "term_extension", decided_on, 24), terms(2, "term_extension", decided_on, 36)]
    payload = CaseDecided(
        decision_id=decision_id, borrower_id=borrower_id, outcome=outcome,  # type: ignore[arg-type]
        reasons=[Reason(code="affordable_plan_found")], policy_version=POLICY_VERSION,
        offers=offers if outcome == "approve" else [], decided_on=decided_on,
        renegotiates_agreement_id=renegotiates,
    )
    event = new_event(type="case.decided", payload=payload, case_id=case_id, business_date=decided_on,
                      producer="evaluation", occurred_at=NOW)
    kafka = producer(infra)
    kafka.send(infra.topic("evaluation.events"), key=case_id.encode(), value=encode(event)).get(timeout=30)
    kafka.flush()
    return decision_id


def new_case() -> tuple[str, str]:
    return f"case-{uuid.uuid4().hex[:10]}", f"brw-{uuid.uuid4().hex[:10]}"


def offers_of(case_id: str, count: int, decision_id: str | None = None) -> list[dict[str, Any]]:
    def ready() -> list[dict[str, Any]] | None:
        with client("agreement") as api:
            response = api.get(f"/cases/{case_id}/offers")
        if response.status_code != 200:
            return None
        found = [o for o in response.json() if decision_id is None or o["decision_id"] == decision_id]
        return found if len(found) >= count else None

    return sorted(eventually(ready), key=lambda o: o["rank"])


def events(infra, type_: str, case_id: str, min_count: int = 1) -> list[dict[str, Any]]:
    def found() -> list[dict[str, Any]] | None:
        decoded = read_events(infra, "agreement.events", timeout=5)
        matches = [e for e in decoded if e["type"] == type_ and e["case_id"] == case_id]
        return matches if len(matches) >= min_count else None

    return eventually(found)


def recompute_canonical(canonical: str) -> str:
    return json.dumps(json.loads(canonical), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def no_floats(value: Any) -> bool:
    if isinstance(value, float):
        return False
    if isinstance(value, dict):
        return all(no_floats(v) for v in value.values())
    if isinstance(value, list):
        return all(no_floats(v) for v in value)
    return True


# -- the whole flow ----------------------------------------------------------------------


def test_approved_case_gets_offers_then_accept_sign_and_activate(stack, infra) -> None:
    case_id, borrower_id = new_case()
    today = business_date()
    decision_id = publish_decision(infra, case_id, borrower_id, today)

    offers = offers_of(case_id, 2)
    assert [o["status"] for o in offers] == ["open", "open"]
    assert {o["expires_on"] for o in offers} == {(today + dt.timedelta(days=14)).isoformat()}
    first, second = offers
    expected_schedule = schedule(today, "12000.00", "0.06", 24)
    assert first["schedule"] == expected_schedule
    assert first["decision_id"] == decision_id and first["term_months"] == 24

    made = events(infra, "offer.made", case_id, min_count=2)
    assert {e["payload"]["offer_id"] for e in made} == {first["offer_id"], second["offer_id"]}
    assert {e["payload"]["expires_on"] for e in made} == {first["expires_on"]}
    assert made[0]["payload"]["new_instalment"] == expected_schedule["instalments"][0]["total"]
    # the APR is disclosed with every offer: on the event and in the offer view, as decided.
    # 12,000.00 at 6 % over 24 months from a 30-day first period (5 Jan -> 4 Feb): an annuity's
    # APR is its nominal rate but for the cents of rounding and the short first period
    assert {e["payload"]["offer_id"]: e["payload"]["apr"] for e in made} == {
        o["offer_id"]: o["apr"] for o in offers}
    assert all(abs(Decimal(o["apr"]) - Decimal("0.06")) < Decimal("0.001") for o in offers)

    me = client("agreement", role="borrower", subject="portal-user", borrower_id=borrower_id)
    stranger = client("agreement", role="borrower", subject="someone", borrower_id="brw-someone-else")
    assert me.get(f"/cases/{case_id}/offers").status_code == 200
    assert stranger.get(f"/cases/{case_id}/offers").status_code == 404
    assert stranger.post(f"/offers/{first['offer_id']}/accept", json={}).status_code == 404

    # accept, with an idempotency key: the same request replays, another body under the key is refused
    key = {"Idempotency-Key": f"accept-{uuid.uuid4().hex}"}
    accepted = me.post(f"/offers/{first['offer_id']}/accept", json={"payment_method": "account_debit"}, headers=key)
    assert accepted.status_code == 201, accepted.text
    agreement = accepted.json()
    assert agreement["status"] == "awaiting_signatures"
    assert agreement["awaiting_signature_of"] == "borrower"
    replay = me.post(f"/offers/{first['offer_id']}/accept", json={"payment_method": "account_debit"}, headers=key)
    assert replay.status_code == 201 and replay.json() == agreement
    reused = me.post(f"/offers/{first['offer_id']}/accept", json={"payment_method": "branch"}, headers=key)
    assert reused.status_code == 409 and reused.json()["reason"] == "idempotency_key_reused"

    # the other offer of the case was withdrawn, and the accepted one cannot be accepted again
    with client("agreement") as agent:
        statuses = {o["offer_id"]: o["status"] for o in agent.get(f"/cases/{case_id}/offers").json()}
        assert statuses == {first["offer_id"]: "accepted", second["offer_id"]: "withdrawn"}
        again = agent.post(f"/offers/{second['offer_id']}/accept", json={})
        assert again.status_code == 409 and again.json()["reason"] == "offer_not_open"
    accepted_event = events(infra, "offer.accepted", case_id)[0]["payload"]
    assert accepted_event["agreement_id"] == agreement["agreement_id"]
    withdrawn = [e["payload"] for e in events(infra, "offer.withdrawn", case_id)]
    assert withdrawn == [{"offer_id": second["offer_id"], "borrower_id": borrower_id,
                          "withdrawn_on": today.isoformat(), "reason": "another_offer_accepted"}]
    assert accepted_event["offer_id"] == first["offer_id"] and accepted_event["accepted_on"] == today.isoformat()

    # the document: canonical JSON whose sha256 we recompute here, and the rendered text
    agreement_id = agreement["agreement_id"]
    doc = me.get(f"/agreements/{agreement_id}/document").json()
    canonical = doc["canonical_json"]
    assert recompute_canonical(canonical) == canonical
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert doc["document_sha256"] == digest == agreement["document_sha256"]
    content = json.loads(canonical)
    assert no_floats(content)
    assert content["schedule"] == expected_schedule
    assert content["parties"]["borrower"]["borrower_id"] == borrower_id
    assert content["loans"] == [{"loan_id": "LN-0001"}, {"loan_id": "LN-0002"}]
    assert content["policy_version"] == POLICY_VERSION
    assert content["option"]["new_instalment"] == expected_schedule["instalments"][0]["total"]
    assert content["option"]["apr"] == first["apr"] and content["document"]["format_version"] == 2
    assert "年化利率 APR (IRR)" in doc["rendered_text"]
    assert content["payment_method"]["code"] == "account_debit"
    assert content["dates"]["accepted_on"] == today.isoformat()
    assert {t["code"] for t in content["governing_terms"]} >= {"allocation", "escalation", "legal_referral"}
    assert "还款协议" in doc["rendered_text"] and agreement_id in doc["rendered_text"] and digest in doc["rendered_text"]
    assert expected_schedule["instalments"][-1]["total"] in doc["rendered_text"]
    assert stranger.get(f"/agreements/{agreement_id}/document").status_code == 404
    assert stranger.get(f"/agreements/{agreement_id}").status_code == 404

    supervisor = client("agreement", role="supervisor", subject="sup-li")
    agent = client("agreement", role="agent", subject="agent-wang")
    # the lender cannot sign first; signatures name the current document; agents have no lender authority
    early = supervisor.post(f"/agreements/{agreement_id}/signatures", json={"party": "lender", "document_sha256": digest})
    assert early.status_code == 409 and early.json()["reason"] == "borrower_signature_required"
    wrong = me.post(f"/agreements/{agreement_id}/signatures", json={"party": "borrower", "document_sha256": "0" * 64})
    assert wrong.status_code == 409 and wrong.json()["reason"] == "document_hash_mismatch"
    assert me.post(f"/agreements/{agreement_id}/signatures",
                   json={"party": "lender", "document_sha256": digest}).status_code == 403
    assert stranger.post(f"/agreements/{agreement_id}/signatures",
                         json={"party": "borrower", "document_sha256": digest}).status_code == 404

    # the borrower's signature needs the one-time code sent to the borrower
    missing = me.post(f"/agreements/{agreement_id}/signatures", json={"party": "borrower", "document_sha256": digest})
    assert missing.status_code == 422 and missing.json()["reason"] == "one_time_code_required"
    assert me.post(f"/agreements/{agreement_id}/signing-code", json={"channel": "sms"}).status_code == 201
    code = signing_code(agreement_id)
    signed = me.post(f"/agreements/{agreement_id}/signatures",
                     json={"party": "borrower", "document_sha256": digest, "one_time_code": code})
    assert signed.status_code == 201, signed.text
    not_yet = me.get(f"/agreements/{agreement_id}/document.pdf")
    assert not_yet.status_code == 409 and not_yet.json()["reason"] == "agreement_not_signed"
    assert signed.json()["awaiting_signature_of"] == "lender"
    twice = me.post(f"/agreements/{agreement_id}/signatures",
                    json={"party": "borrower", "document_sha256": digest, "one_time_code": code})
    assert twice.status_code == 409 and twice.json()["reason"] == "already_signed"
    by_agent = agent.post(f"/agreements/{agreement_id}/signatures", json={"party": "lender", "document_sha256": digest})
    assert by_agent.status_code == 403 and by_agent.json()["reason"] == "lender_signing_authority_required"

    active = supervisor.post(f"/agreements/{agreement_id}/signatures", json={"party": "lender", "document_sha256": digest})
    assert active.status_code == 201, active.text
    body = active.json()
    assert body["status"] == "active" and body["activated_on"] == today.isoformat()
    assert [(s["party"], s["signed_by"], s["document_sha256"], s["channel"], s["otp_verified"])
            for s in body["signatures"]] == [
        ("borrower", "portal-user", digest, "sms", True), ("lender", "sup-li", digest, None, False),
    ]
    lender_twice = supervisor.post(f"/agreements/{agreement_id}/signatures",
                                   json={"party": "lender", "document_sha256": digest})
    assert lender_twice.status_code == 409 and lender_twice.json()["reason"] == "already_signed"

    # the signed PDF: the borrower's own, served with both hashes, and verified by the service
    pdf = me.get(f"/agreements/{agreement_id}/document.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["x-document-sha256"] == digest
    assert pdf.headers["x-content-sha256"] == hashlib.sha256(pdf.content).hexdigest()
    assert stranger.get(f"/agreements/{agreement_id}/document.pdf").status_code == 404
    verified = me.post("/agreement-verifications", content=pdf.content, headers={"Content-Type": "application/pdf"})
    assert verified.status_code == 200, verified.text
    answer = verified.json()
    assert answer["valid"] is True and answer["reasons"] == [], answer
    assert answer["document_sha256"] == answer["stored_document_sha256"] == digest
    assert answer["consent"]["signed_by"] == "portal-user" and answer["consent"]["document_sha256"] == digest
    at = pdf.content.index(b"<pdfaid:part>3")
    tampered = pdf.content[:at] + b"<pdfaid:part>4" + pdf.content[at + 14:]
    refused = agent.post("/agreement-verifications", content=tampered, headers={"Content-Type": "application/pdf"}).json()
    assert refused["valid"] is False and refused["reasons"][0].startswith("signature_broken")
    garbage = agent.post("/agreement-verifications", content=b"%PDF-1.7 garbage", headers={"Content-Type": "application/pdf"})
    assert garbage.status_code == 422 and garbage.json()["reason"] == "not_a_pdf"
    wrong_type = agent.post("/agreement-verifications", content=pdf.content, headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415 and wrong_type.json()["reason"] == "unsupported_media_type"
    huge = agent.post("/agreement-verifications", content=b"%PDF-" + b"0" * (10 * 1024 * 1024 + 1),
                      headers={"Content-Type": "application/pdf"})
    assert huge.status_code == 413

    signatures = events(infra, "agreement.signed", case_id, min_count=2)
    assert [e["payload"]["party"] for e in signatures] == ["borrower", "lender"]
    assert {e["payload"]["document_sha256"] for e in signatures} == {digest}
    activated = events(infra, "agreement.activated", case_id)
    assert len(activated) == 1
    payload = activated[0]["payload"]
    assert payload["agreement_id"] == agreement_id and payload["borrower_id"] == borrower_id
    assert payload["schedule"] == expected_schedule
    assert payload["document_sha256"] == digest
    assert payload["loan_ids"] == ["LN-0001", "LN-0002"]
    assert payload["option"] == "term_extension" and payload["policy_version"] == POLICY_VERSION
    assert payload["supersedes_agreement_id"] is None
    assert payload["signed_pdf_sha256"] == hashlib.sha256(pdf.content).hexdigest()
    assert payload["signed_pdf_href"] == f"/agreements/{agreement_id}/document.pdf"

    # the console's queues
    queue = agent.get("/agreements", params={"status": "active", "case_id": case_id}).json()
    assert [a["agreement_id"] for a in queue["items"]] == [agreement_id]
    assert agent.get("/offers", params={"status": "open", "case_id": case_id}).json()["items"] == []
    text = agent.get(f"/agreements/{agreement_id}/document.txt")
    assert text.status_code == 200 and text.headers["x-document-sha256"] == digest

    exported = agent.get("/metrics").text
    assert 'forbear_offers_total{outcome="accepted"}' in exported
    assert 'forbear_agreements_total{transition="activated"}' in exported

    # wrong roles are 403 whatever the case
    system = client("agreement", role="system", subject="core-banking")
    assert system.get(f"/cases/{case_id}/offers").status_code == 403
    assert me.get("/agreements").status_code == 403
    assert me.get("/offers").status_code == 403
    assert supervisor.post(f"/offers/{second['offer_id']}/accept", json={}).status_code == 403
    assert system.post(f"/offers/{second['offer_id']}/counter", json={"proposed_term_months": 48}).status_code == 403
    for http in (me, stranger, supervisor, agent, system):
        http.close()


def test_agent_records_the_borrowers_signature_and_a_renegotiation_supersedes_the_agreement(stack, infra) -> None:
    case_id, borrower_id = new_case()
    today = business_date()
    publish_decision(infra, case_id, borrower_id, today, offers=[terms(1, "term_extension", today, 24)])
    offer = offers_of(case_id, 1)[0]
    agent = client("agreement", role="agent", subject="agent-zhao")
    supervisor = client("agreement", role="supervisor", subject="sup-chen")
    agreement = agent.post(f"/offers/{offer['offer_id']}/accept", json={"payment_method": "branch"}).json()
    digest = agreement["document_sha256"]
    assert agent.post(f"/agreements/{agreement['agreement_id']}/signing-code", json={}).status_code == 201
    borrower_sig = agent.post(f"/agreements/{agreement['agreement_id']}/signatures",
                              json={"party": "borrower", "document_sha256": digest,
                                    "one_time_code": signing_code(agreement["agreement_id"])}).json()
    assert borrower_sig["signatures"][0]["on_behalf_of_borrower"] is True
    assert borrower_sig["signatures"][0]["signed_by"] == "agent-zhao"
    assert supervisor.post(f"/agreements/{agreement['agreement_id']}/signatures",
                           json={"party": "lender", "document_sha256": digest}).json()["status"] == "active"

    # the borrower renegotiates: a new case's decision names the agreement it renegotiates
    new_case_id = f"{case_id}-r"
    publish_decision(infra, new_case_id, borrower_id, today, offers=[terms(1, "term_extension", today, 48)],
                     renegotiates=agreement["agreement_id"])
    renegotiated = offers_of(new_case_id, 1)[0]
    assert renegotiated["renegotiates_agreement_id"] == agreement["agreement_id"]
    second = agent.post(f"/offers/{renegotiated['offer_id']}/accept", json={}).json()
    assert second["supersedes_agreement_id"] == agreement["agreement_id"]
    assert agent.post(f"/agreements/{second['agreement_id']}/signing-code", json={}).status_code == 201
    for party, who, code in (("borrower", agent, signing_code(second["agreement_id"])), ("lender", supervisor, None)):
        assert who.post(f"/agreements/{second['agreement_id']}/signatures",
                        json={"party": party, "document_sha256": second["document_sha256"],
                              **({"one_time_code": code} if code else {})}).status_code == 201
    activated = events(infra, "agreement.activated", new_case_id)[0]["payload"]
    assert activated["supersedes_agreement_id"] == agreement["agreement_id"]
    assert agent.get(f"/agreements/{agreement['agreement_id']}").json()["status"] == "superseded"

    # each agreement has its own signed PDF; the superseded one is served as it was signed, and
    # the table refuses to edit it
    old_pdf = agent.get(f"/agreements/{agreement['agreement_id']}/document.pdf")
    new_pdf = agent.get(f"/agreements/{second['agreement_id']}/document.pdf")
    assert old_pdf.status_code == new_pdf.status_code == 200
    assert old_pdf.headers["x-document-sha256"] == digest != new_pdf.headers["x-document-sha256"]
    assert activated["signed_pdf_sha256"] == hashlib.sha256(new_pdf.content).hexdigest()
    with infra.connect("agreement") as conn:
        stored = conn.execute("select pdf_sha256 from signed_documents where agreement_id = %s",
                              (agreement["agreement_id"],)).fetchone()
        assert stored["pdf_sha256"] == hashlib.sha256(old_pdf.content).hexdigest()
        with pytest.raises(psycopg.errors.RaiseException, match="never edited"):
            conn.execute("update signed_documents set pdf = %s where agreement_id = %s",
                         (b"%PDF-forged", agreement["agreement_id"]))
    for pdf, who in ((old_pdf, agent), (new_pdf, supervisor)):
        assert who.post("/agreement-verifications", content=pdf.content,
                        headers={"Content-Type": "application/pdf"}).json()["valid"] is True
    agent.close()
    supervisor.close()


def accepted_agreement(infra: Any, borrower_id: str) -> dict[str, Any]:
    case_id = new_case()[0]
    today = business_date()
    publish_decision(infra, case_id, borrower_id, today, offers=[terms(1, "term_extension", today, 24)])
    offer = offers_of(case_id, 1)[0]
    with client("agreement", role="borrower", subject=f"portal-{borrower_id}", borrower_id=borrower_id) as me:
        accepted = me.post(f"/offers/{offer['offer_id']}/accept", json={})
    assert accepted.status_code == 201, accepted.text
    return dict(accepted.json())


def test_the_borrowers_one_time_code_is_bound_counted_single_use_and_never_stored_or_logged(stack, infra) -> None:
    borrower_id = f"brw-{uuid.uuid4().hex[:10]}"
    first, other = accepted_agreement(infra, borrower_id), accepted_agreement(infra, borrower_id)
    first_id, other_id = first["agreement_id"], other["agreement_id"]
    me = client("agreement", role="borrower", subject="portal-otp", borrower_id=borrower_id)
    stranger = client("agreement", role="borrower", subject="someone", borrower_id="brw-someone-else")
    supervisor = client("agreement", role="supervisor", subject="sup-otp")

    def sign(agreement: dict[str, Any], code: str | None, who: Any = me) -> Any:
        body = {"party": "borrower", "document_sha256": agreement["document_sha256"]}
        return who.post(f"/agreements/{agreement['agreement_id']}/signatures",
                        json={**body, **({"one_time_code": code} if code else {})})

    # another borrower can neither request a code for the agreement nor sign it
    assert stranger.post(f"/agreements/{first_id}/signing-code", json={"channel": "sms"}).status_code == 404
    assert supervisor.post(f"/agreements/{first_id}/signing-code", json={}).status_code == 403
    assert sign(first, "123456").json()["reason"] == "code_not_issued"
    issued = me.post(f"/agreements/{first_id}/signing-code", json={"channel": "sms"})
    assert issued.status_code == 201, issued.text
    answer = issued.json()
    assert answer["channel"] == "sms" and answer["max_attempts"] == 5 and "code" not in answer
    # 10 minutes on the technical clock
    assert (dt.datetime.fromisoformat(answer["expires_at"]) - dt.datetime.now(dt.UTC)).total_seconds() <= 600
    code = signing_code(first_id)
    assert sign(first, code, who=stranger).status_code == 404
    # one code a minute per agreement
    again = me.post(f"/agreements/{first_id}/signing-code", json={"channel": "sms"})
    assert again.status_code == 429 and again.json()["reason"] == "code_requested_too_soon"
    assert 0 < int(again.headers["retry-after"]) <= 60

    # a code for one agreement does not sign another (the other has its own, or none)
    assert sign(other, code).json()["reason"] == "code_not_issued"
    assert me.post(f"/agreements/{other_id}/signing-code", json={"channel": "email"}).status_code == 201
    other_code = signing_code(other_id)
    if other_code != code:
        crossed = sign(other, code)
        assert crossed.status_code == 403 and crossed.json()["reason"] == "code_wrong"
        assert crossed.json()["attempts_left"] == 4

    # wrong codes: 403 with the attempts left, the fifth kills the code, then even the right one fails
    wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
    lefts = []
    for _ in range(5):
        refused = sign(first, wrong)
        assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["reason"] == "code_wrong"
        lefts.append(refused.json()["attempts_left"])
    assert lefts == [4, 3, 2, 1, 0]
    dead = sign(first, code)
    assert dead.status_code == 403 and dead.json()["reason"] == "code_attempts_exhausted"

    # the other agreement signs with its own code, once; the evidence is on the signature
    signed = sign(other, other_code)
    assert signed.status_code == 201, signed.text
    [evidence] = signed.json()["signatures"]
    assert (evidence["channel"], evidence["otp_verified"], evidence["signed_by"], evidence["on_behalf_of_borrower"],
            evidence["document_sha256"]) == ("email", True, "portal-otp", False, other["document_sha256"])
    # the lender's signature takes no code
    lender = supervisor.post(f"/agreements/{other_id}/signatures",
                             json={"party": "lender", "document_sha256": other["document_sha256"], "one_time_code": code})
    assert lender.status_code == 422 and lender.json()["reason"] == "one_time_code_not_for_lender"
    issued_events = events(infra, "agreement.signing_code_issued", other["case_id"])
    assert [e["payload"]["channel"] for e in issued_events] == ["email"]
    assert set(issued_events[0]["payload"]) == {"agreement_id", "channel", "expires_at"}

    # only keyed hashes are kept: no code in any table, the audit log or the topic
    with infra.connect("agreement") as conn:
        rows = conn.execute("select * from signing_codes where agreement_id = any(%s)", ([first_id, other_id],)).fetchall()
        audits = conn.execute("select detail from audit_log where subject_id = any(%s)", ([first_id, other_id],)).fetchall()
    assert {r["status"] for r in rows} == {"exhausted", "used"}
    stored = repr((rows, audits, read_topic(infra, "agreement.events", timeout=3)))
    for secret in {code, other_code}:
        assert f"'{secret}'" not in stored and f'"{secret}"' not in stored
    # nor in any log line of the stack's services (they are in the dev mailbox only)
    alone = re.compile(rf"(?<![0-9A-Za-z])({code}|{other_code})(?![0-9A-Za-z])")
    for log in stack.run_dir.glob("*.log"):
        assert not alone.search(log.read_text(errors="replace")), log.name
    assert code in DEV_MAILBOX.read_text()
    for http in (me, stranger, supervisor):
        http.close()


def test_counter_proposal_counters_the_offer_and_withdraws_the_rest(stack, infra) -> None:
    case_id, borrower_id = new_case()
    today = business_date()
    publish_decision(infra, case_id, borrower_id, today)
    first, second = offers_of(case_id, 2)
    me = client("agreement", role="borrower", subject="portal-user", borrower_id=borrower_id)

    empty = me.post(f"/offers/{first['offer_id']}/counter", json={})
    assert empty.status_code == 422 and empty.json()["reason"] == "counter_proposal_empty"
    as_float = me.post(f"/offers/{first['offer_id']}/counter", json={"proposed_instalment": 450.5})
    assert as_float.status_code == 422
    too_long = me.post(f"/offers/{first['offer_id']}/counter", json={"proposed_term_months": 600})
    assert too_long.status_code == 409 and too_long.json()["reason"] == "proposed_term_out_of_policy"
    # money is to the cent: a third decimal is refused (as in a statement), never rounded to 1.00 or 1.01
    mills = me.post(f"/offers/{first['offer_id']}/counter", json={"proposed_instalment": "1.005"})
    assert mills.status_code == 422 and "proposed_instalment" in str(mills.json()["detail"])
    huge = me.post(f"/offers/{first['offer_id']}/counter", json={"proposed_instalment": "1E+17"})
    assert huge.status_code == 422 and "proposed_instalment" in str(huge.json()["detail"])
    centuries = me.post(f"/offers/{first['offer_id']}/counter", json={"proposed_term_months": 200_000})
    assert centuries.status_code == 422 and "proposed_term_months" in str(centuries.json()["detail"])

    countered = me.post(f"/offers/{first['offer_id']}/counter",
                        json={"proposed_instalment": "450.00", "proposed_term_months": 36})
    assert countered.status_code == 200, countered.text
    assert countered.json()["status"] == "countered"
    assert countered.json()["counter_proposal"] == {"proposed_instalment": "450.00", "proposed_term_months": 36}
    payload = events(infra, "offer.countered", case_id)[0]["payload"]
    assert payload == {"offer_id": first["offer_id"], "borrower_id": borrower_id, "proposed_instalment": "450.00",
                       "proposed_term_months": 36, "countered_on": today.isoformat()}
    after = {o["offer_id"]: o["status"] for o in me.get(f"/cases/{case_id}/offers").json()}
    assert after == {first["offer_id"]: "countered", second["offer_id"]: "withdrawn"}
    withdrawn = events(infra, "offer.withdrawn", case_id)[0]["payload"]
    assert (withdrawn["offer_id"], withdrawn["reason"]) == (second["offer_id"], "counter_proposed")
    again = me.post(f"/offers/{first['offer_id']}/accept", json={})
    assert again.status_code == 409 and again.json()["reason"] == "offer_not_open"

    # the re-evaluation's decision brings the next offers
    decision = publish_decision(infra, case_id, borrower_id, today, offers=[terms(1, "term_extension", today, 36)])
    fresh = offers_of(case_id, 1, decision_id=decision)
    assert fresh[0]["status"] == "open" and fresh[0]["term_months"] == 36
    me.close()


def test_a_newer_decision_withdraws_the_open_offers(stack, infra) -> None:
    case_id, borrower_id = new_case()
    today = business_date()
    publish_decision(infra, case_id, borrower_id, today)
    old = offers_of(case_id, 2)
    publish_decision(infra, case_id, borrower_id, today, outcome="needs_supervisor")

    def withdrawn() -> bool:
        with client("agreement") as api:
            return all(o["status"] == "withdrawn" for o in api.get(f"/cases/{case_id}/offers").json())

    eventually(withdrawn)
    announced = events(infra, "offer.withdrawn", case_id, min_count=2)
    assert sorted(e["payload"]["offer_id"] for e in announced) == sorted(o["offer_id"] for o in old)
    assert {e["payload"]["reason"] for e in announced} == {"superseded_by_decision"}
    assert all(e["causation_id"] is not None for e in announced)
    with client("agreement", role="borrower", subject="b", borrower_id=borrower_id) as me:
        refused = me.post(f"/offers/{old[0]['offer_id']}/accept", json={})
    assert refused.status_code == 409 and refused.json()["reason"] == "offer_not_open"
    with client("agreement") as api:
        assert api.post(f"/offers/off-{uuid.uuid4().hex}/accept", json={}).status_code == 404
        assert api.get(f"/cases/case-unknown-{uuid.uuid4().hex[:6]}/offers").status_code == 404
        assert api.get(f"/agreements/agr-{uuid.uuid4().hex}").status_code == 404
        paths = api.get("/openapi.json").json()["paths"]
    assert {"/cases/{case_id}/offers", "/offers", "/offers/{offer_id}/accept", "/offers/{offer_id}/counter",
            "/agreements", "/agreements/{agreement_id}", "/agreements/{agreement_id}/document",
            "/agreements/{agreement_id}/signatures", "/agreements/{agreement_id}/signing-code"} <= set(paths)


def test_offers_expire_at_close_of_business_after_their_validity_exactly_once(stack, infra) -> None:
    # decided 14 days before the lender's business date: today is the offers' last day
    cob_date = business_date("monitoring")
    eventually(lambda: business_date() >= cob_date)
    case_id, borrower_id = new_case()
    publish_decision(infra, case_id, borrower_id, cob_date - dt.timedelta(days=14))
    offers = offers_of(case_id, 2)
    expires_on = dt.date.fromisoformat(offers[0]["expires_on"])
    assert expires_on == cob_date

    target = cob_date + dt.timedelta(days=1)
    with client("monitoring", role="supervisor", subject="sup-cob") as monitoring:
        advanced = monitoring.post("/business-date/advance", json={"to": target.isoformat()})
        assert advanced.status_code == 200, advanced.text

    def all_expired() -> bool:
        with client("agreement") as api:
            return {o["status"] for o in api.get(f"/cases/{case_id}/offers").json()} == {"expired"}

    eventually(all_expired)

    with client("agreement", role="borrower", subject="b", borrower_id=borrower_id) as me:
        late = me.post(f"/offers/{offers[0]['offer_id']}/accept", json={})
        assert late.status_code == 409 and late.json()["reason"] == "offer_expired"
        late_counter = me.post(f"/offers/{offers[1]['offer_id']}/counter", json={"proposed_term_months": 48})
        assert late_counter.status_code == 409 and late_counter.json()["reason"] == "offer_expired"

    expired = events(infra, "offer.expired", case_id, min_count=2)
    assert sorted(e["payload"]["offer_id"] for e in expired) == sorted(o["offer_id"] for o in offers)
    assert {e["payload"]["expired_on"] for e in expired} == {(expires_on + dt.timedelta(days=1)).isoformat()}

    # another close of business finds nothing more to expire for this case
    with client("monitoring", role="supervisor", subject="sup-cob") as monitoring:
        assert monitoring.post("/business-date/advance", json={}).status_code == 200
    nxt = business_date("monitoring").isoformat()
    announced = [m.value for m in read_topic(infra, "monitoring.events", timeout=5)]
    event_id = next(e["event_id"] for e in map(json.loads, filter(lambda v: v.startswith(b'{"'), announced))
                    if e.get("type") == "business_date.advanced" and e["payload"].get("current") == nxt)
    with infra.connect("agreement") as db:  # the agreement worker has applied that close of business too
        eventually(lambda: db.execute("select 1 from inbox where consumer = 'agreement' and event_id = %s",
                                      (event_id,)).fetchone())
    assert len(events(infra, "offer.expired", case_id, min_count=2)) == 2

"""End-to-end helpers: a borrower's journey through the four services' public HTTP APIs.

Everything here goes through the APIs a lender's channels, staff and core banking would call,
and reads the real Kafka topics. Business numbers come from the demo lender's policy file,
never from the services' answers.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from forbear_shared.events import encode, new_event
from forbear_shared.events.schemas.corebanking import PaymentReceived
from forbear_simulator.client import tiny_pdf, tiny_png

from tests.support import calendar as test_calendar
from tests.support.http import client
from tests.support.infra import eventually, producer, read_topic, signing_code

POLICY = test_calendar.policy()  # the policy the test stack runs on
DAY = dt.timedelta(days=1)
CENT = Decimal("0.01")
WAIT = 60.0  # a loaded 2-core machine: every asynchronous hop gets a generous timeout

ESC = POLICY.escalation


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def d(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


# -- the shared business date ---------------------------------------------------------------------


def business_date(service: str = "monitoring") -> dt.date:
    with client(service, role="supervisor") as api:
        response = api.get("/business-date")
    assert response.status_code == 200, response.text
    return d(response.json()["business_date"])


def services_agree_on_the_date() -> dt.date:
    """Wait until every service has heard the last close of business; return that date."""
    today = business_date("monitoring")
    for service in ("intake", "evaluation", "agreement"):
        eventually(lambda s=service: business_date(s) >= today, timeout=WAIT)
    return today


def advance(to: dt.date) -> dict[str, Any]:
    """Close of business for every day up to ``to`` (the API runs the sweep)."""
    with client("monitoring", role="supervisor", subject="cob-operator") as api:
        response = api.post("/business-date/advance", json={"to": to.isoformat()}, timeout=300)
    assert response.status_code == 200, response.text
    return response.json()


def advance_to(to: dt.date) -> None:
    """Advance unless the session's shared business date is already there."""
    if business_date() < to:
        advance(to)


# -- topics ---------------------------------------------------------------------------------------


def topic_events(infra: Any, topic: str, *, type_: str | None = None, case_id: str | None = None,
                 agreement_id: str | None = None, min_count: int = 0, timeout: float = WAIT) -> list[dict[str, Any]]:
    """Events on a real topic, filtered by type / case / agreement, waiting for ``min_count``."""

    def matching() -> list[dict[str, Any]]:
        found = []
        for message in read_topic(infra, topic, timeout=3):
            try:
                body = json.loads(message.value)
            except ValueError:
                continue
            if not isinstance(body, dict) or "payload" not in body:
                continue
            if type_ is not None and body.get("type") != type_:
                continue
            if case_id is not None and body.get("case_id") != case_id:
                continue
            if agreement_id is not None and body["payload"].get("agreement_id") != agreement_id:
                continue
            found.append(body)
        return found

    if min_count == 0:
        return matching()
    result: list[dict[str, Any]] = eventually(
        lambda: (lambda f: f if len(f) >= min_count else None)(matching()), timeout=timeout)
    return result


# -- intake ---------------------------------------------------------------------------------------


def loan_snapshot(borrower_id: str, as_of: dt.date, **changes: Any) -> dict[str, Any]:
    """A small consumer loan, 2 of 6 monthly instalments left: 2,000.00 at 12 %, 1,015.00 a month."""
    loan = {
        "loan_id": uid("LOAN"), "borrower_id": borrower_id, "original_principal": "6000.00",
        "outstanding_principal": "2000.00", "annual_rate": "0.12", "original_term_months": 6,
        "remaining_term_months": 2, "contractual_instalment": "1015.00", "overdue_principal": "0.00",
        "overdue_interest": "0.00", "penalty_interest": "0.00", "days_past_due": 10, "as_of": as_of.isoformat(),
    }
    loan.update(changes)
    return loan


#: an unemployed borrower: benefit and casual work 1,500.00, essentials 600.00 -> disposable 900.00,
#: below the original instalment 1,015.00 (no capacity to pay)
UNEMPLOYED_STATEMENT = {
    "income": [{"category": "unemployment_benefit", "monthly_amount": "1100.00"},
               {"category": "casual_work", "monthly_amount": "400.00"}],
    "essential_expenditure": [{"category": "rent", "monthly_amount": "450.00"},
                              {"category": "food_household", "monthly_amount": "150.00"}],
    "dependants": 0,
}


def disposable(statement: dict[str, Any]) -> Decimal:
    def total(key: str) -> Decimal:
        return sum((Decimal(line["monthly_amount"]) for line in statement.get(key, [])), Decimal("0"))

    return total("income") - total("essential_expenditure") - total("other_debt_payments")


def affordable(statement: dict[str, Any]) -> Decimal:
    share = POLICY.evaluation.affordable_share_of_disposable_income
    return (share * disposable(statement)).quantize(CENT, rounding=ROUND_HALF_UP)


def open_case(borrower_id: str, loans: list[dict[str, Any]], *, history: dict[str, Any] | None = None,
              renegotiates: str | None = None, loan_ids: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "borrower": {"borrower_id": borrower_id, "name": "李四", "national_id": "310101198805051234",
                     "phone": "13900001111"},
        "loans": loans,
        "hardship_category": "unemployment",
        "story": "laid off when the plant closed",
        "channel": "phone",
        "history": history or {"no_contact_delinquencies_24m": 0, "broken_agreements_12m": 0,
                               "declaration_untrue": False},
    }
    if loan_ids:
        body["loan_ids"] = loan_ids
    if renegotiates:
        body["renegotiates_agreement_id"] = renegotiates
    with client("intake", role="agent", subject="agent-e2e") as api:
        response = api.post("/cases", json=body, headers={"Idempotency-Key": uid("open")})
    assert response.status_code == 201, response.text
    return response.json()


def upload(borrower_id: str, case_id: str, document_type: str, content: bytes, filename: str,
           media: str) -> dict[str, Any]:
    with client("intake", role="borrower", subject=f"portal-{borrower_id}", borrower_id=borrower_id) as me:
        response = me.post(f"/cases/{case_id}/evidence", data={"document_type": document_type},
                           files={"file": (filename, content, media)})
    assert response.status_code == 201, response.text
    return response.json()


def review(case_id: str, document_id: str, outcome: str = "accept") -> dict[str, Any]:
    with client("intake", role="agent", subject="agent-e2e") as api:
        response = api.post(f"/cases/{case_id}/evidence/{document_id}/review", json={"outcome": outcome})
    assert response.status_code == 200, response.text
    return response.json()


def complete_unemployment_evidence(borrower_id: str, case_id: str) -> list[dict[str, Any]]:
    docs = [
        upload(borrower_id, case_id, "termination_letter", tiny_pdf(f"termination {case_id}"), "letter.pdf",
               "application/pdf"),
        upload(borrower_id, case_id, "unemployment_registration", tiny_png(abs(hash(case_id)) % 60000),
               "registration.png", "image/png"),
    ]
    for doc in docs:
        review(case_id, doc["document_id"])
    return docs


def put_statement(borrower_id: str, case_id: str, statement: dict[str, Any]) -> None:
    with client("intake", role="borrower", subject=f"portal-{borrower_id}", borrower_id=borrower_id) as me:
        response = me.put(f"/cases/{case_id}/statement", json=statement)
    assert response.status_code == 200, response.text


def submit(borrower_id: str, case_id: str) -> dict[str, Any]:
    with client("intake", role="borrower", subject=f"portal-{borrower_id}", borrower_id=borrower_id) as me:
        response = me.post(f"/cases/{case_id}/submit")
    assert response.status_code == 200, response.text
    return response.json()


def intake_case(case_id: str) -> dict[str, Any]:
    with client("intake", role="agent") as api:
        response = api.get(f"/cases/{case_id}")
    assert response.status_code == 200, response.text
    return response.json()


def wait_case_status(case_id: str, status: str) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        case = intake_case(case_id)
        return case if case["status"] == status else None

    result: dict[str, Any] = eventually(reached, timeout=WAIT)
    return result


# -- evaluation -----------------------------------------------------------------------------------


def decisions(case_id: str, count: int = 1) -> list[dict[str, Any]]:
    def found() -> list[dict[str, Any]] | None:
        with client("evaluation", role="agent") as api:
            response = api.get(f"/cases/{case_id}/decisions")
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        listed = response.json()["decisions"]
        return listed if len(listed) >= count else None

    result: list[dict[str, Any]] = eventually(found, timeout=WAIT)
    return result


# -- agreement ------------------------------------------------------------------------------------


def open_offers(case_id: str) -> list[dict[str, Any]]:
    def found() -> list[dict[str, Any]] | None:
        with client("agreement", role="agent") as api:
            response = api.get(f"/cases/{case_id}/offers")
        if response.status_code != 200:
            return None
        offers = [o for o in response.json() if o["status"] == "open"]
        return offers or None

    return sorted(eventually(found, timeout=WAIT), key=lambda o: o["rank"])


def monitored(agreement_id: str) -> dict[str, Any] | None:
    with client("monitoring", role="agent") as api:
        response = api.get(f"/agreements/{agreement_id}")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return response.json()


def wait_monitored(agreement_id: str, predicate: Any = None) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        view = monitored(agreement_id)
        if view is None:
            return None
        return view if predicate is None or predicate(view) else None

    result: dict[str, Any] = eventually(check, timeout=WAIT)
    return result


@dataclass
class Journey:
    """A borrower taken from first contact to an active agreement."""

    borrower_id: str
    loan: dict[str, Any]
    statement: dict[str, Any]
    case: dict[str, Any]
    decision: dict[str, Any]
    offer: dict[str, Any]
    agreement: dict[str, Any]
    opened_on: dt.date
    documents: list[dict[str, Any]] = field(default_factory=list)

    @property
    def case_id(self) -> str:
        return str(self.case["case_id"])

    @property
    def loan_id(self) -> str:
        return str(self.loan["loan_id"])

    @property
    def agreement_id(self) -> str:
        return str(self.agreement["agreement_id"])

    @property
    def instalments(self) -> list[dict[str, Any]]:
        return list(self.offer["schedule"]["instalments"])

    def due(self, number: int) -> dt.date:
        return d(self.instalments[number - 1]["due_date"])


@dataclass
class Application:
    """A borrower's case with its statement and complete evidence, ready to submit."""

    borrower_id: str
    loan: dict[str, Any]
    case: dict[str, Any]
    documents: list[dict[str, Any]]
    opened_on: dt.date

    @property
    def case_id(self) -> str:
        return str(self.case["case_id"])


def ready_to_submit() -> Application:
    """Case opening -> statement -> complete evidence."""
    today = services_agree_on_the_date()
    borrower_id = uid("BRW")
    loan = loan_snapshot(borrower_id, today)
    case = open_case(borrower_id, [loan])
    assert case["status"] == "awaiting_evidence"
    put_statement(borrower_id, case["case_id"], UNEMPLOYED_STATEMENT)
    documents = complete_unemployment_evidence(borrower_id, case["case_id"])
    assert intake_case(case["case_id"])["status"] == "ready_to_submit"
    return Application(borrower_id, loan, case, documents, today)


def to_active_agreement(*, borrower_signs_in_person: bool = False) -> Journey:
    """Case opening -> statement -> complete evidence -> approval -> term extension accepted ->
    borrower signs, a supervisor countersigns -> the agreement is active and under monitoring."""
    application = ready_to_submit()
    submit(application.borrower_id, application.case_id)
    return to_active_agreement_once_submitted(application, borrower_signs_in_person=borrower_signs_in_person)


def to_active_agreement_once_submitted(application: Application, *, borrower_signs_in_person: bool = False) -> Journey:
    """Approval -> term extension accepted -> both signatures -> active and under monitoring."""
    borrower_id, loan, case, documents, today = (application.borrower_id, application.loan, application.case,
                                                 application.documents, application.opened_on)
    [decision] = decisions(case["case_id"])
    assert decision["outcome"] == "approve", decision
    offers = open_offers(case["case_id"])
    extensions = [o for o in offers if o["option"] == "term_extension"]
    assert extensions, offers
    offer = extensions[0]

    as_borrower = client("agreement", role="borrower", subject=f"portal-{borrower_id}", borrower_id=borrower_id)
    agent = client("agreement", role="agent", subject="agent-e2e")
    supervisor = client("agreement", role="supervisor", subject="supervisor-e2e")
    try:
        accepted = as_borrower.post(f"/offers/{offer['offer_id']}/accept", json={"payment_method": "account_debit"})
        assert accepted.status_code == 201, accepted.text
        agreement = accepted.json()
        assert agreement["status"] == "awaiting_signatures" and agreement["awaiting_signature_of"] == "borrower"
        digest = agreement["document_sha256"]
        signer = agent if borrower_signs_in_person else as_borrower
        # the borrower's one-time code goes to the borrower's phone (the dev mailbox here); in person
        # the borrower reads it out to the agent who records the signature
        requested = signer.post(f"/agreements/{agreement['agreement_id']}/signing-code", json={"channel": "sms"})
        assert requested.status_code == 201, requested.text
        signed = signer.post(f"/agreements/{agreement['agreement_id']}/signatures",
                             json={"party": "borrower", "document_sha256": digest,
                                   "one_time_code": signing_code(agreement["agreement_id"])})
        assert signed.status_code == 201, signed.text
        assert signed.json()["awaiting_signature_of"] == "lender"
        active = supervisor.post(f"/agreements/{agreement['agreement_id']}/signatures",
                                 json={"party": "lender", "document_sha256": digest})
        assert active.status_code == 201, active.text
        agreement = active.json()
        assert agreement["status"] == "active"
    finally:
        for http in (as_borrower, agent, supervisor):
            http.close()

    wait_monitored(agreement["agreement_id"])
    return Journey(borrower_id, loan, UNEMPLOYED_STATEMENT, case, decision, offer, agreement, today, documents)


# -- monitoring: payments -------------------------------------------------------------------------


def corebanking_payment(infra: Any, loan_id: str, amount: Decimal | str, on: dt.date,
                        reference: str | None = None) -> str:
    """Core banking reports a payment on the loan (``payment.received`` on ``corebanking.payments``)."""
    reference = reference or uid("CB")
    event = new_event(type="payment.received",
                      payload=PaymentReceived(reference=reference, loan_id=loan_id, amount=Decimal(str(amount)),
                                              received_on=on),
                      case_id=loan_id, business_date=on, producer="corebanking",
                      occurred_at=dt.datetime.combine(on, dt.time(10, 0), tzinfo=dt.UTC))
    kafka = producer(infra)
    try:
        kafka.send(infra.topic("corebanking.payments"), key=loan_id.encode(), value=encode(event)).get(timeout=30)
    finally:
        kafka.close()
    return reference


def manual_payment(agreement_id: str, amount: Decimal | str, on: dt.date | None = None) -> dict[str, Any]:
    """An agent enters a payment slip."""
    body: dict[str, Any] = {"reference": uid("SLIP"), "amount": str(amount)}
    if on is not None:
        body["received_on"] = on.isoformat()
    with client("monitoring", role="agent", subject="agent-e2e") as api:
        response = api.post(f"/agreements/{agreement_id}/payments", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def wait_payment(agreement_id: str, reference: str) -> dict[str, Any]:
    return wait_monitored(agreement_id, lambda v: any(p["reference"] == reference for p in v["payments"]))


def penalty(principal: Decimal, annual_rate: Decimal, days: int) -> Decimal:
    """罚息 on overdue principal: contract rate x (1 + uplift), ACT/360, from the due date."""
    rate = annual_rate * (1 + POLICY.delinquency.penalty_uplift)
    return (principal * rate / 360 * days).quantize(CENT, rounding=ROUND_HALF_UP)

"""The borrower's signing code through the lender's mail relay, end to end on real Postgres.

The agreement API runs in this process on the run's database, configured with
``FORBEAR_SIGNING_CODE_SENDER=smtp`` for a relay on 127.0.0.1 (aiosmtpd, STARTTLS and a login,
tests/support/relays.py). While the relay is away or refuses the service's login, asking for a
code is a clean 503 / 502 problem and leaves nothing behind (no code row, no event, no audit
row); once the relay takes the message the borrower signs with the code that arrived there.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from forbear_agreement import bootstrap
from forbear_agreement.entrypoints import api
from forbear_agreement.service_layer import offers
from forbear_shared.events import decode, encode, new_event
from forbear_shared.events.schemas.common import Reason
from forbear_shared.events.schemas.evaluation import CaseDecided

from tests.integration.test_agreement_flow import POLICY_VERSION, terms
from tests.support.http import token
from tests.support.infra import TestInfra
from tests.support.relays import Tls, free_port, make_tls, smtp_relay

pytestmark = pytest.mark.integration

RELAY_USER = "forbear-agreement"
RELAY_PASSWORD = "relay-password-for-this-run-9kP"


@pytest.fixture(scope="module")
def relay_tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(Path(tmp_path_factory.mktemp("relay-tls")))


@pytest.fixture(scope="module")
def relay_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def agreement_api(infra: TestInfra, relay_tls: Tls, relay_port: int) -> Iterator[TestClient]:
    env = {**infra.service_env(), "FORBEAR_SIGNING_CODE_SENDER": "smtp", "FORBEAR_SIGNING_CODE_SMTP_HOST": "127.0.0.1",
           "FORBEAR_SIGNING_CODE_SMTP_PORT": str(relay_port), "FORBEAR_SIGNING_CODE_SMTP_TLS": "starttls",
           "FORBEAR_SIGNING_CODE_SMTP_CA_FILE": str(relay_tls.ca_file),
           "FORBEAR_SIGNING_CODE_SMTP_USER": RELAY_USER, "FORBEAR_SIGNING_CODE_SMTP_PASSWORD": RELAY_PASSWORD,
           "FORBEAR_SIGNING_CODE_SMTP_FROM": "agreements@lender.example",
           "FORBEAR_SIGNING_CODE_SMTP_RECIPIENT_TEMPLATE": "{borrower_id}@sms-relay.lender.example",
           "FORBEAR_SIGNING_CODE_SMTP_TIMEOUT_SECONDS": "3"}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with TestClient(api.create_app()) as served:
            yield served


def decided_agreement(borrower_id: str) -> tuple[str, str]:
    """A case approved with one plan on the agreement service's business date (wherever the
    session has moved it), the offer made by the service's own use case (as its worker would on
    ``case.decided``); returns the case and its offer."""
    case_id = f"case-{uuid.uuid4().hex[:10]}"
    svc = bootstrap.bootstrap(pool_size=1)
    try:
        with svc.unit_of_work() as uow:
            today = uow.business_date
        decision = CaseDecided(decision_id=f"dec-{uuid.uuid4().hex[:12]}", borrower_id=borrower_id, outcome="approve",
                               reasons=[Reason(code="affordable_plan_found")], policy_version=POLICY_VERSION,
                               offers=[terms(1, "term_extension", today, 24)], decided_on=today)
        event = decode(encode(new_event(type="case.decided", payload=decision, case_id=case_id, business_date=today,
                                        producer="evaluation", occurred_at=dt.datetime.now(dt.UTC))))
        offers.on_case_decided(event, svc.unit_of_work())
        with svc.ctx.pool.connection() as conn:
            offer = conn.execute("select offer_id from offers where case_id = %s", (case_id,)).fetchone()
    finally:
        svc.ctx.pool.close()
    assert offer is not None
    return case_id, offer[0] if isinstance(offer, tuple) else offer["offer_id"]


def as_borrower(borrower_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token('borrower', f'portal-{borrower_id}', borrower_id)}"}


def left_behind(infra: TestInfra, agreement_id: str) -> dict[str, int]:
    with infra.connect("agreement") as conn:
        def count(sql: str, *args: Any) -> int:
            return int(conn.execute(sql, args).fetchone()["n"])  # type: ignore[index]
        return {
            "codes": count("select count(*) as n from signing_codes where agreement_id = %s", agreement_id),
            "events": count("select count(*) as n from outbox where event_type = 'agreement.signing_code_issued' "
                            "and position(%s in body) > 0", agreement_id),
            "audit": count("select count(*) as n from audit_log where action = 'signing_code_issued' "
                           "and subject_id = %s", agreement_id),
        }


def test_no_code_is_kept_until_the_relay_takes_it_then_the_borrower_signs_with_the_one_that_arrived(
        infra: TestInfra, agreement_api: TestClient, relay_tls: Tls, relay_port: int,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.WARNING, logger="mail.log")  # the relay's own log, not the service's
    borrower_id = f"brw-{uuid.uuid4().hex[:10]}"
    me = as_borrower(borrower_id)
    _, offer_id = decided_agreement(borrower_id)
    accepted = agreement_api.post(f"/offers/{offer_id}/accept", headers=me, json={"payment_method": "account_debit"})
    assert accepted.status_code == 201, accepted.text
    agreement = accepted.json()
    agreement_id, digest = agreement["agreement_id"], agreement["document_sha256"]

    # the relay is away: 503 with Retry-After, and nothing kept
    away = agreement_api.post(f"/agreements/{agreement_id}/signing-code", headers=me, json={"channel": "sms"})
    assert away.status_code == 503 and away.headers["content-type"] == "application/problem+json"
    assert away.json()["reason"] == "signing_code_gateway_unavailable" and away.headers["Retry-After"] == "5"
    assert left_behind(infra, agreement_id) == {"codes": 0, "events": 0, "audit": 0}

    # the relay refuses the service's login: 502, nothing kept, and the same Idempotency-Key may ask again
    with smtp_relay(relay_tls, user=RELAY_USER, password="the-relay-changed-it", port=relay_port) as relay:
        refused = agreement_api.post(f"/agreements/{agreement_id}/signing-code", json={"channel": "sms"},
                                     headers={**me, "Idempotency-Key": "code-request-1"})
    assert refused.status_code == 502 and refused.json()["reason"] == "signing_code_not_delivered"
    assert relay.logins and relay.delivered == []
    assert left_behind(infra, agreement_id) == {"codes": 0, "events": 0, "audit": 0}

    # the relay takes it: the code arrives addressed by borrower id, one row (a keyed hash), one event
    with smtp_relay(relay_tls, user=RELAY_USER, password=RELAY_PASSWORD, port=relay_port) as relay:
        issued = agreement_api.post(f"/agreements/{agreement_id}/signing-code", json={"channel": "sms"},
                                    headers={**me, "Idempotency-Key": "code-request-1"})
    assert issued.status_code == 201, issued.text
    (mail,) = relay.delivered
    assert mail.rcpt_tos == [f"{borrower_id}@sms-relay.lender.example"] and mail.login == RELAY_USER
    code = next(word for word in mail.body.replace("，", " ").replace("】", " ").split() if word.isdigit()
                and len(word) == 6)
    assert left_behind(infra, agreement_id) == {"codes": 1, "events": 1, "audit": 1}

    signed = agreement_api.post(f"/agreements/{agreement_id}/signatures", headers=me,
                                json={"party": "borrower", "document_sha256": digest, "one_time_code": code})
    assert signed.status_code == 201, signed.text
    assert signed.json()["awaiting_signature_of"] == "lender"

    # the code and the relay's password reached no log line of the service
    ours = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name != "mail.log")
    assert code not in ours and RELAY_PASSWORD not in ours

"""A tiny headless simulation against the real services, broker and database.

The services of ``tests/conftest.py`` are not visible from here (its fixtures serve ``tests/``),
so this module builds the same ``infra`` and ``stack`` with the same helpers — its own database
and topic prefix, the services on ``PORT_OFFSET`` — for the module only: they are gone before
the suite under ``tests/`` (which runs after ``services/``) starts its own on those ports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from forbear_shared.devstack import Stack
from forbear_shared.oidc import DEVELOPMENT_SECRETS, PasswordLogin
from forbear_simulator.__main__ import format_outcome
from forbear_simulator.identity import KeycloakIdentities
from forbear_simulator.sim import DEMO_BORROWER, Config, Simulation

from tests.support.http import PORT_OFFSET, api_url
from tests.support.infra import DEV_MAILBOX, TestInfra, start_test_infra, stop_test_infra

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def infra() -> Iterator[TestInfra]:
    started = start_test_infra()
    yield started
    stop_test_infra(started)


@pytest.fixture(scope="module")
def stack(infra: TestInfra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    services = Stack(Path(tmp_path_factory.mktemp("simulator-stack")), infra.service_env(), port_offset=PORT_OFFSET)
    try:
        services.up()
        yield services
    finally:
        services.down()


def test_a_tiny_headless_portfolio_reaches_agreements_payments_and_a_consistent_outcome(stack, infra) -> None:
    config = Config(seed=7, borrowers=12, days=90, arrival_days=10, day_seconds=0,
                    port_offset=PORT_OFFSET, bootstrap=infra.bootstrap, topic_prefix=infra.topic_prefix,
                    run_id="smoke", mailbox=DEV_MAILBOX, demo_borrower_password="smoke-demo-password")
    sim = Simulation(config, say=lambda _m: None)
    start = sim.agent.business_date("monitoring")
    actions = sim.run()
    outcome = sim.outcome()
    printed = format_outcome(outcome)

    assert outcome["business_days"] == 90
    assert dt.date.fromisoformat(outcome["business_date"]) == start + dt.timedelta(days=90)
    assert outcome["cases_opened"] == 12 == actions["opened"]
    assert outcome["agreements_activated"] >= 1
    assert outcome["agreements_activated"] <= outcome["decided"] <= outcome["cases_opened"]
    for key in ("approval_rate", "cure_rate", "breach_rate", "referral_rate"):
        assert 0.0 <= outcome[key] <= 1.0, key
    assert outcome["referred"] <= outcome["breached"] + outcome["agreements_activated"]
    assert outcome["completed"] + outcome["referred"] <= outcome["agreements_activated"]
    assert sum(outcome["cases_by_status"].values()) == outcome["cases_opened"]
    assert Decimal(outcome["recovered_amount"]) > 0
    # one borrower in seven (of those without false evidence) authorised a representative, and
    # intake accepted every authorisation
    represented = [b for b in sim.portfolio if b.index % 7 == 3 and b.evidence != "false"]
    assert represented and actions["representatives"] == len(represented)
    assert not [k for k in actions if k.startswith("refused:representative")]
    assert "approval rate" in printed and outcome["recovered_amount"] in printed
    # the borrower left to a person (make run) logs in on the portal's client with the printed
    # password and opens a case on the loan core banking published for them; nobody else acted
    username, borrower_id, loan_id = DEMO_BORROWER
    identities = KeycloakIdentities()
    person = PasswordLogin(identities.discovery, "forbear-portal", DEVELOPMENT_SECRETS["forbear-portal"],
                           username, "smoke-demo-password")
    with httpx.Client(base_url=api_url("intake"), headers={"Authorization": f"Bearer {person.token()}"},
                      timeout=30) as intake:
        assert intake.get("/cases", params={"borrower_id": borrower_id}).json() == []
        opened = intake.post("/cases", json={
            "borrower": {"borrower_id": borrower_id}, "loan_ids": [loan_id], "hardship_category": "unemployment",
            "story": "I lost my job in the spring and my savings have run out.", "channel": "portal"})
    assert opened.status_code == 201, opened.text
    assert opened.json()["borrower_id"] == borrower_id
    # the other runs on the same stack are not counted: only this run's borrowers
    other = Simulation(Config(seed=7, borrowers=0, port_offset=PORT_OFFSET,
                              bootstrap=infra.bootstrap, topic_prefix=infra.topic_prefix, run_id="other"))
    other.today = sim.today
    assert other.outcome(settle_seconds=0)["cases_opened"] == 0

"""The console's demo login and what it refuses."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from forbear_console.entrypoints.api import create_app
from forbear_console.operators import Operators
from forbear_console.settings import ConsoleSettings
from forbear_shared import auth

SECRET = "console-unit-test-secret-0123456789"


@pytest.fixture()
def console() -> TestClient:
    settings = ConsoleSettings(service_name="console", auth_secret=SECRET, console_users="ann:agent:pw-ann,sue:supervisor:pw-sue")
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_known_operator_gets_a_bearer_token_for_the_services(console: TestClient) -> None:
    answer = console.post("/login", json={"username": "sue", "password": "pw-sue"})
    assert answer.status_code == 200
    principal = auth.verify(SECRET, answer.json()["token"])
    assert (principal.subject, principal.role) == ("sue", "supervisor")


def test_a_wrong_password_is_401_and_neither_password_nor_token_is_logged(console: TestClient, caplog) -> None:
    answer = console.post("/login", json={"username": "ann", "password": "not-it"})
    assert answer.status_code == 401 and answer.json()["reason"] == "bad_credentials"
    token = console.post("/login", json={"username": "ann", "password": "pw-ann"}).json()["token"]
    logged = " ".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert "not-it" not in logged and "pw-ann" not in logged and token not in logged


def test_the_page_and_its_assets_are_served_by_the_console(console: TestClient) -> None:
    page = console.get("/")
    assert page.status_code == 200 and "/static/console.js" in page.text
    assert "http" not in page.text.split("<body>")[1].replace("http://www.w3.org", "")  # nothing from elsewhere
    assert console.get("/static/console.js").status_code == 200
    assert console.get("/static/console.css").status_code == 200


def test_kpis_need_a_staff_token(console: TestClient) -> None:
    assert console.get("/kpis").status_code == 401
    borrower = auth.mint(SECRET, "b1", "borrower", borrower_id="B-1")
    assert console.get("/kpis", headers={"Authorization": f"Bearer {borrower}"}).status_code == 403


def test_only_staff_may_be_console_operators() -> None:
    with pytest.raises(ValueError, match="only agent or supervisor"):
        Operators("bob:borrower:pw")


def test_production_refuses_the_demo_operators(monkeypatch: pytest.MonkeyPatch) -> None:
    # a production database URL, so that only the operators can be what is refused
    monkeypatch.setenv("FORBEAR_DATABASE_URL", "postgresql://svc:s3cret-from-vault@db/forbear")
    with pytest.raises(ValueError, match="FORBEAR_CONSOLE_USERS"):
        ConsoleSettings(service_name="console", environment="production", auth_secret="a-real-secret-for-production")

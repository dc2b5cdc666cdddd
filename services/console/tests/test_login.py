"""What the console refuses without a session, and what production refuses to start with.

The login itself (authorization code + PKCE at the real Keycloak) is exercised in the browser
(tests/browser/test_console.py) and in tests/integration/test_identity.py.
"""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from forbear_console.entrypoints.api import create_app
from forbear_console.session import SESSION_COOKIE, Session
from forbear_console.settings import ConsoleSettings

PRODUCTION_DB = "postgresql://svc:s3cret-from-vault@db/forbear"


@pytest.fixture()
def console() -> TestClient:
    settings = ConsoleSettings(service_name="console", oidc_issuer="http://127.0.0.1:1/realms/none")
    with TestClient(create_app(settings)) as client:
        yield client


def test_the_page_and_its_assets_are_served_by_the_console(console: TestClient) -> None:
    page = console.get("/")
    assert page.status_code == 200 and "/static/console.js" in page.text
    assert "http" not in page.text.split("<body>")[1].replace("http://www.w3.org", "")  # nothing from elsewhere
    assert console.get("/static/console.js").status_code == 200
    assert console.get("/static/common/dom.js").status_code == 200
    assert console.get("/static/console.css").status_code == 200


def test_kpis_and_the_proxy_need_a_session(console: TestClient) -> None:
    assert console.get("/kpis").json()["reason"] == "not_logged_in"
    assert console.get("/api/intake/cases").status_code == 401
    assert console.get("/auth/session").status_code == 401


def test_a_forged_session_cookie_is_no_session(console: TestClient) -> None:
    # sealed with another key: the console cannot open it
    forged = Fernet(Fernet.generate_key()).encrypt(b'{"access_token":"x"}').decode()
    answer = console.get("/kpis", cookies={SESSION_COOKIE: forged})
    assert answer.status_code == 401 and answer.json()["reason"] == "not_logged_in"


def test_unsafe_requests_without_the_page_header_or_from_another_origin_are_refused(console: TestClient) -> None:
    refused = console.post("/api/monitoring/business-date/advance", json={})
    assert refused.status_code == 403 and refused.json()["reason"] == "cross_site_request"
    cross = console.post("/api/monitoring/business-date/advance", json={},
                         headers={"X-Requested-With": "forbear-console", "Origin": "https://evil.example"})
    assert cross.status_code == 403 and cross.json()["reason"] == "cross_site_request"


def test_login_with_the_provider_away_is_503_not_a_crash(console: TestClient) -> None:
    answer = console.get("/auth/login", follow_redirects=False)
    assert answer.status_code == 503 and answer.json()["reason"] == "identity_provider_unavailable"


def test_a_session_carries_no_password_and_is_opaque_to_the_browser() -> None:
    from forbear_console.session import Sessions
    from forbear_shared import auth
    from forbear_shared.oidc import Discovery

    key = Fernet.generate_key().decode()
    sessions = Sessions(discovery=Discovery("http://127.0.0.1:1/realms/none"), client_id="c", client_secret="s",
                        redirect_uri="http://127.0.0.1/auth/callback", key=key,
                        verifier=auth.TokenVerifier(issuers={}, audience="forbear-console"), max_age_seconds=60)
    sealed = sessions.seal(Session("access-token-value", "refresh-token-value", 1e12, "ann", "agent"))
    assert "access-token-value" not in sealed and "ann" not in sealed
    assert sessions.current(sealed)[0].username == "ann"


@pytest.mark.parametrize("missing, message", [
    ({"console_client_secret": "forbear-console-development-secret"}, "FORBEAR_CONSOLE_CLIENT_SECRET"),
    ({"console_session_key": None}, "FORBEAR_CONSOLE_SESSION_KEY"),
    ({"console_public_url": "http://console.lender.example"}, "FORBEAR_CONSOLE_PUBLIC_URL"),
])
def test_production_refuses_demo_client_secret_missing_session_key_and_plain_http(
        monkeypatch: pytest.MonkeyPatch, missing: dict[str, object], message: str) -> None:
    monkeypatch.setenv("FORBEAR_DATABASE_URL", PRODUCTION_DB)
    good: dict[str, object] = {
        "oidc_issuer": "https://idp.lender.example/realms/ops", "console_client_secret": "from-the-vault-77",
        "console_session_key": Fernet.generate_key().decode(), "console_public_url": "https://console.lender.example",
    }
    ConsoleSettings(service_name="console", environment="production", **good)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        ConsoleSettings(service_name="console", environment="production", **{**good, **missing})  # type: ignore[arg-type]

"""The portal's door: its page, its own session cookie (a console session is no portal session,
and the other way round), borrowers only, and the policy's guidance for the forms."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from forbear_console.entrypoints import portal
from forbear_console.session import SESSION_COOKIE
from forbear_console.settings import PortalSettings

KEY = Fernet.generate_key().decode()
NOWHERE = "http://127.0.0.1:1/realms/none"


@pytest.fixture()
def door() -> TestClient:
    settings = PortalSettings(service_name="portal", oidc_issuer=NOWHERE, portal_session_key=KEY)
    with TestClient(portal.create_app(settings)) as client:
        yield client


def sealed(role: str, borrower_id: str | None) -> str:
    session = {"access_token": "at", "refresh_token": None, "expires_at": 1e12, "username": "portal-b-1",
               "role": role, "borrower_id": borrower_id}
    return Fernet(KEY.encode()).encrypt(json.dumps(session).encode()).decode()


def test_the_page_its_script_and_both_catalogues_are_served_with_the_strict_csp(door: TestClient) -> None:
    page = door.get("/")
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text and "/static/portal.js" in page.text
    for asset in ("/static/common/dom.js", "/static/portal.js", "/static/portal.css", "/static/i18n/zh-CN.json",
                  "/static/i18n/en.json"):
        answer = door.get(asset)
        assert answer.status_code == 200, asset
        assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert door.get("/static/i18n/zh-CN.json").json()["login.submit"] == "登录"


def test_the_guidance_and_the_proxy_need_a_portal_session_not_a_console_one(door: TestClient) -> None:
    assert door.get("/guidance").json()["reason"] == "not_logged_in"
    assert door.get("/api/intake/cases").status_code == 401
    # a console session cookie (its own name) is not looked at
    console = {"Cookie": f"{SESSION_COOKIE}={sealed('borrower', 'B-1')}"}
    assert door.get("/auth/session", headers=console).status_code == 401


def test_a_borrowers_session_sees_who_they_are_and_the_policys_guidance(door: TestClient) -> None:
    cookie = {"Cookie": f"{portal.SESSION_COOKIE}={sealed('borrower', 'B-1')}"}
    who = door.get("/auth/session", headers=cookie).json()
    assert who == {"username": "portal-b-1", "role": "borrower", "borrower_id": "B-1"}
    guidance = door.get("/guidance", headers=cookie).json()
    # the demo lender's policy (shared/forbear_shared/policies/demo-lender.toml): 14 days for the
    # documents, the instalment at most 70 % of disposable income, 31 % debt-to-income, offers 14 days
    assert guidance["evidence_deadline_days"] == 14
    assert guidance["affordable_share_of_disposable_income"] == "0.7" and guidance["dti_ceiling"] == "0.31"
    assert guidance["offer_validity_days"] == 14 and guidance["currency"] == "CNY"
    assert guidance["required_documents"]["unemployment"] == ["termination_letter", "unemployment_registration"]


def test_a_cases_guidance_is_its_arms_when_a_challenger_runs(door: TestClient) -> None:
    import hashlib
    from decimal import Decimal

    cookie = {"Cookie": f"{portal.SESSION_COOKIE}={sealed('borrower', 'B-1')}"}

    def in_challenger(case_id: str) -> bool:  # the demo's one in five, by the rule POLICY.md states
        return int(hashlib.sha256(case_id.encode()).hexdigest()[:16], 16) < Decimal("0.20") * 2 ** 64

    ids = [f"C-{n}" for n in range(50)]
    challenger, champion = next(i for i in ids if in_challenger(i)), next(i for i in ids if not in_challenger(i))
    assert door.get(f"/guidance?case_id={challenger}", headers=cookie).json()["policy_version"] == "demo-lender-2026.1-c1"
    assert door.get(f"/guidance?case_id={champion}", headers=cookie).json()["policy_version"] == "demo-lender-2026.1"
    assert door.get("/guidance", headers=cookie).json()["policy_version"] == "demo-lender-2026.1"
    refused = door.get("/guidance?case_id=C-1%00", headers=cookie)
    assert refused.status_code == 422 and refused.json()["reason"]


def test_unsafe_requests_need_the_portals_own_header(door: TestClient) -> None:
    cookie = f"{portal.SESSION_COOKIE}={sealed('borrower', 'B-1')}"
    refused = door.post("/api/intake/cases", json={}, headers={"Cookie": cookie, "X-Requested-With": "forbear-console"})
    assert refused.status_code == 403 and refused.json()["reason"] == "cross_site_request"


@pytest.mark.parametrize("missing, message", [
    ({"portal_client_secret": "forbear-portal-development-secret"}, "FORBEAR_PORTAL_CLIENT_SECRET"),
    ({"portal_session_key": None}, "FORBEAR_PORTAL_SESSION_KEY"),
    ({"portal_public_url": "http://portal.lender.example"}, "FORBEAR_PORTAL_PUBLIC_URL"),
])
def test_production_refuses_the_demo_portal_client_a_missing_session_key_and_plain_http(
        monkeypatch: pytest.MonkeyPatch, missing: dict[str, object], message: str) -> None:
    monkeypatch.setenv("FORBEAR_DATABASE_URL", "postgresql://svc:s3cret-from-vault@db/forbear")
    good: dict[str, object] = {
        "oidc_issuer": "https://idp.lender.example/realms/ops", "portal_client_secret": "from-the-vault-78",
        "portal_session_key": KEY, "portal_public_url": "https://portal.lender.example",
    }
    PortalSettings(service_name="portal", environment="production", **good)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        PortalSettings(service_name="portal", environment="production", **{**good, **missing})  # type: ignore[arg-type]

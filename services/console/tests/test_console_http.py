"""The console's HTTP hygiene: security headers, problem bodies, body limit and auth before the body,
and a proxy that passes the upstream's integrity headers back."""

from __future__ import annotations

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from forbear_console import web
from forbear_console.entrypoints import api as console_api
from forbear_console.session import SESSION_COOKIE
from forbear_console.settings import ConsoleSettings

KEY = Fernet.generate_key().decode()
NOWHERE = "http://127.0.0.1:1/realms/none"


def settings(**extra: object) -> ConsoleSettings:
    return ConsoleSettings(service_name="console", oidc_issuer=NOWHERE, console_session_key=KEY, **extra)  # type: ignore[arg-type]


@pytest.fixture()
def console() -> TestClient:
    with TestClient(console_api.create_app(settings(proxy_max_body_bytes=1024))) as client:
        yield client


def staff() -> dict[str, str]:
    """An operator's session as the console seals it after a login (valid for hours), and the
    page's same-site header."""
    sealed = Fernet(KEY.encode()).encrypt(
        b'{"access_token":"at","refresh_token":null,"expires_at":1e12,"username":"ann","role":"agent"}').decode()
    return {"Cookie": f"{SESSION_COOKIE}={sealed}", "X-Requested-With": "forbear-console"}


def test_the_page_is_served_with_a_strict_csp_and_no_framing(console: TestClient) -> None:
    for path in ("/", "/static/console.js", "/kpis"):
        headers = console.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


def test_the_page_has_no_inline_script_or_style_the_csp_would_block(console: TestClient) -> None:
    page = console.get("/").text
    assert "<style" not in page and " style=" not in page and "<script>" not in page
    script = console.get("/static/console.js").text
    assert 'setAttribute("style"' not in script and "innerHTML" not in script


def test_the_page_loads_its_catalogues_and_the_common_scripts_from_this_origin(console: TestClient) -> None:
    page = console.get("/").text
    assert page.index("/static/common/i18n.js") < page.index("/static/console.js")
    assert console.get("/static/common/i18n.js").status_code == 200
    # the console's own catalogues (the portal's are its own, at the same path on its door)
    zh, en = console.get("/static/i18n/zh-CN.json"), console.get("/static/i18n/en.json")
    assert zh.status_code == en.status_code == 200
    assert zh.json()["nav.queues"] == "工作队列" and en.json()["nav.queues"] == "Work queues"
    assert console.get("/static/i18n/fr.json").status_code == 404


def test_console_errors_are_problems(console: TestClient) -> None:
    missing = console.get("/no-such-page")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["reason"] == "not_found"
    refused = console.get("/auth/callback", params={"code": "c", "state": "s"})  # no login in progress
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["reason"] == "login_failed" and refused.json()["status"] == 401


def test_the_proxy_refuses_a_caller_without_a_token_before_the_body_and_bodies_over_its_limit(console: TestClient) -> None:
    no_session = console.post("/api/intake/cases", content=b"x" * 10_000, headers={
        "Content-Type": "application/json", "X-Requested-With": "forbear-console"})
    assert no_session.status_code == 401 and no_session.json()["reason"] == "not_logged_in"
    too_big = console.post("/api/intake/cases", content=b"x" * 2000, headers={**staff(), "Content-Type": "text/plain"})
    assert too_big.status_code == 413 and too_big.json()["reason"] == "body_too_large"

    def chunks():
        for _ in range(10):
            yield b"y" * 300

    chunked = console.post("/api/intake/cases", content=chunks(), headers={**staff(), "Content-Type": "text/plain"})
    assert chunked.status_code == 413 and chunked.json()["reason"] == "body_too_large"


def test_the_proxy_passes_back_nosniff_the_content_digest_and_idempotent_replays(
        console: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def upstream(request: httpx.Request) -> httpx.Response:
        seen["body"] = request.read()
        seen["authorization"] = request.headers.get("authorization")
        return httpx.Response(200, content=b"%PDF-1.4", headers={
            "Content-Type": "application/pdf", "X-Content-Type-Options": "nosniff",
            "X-Content-SHA256": "ab" * 32, "Idempotency-Replayed": "true", "Set-Cookie": "a=b"})

    real = httpx.AsyncClient
    monkeypatch.setattr(web.httpx, "AsyncClient",
                        lambda **kw: real(transport=httpx.MockTransport(upstream), **kw))
    with TestClient(console_api.create_app(settings())) as client:
        answer = client.post("/api/intake/cases/C-1/evidence", content=b"abc", headers=staff())
    assert answer.status_code == 200 and seen["body"] == b"abc"
    assert seen["authorization"] == "Bearer at"  # the session's token, never one from the browser
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-content-sha256"] == "ab" * 32
    assert answer.headers["idempotency-replayed"] == "true"
    assert "set-cookie" not in answer.headers

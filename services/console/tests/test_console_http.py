"""The console's HTTP hygiene: security headers, problem bodies, body limit and auth before the body,
and a proxy that passes the upstream's integrity headers back."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from forbear_console.entrypoints import api as console_api
from forbear_console.settings import ConsoleSettings
from forbear_shared import auth

SECRET = "console-unit-test-secret-0123456789"


@pytest.fixture()
def console() -> TestClient:
    settings = ConsoleSettings(service_name="console", auth_secret=SECRET, console_users="ann:agent:pw-ann",
                               proxy_max_body_bytes=1024)
    with TestClient(console_api.create_app(settings)) as client:
        yield client


def staff() -> dict[str, str]:
    return {"Authorization": f"Bearer {auth.mint(SECRET, 'ann', 'agent')}"}


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


def test_console_errors_are_problems(console: TestClient) -> None:
    missing = console.get("/no-such-page")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["reason"] == "not_found"
    refused = console.post("/login", json={"username": "ann", "password": "nope"})
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["reason"] == "bad_credentials" and refused.json()["status"] == 401


def test_the_proxy_refuses_a_caller_without_a_token_before_the_body_and_bodies_over_its_limit(console: TestClient) -> None:
    no_token = console.post("/api/intake/cases", content=b"x" * 10_000, headers={"Content-Type": "application/json"})
    assert no_token.status_code == 401 and no_token.json()["reason"] == "missing_token"
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
        return httpx.Response(200, content=b"%PDF-1.4", headers={
            "Content-Type": "application/pdf", "X-Content-Type-Options": "nosniff",
            "X-Content-SHA256": "ab" * 32, "Idempotency-Replayed": "true", "Set-Cookie": "a=b"})

    real = httpx.AsyncClient
    monkeypatch.setattr(console_api.httpx, "AsyncClient",
                        lambda **kw: real(transport=httpx.MockTransport(upstream), **kw))
    settings = ConsoleSettings(service_name="console", auth_secret=SECRET, console_users="ann:agent:pw-ann")
    with TestClient(console_api.create_app(settings)) as client:
        answer = client.post("/api/intake/cases/C-1/evidence", content=b"abc", headers=staff())
    assert answer.status_code == 200 and seen["body"] == b"abc"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-content-sha256"] == "ab" * 32
    assert answer.headers["idempotency-replayed"] == "true"
    assert "set-cookie" not in answer.headers

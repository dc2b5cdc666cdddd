"""The services' doors over real HTTP: one problem shape for every error, input that cannot
hurt (NUL, lone surrogates, numbers beyond the database's), bodies limited before they are
read and never before the caller is known, and metric labels the caller cannot multiply."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest
from forbear_shared.devstack import API_PORTS, SERVICES

from tests.integration.test_intake_api import case_body, new_borrower
from tests.support.http import PORT_OFFSET, api_url, client, token

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, reason: str) -> dict:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["reason"] == reason
    assert body["type"] == f"urn:forbear:problem:{reason}"
    assert isinstance(body["title"], str) and isinstance(body["detail"], str) and body["detail"]
    return body


def raw_exchange(service: str, head: str, body: bytes = b"", wait: float = 5.0) -> bytes:
    """Send a request head (and maybe part of a body) on a socket and read what comes back
    within ``wait`` seconds, without sending the rest: the answer shows what the server did
    before reading the body."""
    with socket.create_connection(("127.0.0.1", API_PORTS[service] + PORT_OFFSET), timeout=wait) as sock:
        sock.sendall(head.encode() + b"\r\n" + body)
        sock.settimeout(wait)
        received = b""
        try:
            while b"\r\n\r\n" not in received:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except TimeoutError:
            pass
    return received


# -- one error shape ----------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_every_kind_of_error_is_a_problem_document_with_a_reason(stack, service: str) -> None:
    base = api_url(service)
    assert_problem(httpx.get(f"{base}/no-such-route"), 404, "not_found")
    not_allowed = httpx.delete(f"{base}/healthz")
    assert_problem(not_allowed, 405, "method_not_allowed")
    assert "GET" in not_allowed.headers["allow"]
    assert_problem(httpx.get(f"{base}/business-date"), 401, "missing_token")
    assert_problem(httpx.get(f"{base}/business-date", headers={"Authorization": "Bearer x"}), 401, "invalid_token")
    spec = httpx.get(f"{base}/openapi.json").json()
    assert "Problem" in spec["components"]["schemas"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_a_domain_refusal_and_a_validation_error_are_problems_naming_what_is_wrong(stack) -> None:
    with client("intake", role="agent") as api:
        unknown = api.get("/cases/C-does-not-exist")
        invalid = api.get("/cases", params={"limit": 0, "status": "nonsense"})
    assert_problem(unknown, 404, "case_not_found")
    body = assert_problem(invalid, 422, "invalid_request")
    assert {tuple(e["loc"]) for e in body["errors"]} == {("query", "limit"), ("query", "status")}
    assert all(set(e) == {"loc", "type", "msg"} for e in body["errors"])


def test_a_refused_contact_is_a_problem_with_its_reasons(stack) -> None:
    with client("intake", role="agent") as api:
        case = api.post("/cases", json=case_body(new_borrower())).json()
        refused = api.post(f"/cases/{case['case_id']}/contacts",
                           json={"party": "borrower", "channel": "phone", "local_time": "23:00"})
    body = assert_problem(refused, 422, "outside_contact_hours")
    assert body["reasons"] == ["outside_contact_hours"] and body["contact"]["outcome"] == "refused"


# -- input that Postgres cannot store ---------------------------------------------------------


def test_a_nul_byte_in_a_body_string_is_a_422_naming_the_field(stack) -> None:
    with client("intake", role="agent") as api:
        response = api.post("/cases", json=case_body(new_borrower(), story="lost my job\x00"))
    body = assert_problem(response, 422, "invalid_characters")
    assert body["errors"] == [{"loc": ["body", "story"], "type": "string_nul", "msg": "NUL characters are not allowed"}]


def test_a_lone_surrogate_in_a_body_string_is_a_422(stack) -> None:
    text = json.dumps(case_body(new_borrower(), story="x"), ensure_ascii=True).replace('"x"', '"\\ud800"')
    with client("intake", role="agent") as api:
        response = api.post("/cases", content=text, headers={"Content-Type": "application/json"})
    body = assert_problem(response, 422, "invalid_characters")
    assert body["errors"][0]["loc"] == ["body", "story"]
    assert body["errors"][0]["type"] == "string_unpaired_surrogate"


@pytest.mark.parametrize("service, path", [("intake", "/cases/C-1%00x"), ("intake", "/cases?borrower_id=B%00"),
                                           ("monitoring", "/agreements/A%00/payments"),
                                           ("agreement", "/offers?case_id=%00")])
def test_a_nul_byte_in_a_path_or_query_is_a_422(stack, service: str, path: str) -> None:
    with client(service, role="agent") as api:
        response = api.request("POST" if path.endswith("/payments") else "GET", httpx.URL(api_url(service) + path),
                               json={"reference": "r", "amount": "1.00"} if path.endswith("/payments") else None)
    assert_problem(response, 422, "invalid_characters")


@pytest.mark.parametrize("service, path", [("intake", "/cases"), ("evaluation", "/reviews"),
                                           ("agreement", "/offers"), ("monitoring", "/referrals")])
@pytest.mark.parametrize("offset", [str(2**63), "9" * 40])
def test_an_offset_beyond_the_databases_integers_is_a_422(stack, service: str, path: str, offset: str) -> None:
    with client(service, role="supervisor") as api:
        response = api.get(path, params={"offset": offset})
    body = assert_problem(response, 422, "invalid_request")
    assert body["errors"][0]["loc"] == ["query", "offset"]


def test_an_integer_beyond_64_bits_in_a_body_is_a_422(stack) -> None:
    body = case_body(new_borrower())
    body["loans"][0]["days_past_due"] = 10**30
    with client("intake", role="agent") as api:
        response = api.post("/cases", json=body)
    problem = assert_problem(response, 422, "invalid_request")
    assert problem["errors"][0]["loc"] == ["body", "loans", 0, "days_past_due"]


# -- bodies: limited, read only for a known caller, never echoed -------------------------------


def test_a_request_without_a_valid_token_is_refused_before_its_body_is_read(stack) -> None:
    # 1000 bytes announced, none sent: an answer within the wait means the body was never awaited
    for authorization in ("", "Authorization: Bearer not-a-token\r\n"):
        answer = raw_exchange("intake", "POST /cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              f"{authorization}Content-Length: 1000\r\n")
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
        assert PROBLEM.encode() in answer


def test_a_body_over_the_limit_is_refused_by_its_content_length_before_it_is_sent(stack) -> None:
    head = ("POST /cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token('agent')}\r\nContent-Length: {60 * 1024 * 1024}\r\n")
    started = time.monotonic()
    answer = raw_exchange("intake", head)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"body_too_large" in answer or PROBLEM.encode() in answer
    assert time.monotonic() - started < 4


def test_a_chunked_body_is_counted_and_refused_at_the_limit(stack) -> None:
    def chunks():
        yield b'{"story": "'
        for _ in range(100):
            yield b"x" * 4096

    with client("intake", role="agent") as api:
        response = api.post("/cases", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    body = assert_problem(response, 413, "body_too_large")
    assert "65536" in body["detail"]


def test_a_30_mib_story_is_refused_with_413_and_a_small_body(stack) -> None:
    with client("intake", role="agent") as api:
        response = api.post("/cases", json=case_body(new_borrower(), story="s" * (30 * 1024 * 1024)))
    assert_problem(response, 413, "body_too_large")
    assert len(response.content) < 1000


def test_a_422_never_echoes_the_input(stack) -> None:
    story = "my story " * 6000  # 54 kB: within the body limit, over the story's 10,000 characters
    with client("intake", role="agent") as api:
        response = api.post("/cases", json=case_body(new_borrower(), story=story))
    body = assert_problem(response, 422, "invalid_request")
    assert body["errors"][0]["loc"] == ["body", "story"]
    assert len(response.content) < 2000 and "my story my story" not in response.text


def test_an_evidence_upload_is_refused_at_its_limit_while_it_streams(stack) -> None:
    with client("intake", role="agent") as api:
        case = api.post("/cases", json=case_body(new_borrower())).json()

        def parts():
            yield (b"--b\r\nContent-Disposition: form-data; name=\"document_type\"\r\n\r\ntermination_letter\r\n"
                   b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n"
                   b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\n")
            for _ in range(12 * 16):  # 12 MiB, chunked: no Content-Length to refuse up front
                yield b"0" * 65536
            yield b"\r\n--b--\r\n"

        response = api.post(f"/cases/{case['case_id']}/evidence", content=parts(),
                            headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert_problem(response, 413, "body_too_large")


# -- metric labels ----------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_invented_methods_and_paths_do_not_make_new_metric_series(stack, service: str) -> None:
    base = api_url(service)
    for method in ("FTX1", "FTX2", "BREW"):
        httpx.request(method, f"{base}/healthz")
    httpx.get(f"{base}/random-{time.monotonic_ns()}")
    scrape = httpx.get(f"{base}/metrics").text
    assert 'method="FTX1"' not in scrape and 'method="BREW"' not in scrape
    assert f'forbear_http_requests_total{{method="other",route="/healthz",service="{service}",status="405"}}' in scrape
    assert f'forbear_http_requests_total{{method="GET",route="unmatched",service="{service}",status="404"}}' in scrape
    assert "random-" not in scrape


def test_close_of_business_catches_up_at_most_a_year_per_call(stack) -> None:
    with client("monitoring", role="supervisor") as api:
        response = api.post("/business-date/advance", json={"to": "2077-09-13"}, timeout=60)
    assert_problem(response, 409, "advance_too_far")

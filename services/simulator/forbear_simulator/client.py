"""A typed HTTP client for Forbear's APIs, acting as the lender's channels, staff and core banking.

Used by the demo simulator, the end-to-end tests and the benchmarks: each of them goes through
the same public APIs a lender's systems would call.
"""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from forbear_shared.devstack import API_PORTS


class TokenSource(Protocol):
    """Anything that hands out a current access token (forbear_shared.oidc.ClientCredentials,
    PasswordLogin; the test suite's issuer)."""

    def token(self) -> str: ...


class BearerAuth(httpx.Auth):
    """A fresh token on every request: sources cache theirs until shortly before expiry."""

    def __init__(self, tokens: TokenSource) -> None:
        self.tokens = tokens

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.tokens.token()}"
        yield request


class ApiError(Exception):
    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {"detail": response.text}
        self.body = body
        self.reason = body.get("reason") if isinstance(body, dict) else None
        super().__init__(f"{response.request.method} {response.request.url.path} -> {response.status_code}: {body}")


def tiny_pdf(label: str) -> bytes:
    """A small, well-formed PDF (what a scanned document upload starts with)."""
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        + f"% {label}\n".encode()
        + b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def tiny_png(seed: int) -> bytes:
    """A valid 1x1 PNG whose pixel varies with ``seed`` (distinct files hash differently)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    pixel = bytes([0, seed % 256, (seed // 256) % 256, 200])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(pixel))
        + chunk(b"IEND", b"")
    )


@dataclass
class Forbear:
    """One caller identity (whoever the token source's tokens name) against the four services."""

    tokens: TokenSource
    port_offset: int = 0
    host: str = "127.0.0.1"
    timeout: float = 30.0
    _clients: dict[str, httpx.Client] = field(default_factory=dict, repr=False)

    def as_(self, tokens: TokenSource) -> Forbear:
        """Another identity on the same services."""
        return Forbear(tokens, self.port_offset, self.host, self.timeout)

    def http(self, service: str) -> httpx.Client:
        if service not in self._clients:
            self._clients[service] = httpx.Client(
                base_url=f"http://{self.host}:{API_PORTS[service] + self.port_offset}",
                auth=BearerAuth(self.tokens),
                timeout=self.timeout,
            )
        return self._clients[service]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def call(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http(service).request(method, path, **kwargs)
        if response.status_code >= 400:
            raise ApiError(response)
        return response.json() if response.content else None

    # -- intake --------------------------------------------------------------------------
    def open_case(self, body: dict[str, Any], idempotency_key: str | None = None) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.call("intake", "POST", "/cases", json=body, headers=headers)  # type: ignore[no-any-return]

    def put_statement(self, case_id: str, statement: dict[str, Any]) -> dict[str, Any]:
        return self.call("intake", "PUT", f"/cases/{case_id}/statement", json=statement)  # type: ignore[no-any-return]

    def upload(self, case_id: str, document_type: str, content: bytes, filename: str, media: str,
               idempotency_key: str | None = None) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.call(  # type: ignore[no-any-return]
            "intake", "POST", f"/cases/{case_id}/evidence",
            data={"document_type": document_type}, files={"file": (filename, content, media)}, headers=headers,
        )

    def review(self, case_id: str, document_id: str, outcome: str, reason: str | None = None,
               found_false: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {"outcome": outcome, "found_false": found_false}
        if reason:
            body["reason"] = reason
        return self.call(  # type: ignore[no-any-return]
            "intake", "POST", f"/cases/{case_id}/evidence/{document_id}/review", json=body
        )

    def submit(self, case_id: str) -> dict[str, Any]:
        return self.call("intake", "POST", f"/cases/{case_id}/submit")  # type: ignore[no-any-return]

    def case(self, case_id: str) -> dict[str, Any]:
        return self.call("intake", "GET", f"/cases/{case_id}")  # type: ignore[no-any-return]

    def cases(self, **params: Any) -> list[dict[str, Any]]:
        return self.call("intake", "GET", "/cases", params=params)  # type: ignore[no-any-return]

    def contact(self, case_id: str, party: str, channel: str, local_time: str,
                direction: str = "outbound", note: str | None = None,
                idempotency_key: str | None = None, representative_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"party": party, "channel": channel, "local_time": local_time, "direction": direction}
        if note:
            body["note"] = note
        if representative_id:
            body["representative_id"] = representative_id
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.call("intake", "POST", f"/cases/{case_id}/contacts", json=body,  # type: ignore[no-any-return]
                         headers=headers)

    # -- monitoring: business date --------------------------------------------------------
    def business_date(self, service: str = "monitoring") -> dt.date:
        return dt.date.fromisoformat(self.call(service, "GET", "/business-date")["business_date"])

    def advance(self, to: dt.date | None = None) -> dict[str, Any]:
        body = {"to": to.isoformat()} if to else {}
        return self.call("monitoring", "POST", "/business-date/advance", json=body)  # type: ignore[no-any-return]

    # -- evaluation ------------------------------------------------------------------------
    def decisions(self, case_id: str) -> list[dict[str, Any]]:
        return self.call("evaluation", "GET", f"/cases/{case_id}/decisions")["decisions"]  # type: ignore[no-any-return]

    def reviews(self, status: str = "open", limit: int = 500, offset: int = 0) -> list[dict[str, Any]]:
        return self.call("evaluation", "GET", "/reviews",  # type: ignore[no-any-return]
                         params={"status": status, "limit": limit, "offset": offset})["reviews"]

    def decide_review(self, review_id: str, outcome: str, reason: str) -> dict[str, Any]:
        return self.call("evaluation", "POST", f"/reviews/{review_id}/decide",  # type: ignore[no-any-return]
                         json={"outcome": outcome, "reason": reason},
                         headers={"Idempotency-Key": f"decide-{review_id}"})

    def lodge_appeal(self, decision_id: str, statement: str, evidence: list[dict[str, str]]) -> dict[str, Any]:
        return self.call("evaluation", "POST", f"/decisions/{decision_id}/appeals",  # type: ignore[no-any-return]
                         json={"statement": statement, "evidence": evidence},
                         headers={"Idempotency-Key": f"appeal-{decision_id}"})

    def appeals(self, status: str = "pending", limit: int = 500, offset: int = 0) -> list[dict[str, Any]]:
        return self.call("evaluation", "GET", "/appeals",  # type: ignore[no-any-return]
                         params={"status": status, "limit": limit, "offset": offset})["appeals"]

    def decide_appeal(self, appeal_id: str, outcome: str, reason: str) -> dict[str, Any]:
        return self.call("evaluation", "POST", f"/appeals/{appeal_id}/decide",  # type: ignore[no-any-return]
                         json={"outcome": outcome, "reason": reason},
                         headers={"Idempotency-Key": f"decide-{appeal_id}"})

    # -- agreement -------------------------------------------------------------------------
    def offers(self, status: str | None = None, limit: int = 500, offset: int = 0) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if status:
            params["status"] = status
        return self.call("agreement", "GET", "/offers", params=params)  # type: ignore[no-any-return]

    def case_offers(self, case_id: str) -> list[dict[str, Any]]:
        return self.call("agreement", "GET", f"/cases/{case_id}/offers")  # type: ignore[no-any-return]

    def accept(self, offer_id: str, payment_method: str = "account_debit") -> dict[str, Any]:
        return self.call("agreement", "POST", f"/offers/{offer_id}/accept",  # type: ignore[no-any-return]
                         json={"payment_method": payment_method}, headers={"Idempotency-Key": f"accept-{offer_id}"})

    def counter(self, offer_id: str, proposed_instalment: str | None = None,
                proposed_term_months: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if proposed_instalment is not None:
            body["proposed_instalment"] = proposed_instalment
        if proposed_term_months is not None:
            body["proposed_term_months"] = proposed_term_months
        return self.call("agreement", "POST", f"/offers/{offer_id}/counter", json=body,  # type: ignore[no-any-return]
                         headers={"Idempotency-Key": f"counter-{offer_id}"})

    def agreements(self, status: str | None = None, limit: int = 500, offset: int = 0) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if status:
            params["status"] = status
        return self.call("agreement", "GET", "/agreements", params=params)  # type: ignore[no-any-return]

    def agreement(self, agreement_id: str) -> dict[str, Any]:
        return self.call("agreement", "GET", f"/agreements/{agreement_id}")  # type: ignore[no-any-return]

    def document(self, agreement_id: str) -> dict[str, Any]:
        return self.call("agreement", "GET", f"/agreements/{agreement_id}/document")  # type: ignore[no-any-return]

    def request_signing_code(self, agreement_id: str, channel: str = "sms") -> dict[str, Any]:
        """Have the borrower's one-time code sent (the answer says where and until when, never the code)."""
        return self.call("agreement", "POST", f"/agreements/{agreement_id}/signing-code",  # type: ignore[no-any-return]
                         json={"channel": channel})

    def sign(self, agreement_id: str, party: str, document_sha256: str, one_time_code: str | None = None,
             attempt: str = "") -> dict[str, Any]:
        """Sign for ``party``; the borrower's signature carries the code sent to the borrower. ``attempt``
        tells one code's signature from another's under the Idempotency-Key (e.g. the code's expiry)."""
        body: dict[str, Any] = {"party": party, "document_sha256": document_sha256}
        if one_time_code is not None:
            body["one_time_code"] = one_time_code
        key = f"sign-{party}-{agreement_id}" + (f"-{attempt}" if attempt else "")
        return self.call("agreement", "POST", f"/agreements/{agreement_id}/signatures",  # type: ignore[no-any-return]
                         json=body, headers={"Idempotency-Key": key})

    # -- monitoring ------------------------------------------------------------------------
    def monitored(self, status: str | None = None, level: str | None = None, limit: int = 500,
                  offset: int = 0) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if status:
            params["status"] = status
        if level:
            params["level"] = level
        return self.call("monitoring", "GET", "/agreements", params=params)  # type: ignore[no-any-return]

    def monitored_agreement(self, agreement_id: str) -> dict[str, Any]:
        return self.call("monitoring", "GET", f"/agreements/{agreement_id}")  # type: ignore[no-any-return]

    def referrals(self, limit: int = 500, offset: int = 0) -> list[dict[str, Any]]:
        return self.call("monitoring", "GET", "/referrals",  # type: ignore[no-any-return]
                         params={"limit": limit, "offset": offset})

    def promise(self, agreement_id: str, amount: str, due_date: dt.date, channel: str,
                idempotency_key: str | None = None) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.call("monitoring", "POST", f"/agreements/{agreement_id}/promises",  # type: ignore[no-any-return]
                         json={"amount": amount, "due_date": due_date.isoformat(), "channel": channel}, headers=headers)

    def pay(self, agreement_id: str, reference: str, amount: str, received_on: dt.date | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"reference": reference, "amount": amount}
        if received_on:
            body["received_on"] = received_on.isoformat()
        return self.call("monitoring", "POST", f"/agreements/{agreement_id}/payments", json=body)  # type: ignore[no-any-return]

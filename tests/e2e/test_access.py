"""Scenario 8: roles and ownership on every endpoint of the four services.

The matrix below is the API documentation (each service's README) written as data. The tests
check it against each service's ``/openapi.json``, so a route added without a place in the
matrix fails here; then every route is called without a token (401), with every role the
documentation does not allow (403), and every route a borrower may use is called by another
borrower on a real case, offer or agreement (404: someone else's case does not exist for them).

Only ``ops`` routes (liveness, readiness, Prometheus) are public by design.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from forbear_simulator.client import tiny_pdf

from tests.e2e.journey import Journey, to_active_agreement, uid
from tests.support.http import api_url, client

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

ROLES = ("agent", "supervisor", "system", "borrower")
ALL = set(ROLES)
STAFF = {"agent", "supervisor"}
STAFF_OR_BORROWER = {"agent", "supervisor", "borrower"}

#: (method, path) -> roles allowed, as documented in each service's README
MATRIX: dict[str, dict[tuple[str, str], set[str]]] = {
    "intake": {
        ("GET", "/business-date"): ALL,
        ("POST", "/cases"): ALL,
        ("GET", "/cases"): ALL,
        ("GET", "/cases/{case_id}"): ALL,
        ("PUT", "/cases/{case_id}/statement"): STAFF_OR_BORROWER,
        ("PUT", "/cases/{case_id}/history"): {"supervisor", "system"},
        ("POST", "/cases/{case_id}/evidence"): STAFF_OR_BORROWER,
        ("GET", "/cases/{case_id}/evidence"): ALL,
        ("GET", "/cases/{case_id}/evidence/{document_id}/content"): STAFF_OR_BORROWER,
        ("POST", "/cases/{case_id}/evidence/{document_id}/review"): STAFF,
        ("POST", "/cases/{case_id}/contacts"): {"agent", "supervisor", "system"},
        ("GET", "/cases/{case_id}/contacts"): ALL,
        ("POST", "/cases/{case_id}/submit"): STAFF_OR_BORROWER,
        ("POST", "/cases/{case_id}/representatives"): {"borrower", "agent"},
        ("GET", "/cases/{case_id}/representatives"): STAFF_OR_BORROWER,
        ("POST", "/cases/{case_id}/representatives/{representative_id}/revocation"): {"borrower", "agent"},
    },
    "evaluation": {
        ("GET", "/business-date"): ALL,
        ("GET", "/cases/{case_id}/decisions"): STAFF_OR_BORROWER,
        ("GET", "/decisions/{decision_id}"): STAFF_OR_BORROWER,
        ("GET", "/reviews"): STAFF,
        ("GET", "/reviews/{review_id}"): STAFF,
        ("POST", "/reviews/{review_id}/decide"): {"supervisor"},
        ("POST", "/decisions/{decision_id}/appeals"): {"borrower", "agent"},
        ("GET", "/cases/{case_id}/appeals"): STAFF_OR_BORROWER,
        ("GET", "/appeals"): STAFF,
        ("GET", "/appeals/{appeal_id}"): STAFF,
        ("POST", "/appeals/{appeal_id}/decide"): {"supervisor"},
    },
    "agreement": {
        ("GET", "/business-date"): ALL,
        ("GET", "/cases/{case_id}/offers"): STAFF_OR_BORROWER,
        ("GET", "/offers"): STAFF,
        ("GET", "/offers/{offer_id}"): STAFF_OR_BORROWER,
        ("POST", "/offers/{offer_id}/accept"): {"borrower", "agent"},
        ("POST", "/offers/{offer_id}/counter"): {"borrower", "agent"},
        ("GET", "/agreements"): STAFF,
        ("GET", "/agreements/{agreement_id}"): STAFF_OR_BORROWER,
        ("GET", "/agreements/{agreement_id}/document"): STAFF_OR_BORROWER,
        ("GET", "/agreements/{agreement_id}/document.txt"): STAFF_OR_BORROWER,
        ("GET", "/agreements/{agreement_id}/document.pdf"): STAFF_OR_BORROWER,
        ("POST", "/agreements/{agreement_id}/signatures"): STAFF_OR_BORROWER,
        ("POST", "/agreement-verifications"): ALL,
        ("POST", "/agreements/{agreement_id}/signing-code"): {"borrower", "agent"},
    },
    "monitoring": {
        ("GET", "/business-date"): ALL,
        ("POST", "/business-date/advance"): {"supervisor", "system"},
        ("GET", "/agreements"): STAFF,
        ("GET", "/agreements/{agreement_id}"): STAFF_OR_BORROWER,
        ("POST", "/agreements/{agreement_id}/payments"): {"agent", "system"},
        ("POST", "/agreements/{agreement_id}/promises"): {"borrower", "agent"},
        ("GET", "/agreements/{agreement_id}/promises"): STAFF_OR_BORROWER,
        ("GET", "/referrals"): STAFF,
        ("GET", "/referrals/{referral_id}"): STAFF,
        ("GET", "/payments/unmatched"): STAFF,
    },
}

SERVICES = tuple(MATRIX)


def openapi_routes(service: str) -> set[tuple[str, str]]:
    spec = httpx.get(api_url(service) + "/openapi.json", timeout=30).json()
    routes = set()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method.upper() not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                continue
            if "ops" in operation.get("tags", []):
                continue  # liveness, readiness and metrics are for the platform, not callers
            routes.add((method.upper(), path))
    return routes


def concrete(path: str, ids: dict[str, str] | None = None) -> str:
    ids = ids or {}
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), f"unknown-{m.group(1)}"), path)


#: schema-valid bodies, so that only access decides the answer
VALID_BODIES = {
    "/statement": {"income": [{"category": "salary", "monthly_amount": "1000.00"}],
                   "essential_expenditure": [{"category": "rent", "monthly_amount": "500.00"}]},
    "/accept": {"payment_method": "account_debit"},
    "/counter": {"proposed_term_months": 6},
    "/signatures": {"party": "borrower", "document_sha256": "0" * 64, "one_time_code": "000000"},
    "/signing-code": {"channel": "sms"},
    "/appeals": {"statement": "The decision did not know the hospital stay.",
                 "evidence": [{"document_type": "discharge_summary", "description": "discharge summary"}]},
    "/promises": {"amount": "100.00", "due_date": "2026-01-10", "channel": "phone"},
    "/representatives": {"kind": "lawyer", "name": "Access Test", "channel": "phone", "scopes": ["communications"],
                         "ends_on": "2026-06-30", "document_id": "unknown-document"},
}


def call(http: httpx.Client, method: str, path: str) -> httpx.Response:
    if method == "POST" and path.endswith("/evidence"):  # multipart: a real file
        return http.post(path, data={"document_type": "termination_letter"},
                         files={"file": ("x.pdf", tiny_pdf("access"), "application/pdf")})
    if method in ("POST", "PUT"):
        body = next((b for suffix, b in VALID_BODIES.items() if path.endswith(suffix)), {})
        return http.request(method, path, json=body)
    return http.request(method, path)


def routes_of(service: str) -> Iterator[tuple[str, str]]:
    yield from sorted(MATRIX[service])


@pytest.mark.parametrize("service", SERVICES)
def test_the_access_matrix_names_every_route_each_service_publishes(stack, service: str) -> None:
    published = openapi_routes(service)
    assert published == set(MATRIX[service]), (
        f"undocumented: {sorted(published - set(MATRIX[service]))}; gone: {sorted(set(MATRIX[service]) - published)}")


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_refuses_a_caller_without_a_token_or_with_a_forged_one(stack, service: str) -> None:
    failures = []
    forged = httpx.Client(base_url=api_url(service), timeout=30,
                          headers={"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.forged"})
    anonymous = httpx.Client(base_url=api_url(service), timeout=30)
    try:
        for method, path in sorted(openapi_routes(service) | set(MATRIX[service])):
            for who, http in (("no token", anonymous), ("forged token", forged)):
                response = call(http, method, concrete(path))
                if response.status_code != 401:
                    failures.append(f"{method} {path} ({who}): {response.status_code} {response.text[:120]}")
    finally:
        anonymous.close()
        forged.close()
    assert failures == []


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_refuses_the_roles_it_does_not_serve(stack, service: str) -> None:
    failures = []
    for method, path in routes_of(service):
        for role in sorted(ALL - MATRIX[service][(method, path)]):
            with client(service, role=role, subject=f"{role}-access", borrower_id=uid("BRW") if role == "borrower"
                        else None) as http:
                response = call(http, method, concrete(path))
            if response.status_code != 403:
                failures.append(f"{method} {path} as {role}: {response.status_code} {response.text[:120]}")
    assert failures == []


@pytest.fixture(scope="module")
def owned(stack: Any) -> Journey:
    """One borrower's real case, decision, offer, agreement and evidence."""
    return to_active_agreement()


def owner_ids(journey: Journey) -> dict[str, str]:
    return {
        "case_id": journey.case_id,
        "document_id": journey.documents[0]["document_id"],
        "decision_id": journey.decision["decision_id"],
        "offer_id": journey.offer["offer_id"],
        "agreement_id": journey.agreement_id,
    }


#: the routes a borrower may call on a resource of their own (the owner gets 200, anyone else 404)
OWN_READS = {
    "intake": ["/cases/{case_id}", "/cases/{case_id}/evidence", "/cases/{case_id}/evidence/{document_id}/content",
               "/cases/{case_id}/representatives", "/cases/{case_id}/contacts"],
    "evaluation": ["/cases/{case_id}/decisions", "/decisions/{decision_id}", "/cases/{case_id}/appeals"],
    "agreement": ["/cases/{case_id}/offers", "/offers/{offer_id}", "/agreements/{agreement_id}",
                  "/agreements/{agreement_id}/document", "/agreements/{agreement_id}/document.txt",
                  "/agreements/{agreement_id}/document.pdf"],
    "monitoring": ["/agreements/{agreement_id}", "/agreements/{agreement_id}/promises"],
}
OWN_WRITES = {
    "intake": [("PUT", "/cases/{case_id}/statement"), ("POST", "/cases/{case_id}/evidence"),
               ("POST", "/cases/{case_id}/submit"), ("POST", "/cases/{case_id}/representatives"),
               ("POST", "/cases/{case_id}/representatives/{representative_id}/revocation")],
    "evaluation": [("POST", "/decisions/{decision_id}/appeals")],
    "agreement": [("POST", "/offers/{offer_id}/accept"), ("POST", "/offers/{offer_id}/counter"),
                  ("POST", "/agreements/{agreement_id}/signatures"),
                  ("POST", "/agreements/{agreement_id}/signing-code")],
    "monitoring": [("POST", "/agreements/{agreement_id}/promises")],
}


@pytest.mark.parametrize("service", SERVICES)
def test_a_borrower_reaches_their_own_case_and_never_anyone_elses(stack, owned: Journey, service: str) -> None:
    ids = owner_ids(owned)
    # every borrower route of the matrix is exercised below
    borrower_routes = {k for k, roles in MATRIX[service].items() if "borrower" in roles and "{" in k[1]}
    assert borrower_routes == {("GET", p) for p in OWN_READS[service]} | set(OWN_WRITES[service])

    failures = []
    owner = client(service, role="borrower", subject="portal-owner", borrower_id=owned.borrower_id)
    stranger = client(service, role="borrower", subject="portal-stranger", borrower_id=uid("BRW"))
    try:
        for path in OWN_READS[service]:
            mine = owner.get(concrete(path, ids))
            if mine.status_code != 200:
                failures.append(f"owner GET {path}: {mine.status_code} {mine.text[:120]}")
            theirs = stranger.get(concrete(path, ids))
            if theirs.status_code != 404:
                failures.append(f"stranger GET {path}: {theirs.status_code} {theirs.text[:120]}")
        for method, path in OWN_WRITES[service]:
            theirs = call(stranger, method, concrete(path, ids))
            if theirs.status_code != 404:
                failures.append(f"stranger {method} {path}: {theirs.status_code} {theirs.text[:120]}")
        if service == "intake":
            listed = stranger.get("/cases", params={"borrower_id": owned.borrower_id})
            if listed.status_code != 200 or any(c["case_id"] == owned.case_id for c in listed.json()):
                failures.append(f"stranger GET /cases?borrower_id=owner: {listed.status_code} {listed.text[:120]}")
    finally:
        owner.close()
        stranger.close()
    assert failures == []
    # the stranger's attempts changed nothing
    with client("agreement", role="agent") as api:
        assert api.get(f"/agreements/{owned.agreement_id}").json()["status"] == "active"

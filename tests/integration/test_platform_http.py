"""Every service answers /healthz, /readyz and /metrics over real HTTP, and guards its API."""

from __future__ import annotations

import httpx
import pytest
from forbear_shared.devstack import SERVICES

from tests.support.http import api_url, client, worker_metrics_url

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", SERVICES)
def test_service_is_live_ready_and_scrapable(stack, service: str) -> None:
    base = api_url(service)
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok", "service": service}
    ready = httpx.get(f"{base}/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["postgres"] == "ok" and ready.json()["kafka"] == "ok"
    scrape = httpx.get(f"{base}/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    # the readiness call above was counted with its route template, not its raw path
    assert f'forbear_http_requests_total{{method="GET",route="/readyz",service="{service}",status="200"}}' in scrape.text
    worker = httpx.get(worker_metrics_url(service))
    assert worker.status_code == 200
    assert f'forbear_outbox_backlog_events{{service="{service}"}}' in worker.text


@pytest.mark.parametrize("service", SERVICES)
def test_api_without_a_token_is_401_and_openapi_is_published(stack, service: str) -> None:
    base = api_url(service)
    response = httpx.get(f"{base}/business-date")
    assert response.status_code == 401
    assert response.json()["reason"] == "missing_token"
    bad = httpx.get(f"{base}/business-date", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401 and bad.json()["reason"] == "invalid_token"
    spec = httpx.get(f"{base}/openapi.json").json()
    assert "/business-date" in spec["paths"]


def test_agent_may_not_run_close_of_business(stack) -> None:
    with client("monitoring", role="agent") as api:
        response = api.post("/business-date/advance", json={})
    assert response.status_code == 403
    assert response.json()["reason"] == "forbidden_role"

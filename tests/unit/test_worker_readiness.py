"""A worker's metrics port answers /readyz from its last round of checks, /healthz always, and
sets forbear_dependency_up and forbear_ready from what it saw."""

from __future__ import annotations

import httpx
from forbear_shared import metrics
from forbear_shared.readiness import Readiness, serve_worker_http


def test_a_worker_is_not_ready_while_a_dependency_is_away_and_ready_once_it_is_back() -> None:
    broker: list[str | None] = ["kafka unavailable: KafkaTimeoutError"]
    readiness = Readiness("readiness-test", {"postgres": lambda: None, "kafka": lambda: broker[0]})
    server = serve_worker_http("127.0.0.1", 0, readiness)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        # before the first round nothing is known: not ready
        assert httpx.get(f"{base}/readyz").status_code == 503
        readiness.refresh()
        away = httpx.get(f"{base}/readyz")
        assert away.status_code == 503
        assert away.json()["problems"] == {"kafka": "kafka unavailable: KafkaTimeoutError"}
        assert httpx.get(f"{base}/healthz").status_code == 200
        scrape = httpx.get(f"{base}/metrics").text
        assert 'forbear_dependency_up{dependency="kafka",service="readiness-test"} 0.0' in scrape
        assert 'forbear_dependency_up{dependency="postgres",service="readiness-test"} 1.0' in scrape
        assert 'forbear_ready{service="readiness-test"} 0.0' in scrape

        broker[0] = None
        readiness.refresh()
        back = httpx.get(f"{base}/readyz")
        assert back.status_code == 200
        assert back.json() == {"status": "ready", "service": "readiness-test", "postgres": "ok", "kafka": "ok"}
        assert metrics.READY.labels("readiness-test")._value.get() == 1
    finally:
        server.shutdown()


def test_a_check_that_raises_is_a_no_not_a_crash() -> None:
    def broken() -> str | None:
        raise RuntimeError("probe bug")

    readiness = Readiness("readiness-test-2", {"postgres": broken})
    assert readiness.refresh() == {"postgres": "check failed: RuntimeError"}

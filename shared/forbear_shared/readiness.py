"""Is this process able to do its work now? Probes of its dependencies, and the worker's /readyz.

An API answers ``/readyz`` from its own routes (forbear_shared.http); a worker has no API, so
its metrics port serves ``/readyz`` and ``/healthz`` beside ``/metrics``. Both set the gauge
``forbear_dependency_up{service,dependency}`` from what they last saw, which the alerts read.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kafka import KafkaConsumer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from psycopg_pool import ConnectionPool

from forbear_shared import metrics

log = logging.getLogger(__name__)

#: a probe answers within this, up or down: readiness must never hang on the thing it checks
PROBE_TIMEOUT_SECONDS = 3.0

Check = Callable[[], str | None]
"""A readiness check: None when fine, else a short reason (no data, no secrets)."""


def check_postgres(pool: ConnectionPool, timeout: float = PROBE_TIMEOUT_SECONDS) -> str | None:
    try:
        with pool.connection(timeout=timeout) as conn:
            conn.execute("select 1")
    except Exception as exc:
        return f"unavailable: {type(exc).__name__}"
    return None


class KafkaProbe:
    """Asks the broker for its topics with a client of its own, made for each check: a client
    kept from before an outage waits on its dead connection far longer than a probe may."""

    def __init__(self, bootstrap: str, required_topics: Iterable[str]) -> None:
        self.bootstrap = bootstrap
        self.required = set(required_topics)
        self._lock = threading.Lock()

    def check(self) -> str | None:
        timeout_ms = int(PROBE_TIMEOUT_SECONDS * 1000)
        with self._lock:
            client: KafkaConsumer | None = None
            try:
                client = KafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                                       request_timeout_ms=timeout_ms,
                                       bootstrap_timeout_ms=timeout_ms)
                topics = client.topics()
            except Exception as exc:
                return f"kafka unavailable: {type(exc).__name__}"
            finally:
                if client is not None:
                    try:
                        client.close()
                    except Exception:
                        log.debug("closing the probe's client failed", exc_info=True)
        missing = self.required - topics
        return f"missing topics: {sorted(missing)}" if missing else None

    def close(self) -> None:
        """Nothing is kept between checks."""


class Readiness:
    """The named checks of one process, run on demand and every ``every`` seconds in a thread;
    each result sets ``forbear_dependency_up`` and the last full round answers ``/readyz``."""

    def __init__(self, service: str, checks: dict[str, Check], every: float = 5.0) -> None:
        self.service = service
        self.checks = checks
        self.every = every
        self._last: dict[str, str | None] = {name: "not checked yet" for name in checks}
        self._lock = threading.Lock()

    def refresh(self) -> dict[str, str | None]:
        found = {}
        for name, check in self.checks.items():
            try:
                problem = check()
            except Exception as exc:  # a failing check is a "no", never a crash
                problem = f"check failed: {type(exc).__name__}"
            found[name] = problem
            metrics.DEPENDENCY_UP.labels(self.service, name).set(0 if problem else 1)
        with self._lock:
            changed = {n for n in found if (found[n] is None) != (self._last.get(n) is None)}
            self._last = found
        for name in sorted(changed):
            if found[name] is None:
                log.info("dependency back", extra={"dependency": name})
            else:
                log.warning("dependency unavailable", extra={"dependency": name, "problem": found[name]})
        metrics.READY.labels(self.service).set(0 if any(found.values()) else 1)
        return found

    def last(self) -> dict[str, str | None]:
        with self._lock:
            return dict(self._last)

    def run(self, stop: threading.Event) -> None:
        while True:
            self.refresh()
            if stop.wait(self.every):
                return


def serve_worker_http(host: str, port: int, readiness: Readiness) -> ThreadingHTTPServer:
    """``/metrics``, ``/healthz`` (the process answers) and ``/readyz`` (its last readiness round:
    200 when every dependency answered, else 503 naming what did not) on a worker's metrics port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, generate_latest())
            elif path == "/healthz":
                self._json(200, {"status": "ok", "service": readiness.service})
            elif path == "/readyz":
                last = readiness.last()
                problems = {name: problem for name, problem in last.items() if problem}
                if problems:
                    self._json(503, {"status": "not ready", "service": readiness.service, "problems": problems})
                else:
                    self._json(200, {"status": "ready", "service": readiness.service, **{n: "ok" for n in last}})
            else:
                self._json(404, {"status": "not found"})

        def _json(self, status: int, body: dict[str, object]) -> None:
            self._send(status, "application/json", json.dumps(body).encode())

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's name)
            pass  # scrapes every few seconds are not news

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return server

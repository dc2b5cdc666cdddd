"""Prometheus for real: promtool checks the shipped files, and Debian's prometheus server
scrapes the running services and answers a business metric back through its HTTP API."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from forbear_shared.devstack import API_PORTS, CONSOLE_WORKER_METRICS_PORT, SERVICES, WORKER_METRICS_PORTS, terminate

from tests.support.http import client, worker_metrics_url
from tests.support.infra import eventually

ROOT = Path(__file__).resolve().parents[2]
PROM_DIR = ROOT / "deploy" / "prometheus"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"`{name}` is not on PATH: install Debian's prometheus package "
            "(deploy/local/prereqs.sh does it in `make test`: apt-get install prometheus)"
        )
    return path


def run(argv: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_promtool_check_rules() -> None:
    result = run([tool("promtool"), "check", "rules", str(PROM_DIR / "alerts.yml")])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus.compose.yml"])
def test_promtool_check_config(config: str) -> None:
    result = run([tool("promtool"), "check", "config", str(PROM_DIR / config)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rule_unit_tests() -> None:
    """deploy/prometheus/alerts_test*.yml: alerts fire (and stay quiet) on synthetic series."""
    result = run([tool("promtool"), "test", "rules", "alerts_test.yml", "alerts_test_daily.yml"], cwd=PROM_DIR)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    """Grafana's queries parsed by promtool: each becomes a recording rule in a scratch file."""
    dashboard = json.loads((ROOT / "deploy/grafana/forbear-kpis.json").read_text())
    rules = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"].replace("$__rate_interval", "1m").replace("$__range", "6h")
            rules.append({"record": f"dashboard:panel_{panel['id']}_{target['refId']}", "expr": expr})
    assert len(rules) >= 20
    scratch = tmp_path / "dashboard-rules.yml"
    scratch.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = run([tool("promtool"), "check", "rules", str(scratch)])
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------- a real server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape_config_for_tests(rule_file: Path, port_offset: int, with_console: bool) -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml, retargeted at the services under test (ports + PORT_OFFSET)."""
    config = yaml.safe_load((PROM_DIR / "prometheus.yml").read_text())
    config["global"].update({"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"})
    config["rule_files"] = [str(rule_file)]
    ports: dict[str, dict[str, int]] = {
        "forbear-api": API_PORTS,
        "forbear-worker": {**WORKER_METRICS_PORTS, "console": CONSOLE_WORKER_METRICS_PORT},
    }
    if with_console:
        ports["forbear-console"] = {"console": 8100}
    for job in config["scrape_configs"]:
        if job["job_name"] in ports:
            for static in job["static_configs"]:
                host, port = static["targets"][0].rsplit(":", 1)
                assert int(port) == ports[job["job_name"]][static["labels"]["app"]]
                static["targets"] = [f"{host}:{int(port) + port_offset}"]
    config["scrape_configs"] = [j for j in config["scrape_configs"] if j["job_name"] in ports]
    return config


class PromServer:
    def __init__(self, base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.base, self.proc, self.log = base, proc, log

    def query(self, promql: str) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.base}/api/v1/query", params={"query": promql}, timeout=10)
        body = response.json()
        assert response.status_code == 200 and body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def scalar(self, promql: str) -> float | None:
        result = self.query(promql)
        return float(result[0]["value"][1]) if result else None


@pytest.fixture()
def prometheus(stack: Any, tmp_path: Path) -> Iterator[PromServer]:
    binary = tool("prometheus")
    config_path = tmp_path / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(scrape_config_for_tests(PROM_DIR / "alerts.yml", stack.port_offset, "console" in stack.procs)))
    port = free_port()
    log = tmp_path / "prometheus.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [binary, f"--config.file={config_path}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=1h"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    server = PromServer(f"http://127.0.0.1:{port}", proc, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"prometheus exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{server.base}/-/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"prometheus not ready in 60s:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield server
    finally:
        # stop exactly the server we started, by its pid
        if proc.poll() is None:
            terminate(proc.pid)
            proc.poll()


@pytest.mark.integration
def test_prometheus_scrapes_every_service_and_reads_a_business_metric_back(stack: Any, prometheus: PromServer) -> None:
    # every API and worker under test is an 'up' target with the labels of deploy/prometheus/prometheus.yml
    def all_targets_up() -> dict[tuple[str, str], str]:
        active = httpx.get(f"{prometheus.base}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
        health = {(t["labels"]["app"], t["labels"]["component"]): t["health"] for t in active}
        expected = {(s, kind): "up" for s in SERVICES for kind in ("api", "worker")}
        if "console" in stack.procs:
            expected[("console", "console")] = "up"
        if "console-worker" in stack.procs:
            expected[("console", "worker")] = "up"
        assert health == expected, health
        return health

    eventually(all_targets_up, timeout=60)
    workers = len(SERVICES) + ("console-worker" in stack.procs)
    assert prometheus.scalar('count(up{job=~"forbear-(api|worker)"} == 1)') == len(SERVICES) + workers

    # the shipped rules load into a real server
    groups = httpx.get(f"{prometheus.base}/api/v1/rules", timeout=10).json()["data"]["groups"]
    alert_names = {r["name"] for g in groups for r in g["rules"] if r["type"] == "alerting"}
    assert {"DeadLetterNotEmpty", "OutboxBacklogGrowing", "ConsumerLagHigh", "LegalReferralSpike",
            "CloseOfBusinessNotRunToday", "ServiceDown", "HighHttpErrorRate"} <= alert_names

    published_query = 'sum(forbear_outbox_published_total{job="forbear-worker", service="monitoring"})'
    published_before = prometheus.scalar(published_query) or 0.0

    # close of business, as an operator: the business date moves and is announced through the outbox
    with client("monitoring", role="supervisor") as api:
        response = api.post("/business-date/advance", json={})
    assert response.status_code == 200, response.text
    new_date = dt.date.fromisoformat(response.json()["business_date"])
    expected = dt.datetime.combine(new_date, dt.time(), tzinfo=dt.UTC).timestamp()

    def business_date_scraped() -> float:
        value = prometheus.scalar(
            'forbear_business_date_timestamp_seconds{job="forbear-api", app="monitoring", service="monitoring"}'
        )
        assert value == expected, f"prometheus has {value}, the API moved the date to {new_date} ({expected})"
        return value

    eventually(business_date_scraped, timeout=30)

    # the worker's relay published the business_date.advanced event, and Prometheus saw it counted
    def published_counted() -> float:
        value = prometheus.scalar(published_query) or 0.0
        assert value >= published_before + 1, f"outbox published {published_before} -> {value}"
        return value

    eventually(published_counted, timeout=30)
    # what Prometheus holds is what the worker itself exposes right now
    direct = httpx.get(worker_metrics_url("monitoring"), timeout=10).text
    assert 'forbear_outbox_published_total{service="monitoring"}' in direct

    # and a shipped recording rule evaluates against the scraped series
    def recorded() -> list[dict[str, Any]]:
        result = prometheus.query('forbear:http_requests:rate5m{service="monitoring"}')
        assert result, "forbear:http_requests:rate5m not recorded yet"
        return result

    eventually(recorded, timeout=60)

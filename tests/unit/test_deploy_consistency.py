"""docker-compose.yml, Prometheus, Grafana and Kubernetes files agree with the local setup.

No Docker engine or cluster runs here, so these files would rot unseen: this test parses them
and checks them against what `make run` really uses (deploy/local/env.sh, the Kafka pom,
forbear_shared.devstack, forbear_shared.settings, forbear_shared.topics, the metrics module).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from forbear_console.settings import ConsoleSettings, PortalSettings
from forbear_shared import kafka_admin, metrics, topics
from forbear_shared.devstack import API_PORTS, CONSOLE_WORKER_METRICS_PORT, SERVICES, WORKER_METRICS_PORTS, processes
from forbear_shared.settings import PLACEHOLDERS, Settings
from prometheus_client.metrics import MetricWrapperBase

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

#: FORBEAR_ variables that are not Settings fields: infrastructure knobs of deploy/local/env.sh
INFRA_VARIABLES = frozenset(
    {
        "FORBEAR_VAR_DIR", "FORBEAR_CACHE_DIR", "FORBEAR_PG_PORT", "FORBEAR_KAFKA_PORT",
        "FORBEAR_KAFKA_CONTROLLER_PORT", "FORBEAR_KAFKA_VERSION", "FORBEAR_DB_NAME", "FORBEAR_DB_USER",
        "FORBEAR_DB_PASSWORD", "FORBEAR_PYTHON", "FORBEAR_KEYCLOAK_VERSION", "FORBEAR_KEYCLOAK_PORT",
        "FORBEAR_KEYCLOAK_MANAGEMENT_PORT", "FORBEAR_S3_PORT", "FORBEAR_VERSITYGW_VERSION", "FORBEAR_GO",
    }
)
SETTINGS_VARIABLES = frozenset(f"FORBEAR_{name.upper()}" for model in (Settings, ConsoleSettings, PortalSettings)
                               for name in model.model_fields)
#: the issuer make run's Keycloak serves (deploy/local/env.sh, realm of deploy/keycloak/)
LOCAL_ISSUER = "http://127.0.0.1:18080/realms/forbear"


# ---------------------------------------------------------------- helpers


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def load_yaml_all(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def env_sh_defaults() -> dict[str, str]:
    """The ``: "${NAME:=value}"`` defaults of deploy/local/env.sh (values without expansions)."""
    found = dict(re.findall(r'^: "\$\{(FORBEAR_\w+):=([^}"$]*)\}"', (DEPLOY / "local/env.sh").read_text(), re.M))
    assert found, "no defaults parsed from deploy/local/env.sh"
    return found


def env_sh_variables() -> set[str]:
    return set(re.findall(r"\b(FORBEAR_\w+)", (DEPLOY / "local/env.sh").read_text()))


def exposed_sample_names() -> set[str]:
    """Every sample name the shared metrics module can expose (counters with _total, histograms' series)."""
    names: set[str] = set()
    for value in vars(metrics).values():
        if not isinstance(value, MetricWrapperBase):
            continue
        for family in value.describe():
            if family.type == "counter":
                names.add(f"{family.name}_total")
            elif family.type == "histogram":
                names |= {f"{family.name}_bucket", f"{family.name}_sum", f"{family.name}_count"}
            else:
                names.add(family.name)
    assert "forbear_http_requests_total" in names and "forbear_outbox_backlog_events" in names
    return names


def forbear_metric_names(text: str) -> set[str]:
    # recording-rule names contain ':' (forbear:...), metric names never do
    return set(re.findall(r"(?<![\w:])(forbear_[a-z0-9_]+)(?![\w:])", text))


def host_port(mapping: str) -> tuple[str, int, int]:
    """``127.0.0.1:8101:8101`` -> (host ip, host port, container port)."""
    parts = str(mapping).split(":")
    assert len(parts) == 3, f"publish ports on an explicit host address, not {mapping!r}"
    return parts[0], int(parts[1]), int(parts[2])


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = load_yaml(ROOT / "docker-compose.yml")
    assert isinstance(data, dict) and "services" in data
    return data["services"]


def forbear_processes(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in compose.items() if spec.get("image", "").startswith("forbear:")}


# ---------------------------------------------------------------- docker-compose.yml


def test_every_service_has_an_api_and_a_worker_on_the_local_ports(compose: dict[str, Any]) -> None:
    for service in SERVICES:
        api, worker = compose[f"{service}-api"], compose[f"{service}-worker"]
        port, metrics_port = API_PORTS[service], WORKER_METRICS_PORTS[service]

        command = api["command"]
        assert command[:5] == ["python", "-m", "forbear_shared.serve", f"forbear_{service}.entrypoints.api:create_app",
                               "--service"]
        assert command[command.index("--port") + 1] == str(port)
        assert command[command.index("--host") + 1] == "0.0.0.0"
        assert [host_port(p) for p in api["ports"]] == [("127.0.0.1", port, port)]

        assert worker["command"] == ["python", "-m", f"forbear_{service}.entrypoints.worker"]
        assert [host_port(p) for p in worker["ports"]] == [("127.0.0.1", metrics_port, metrics_port)]

        for spec in (api, worker):
            env = spec["environment"]
            assert env["FORBEAR_HTTP_PORT"] == str(port)
            assert env["FORBEAR_METRICS_PORT"] == str(metrics_port)
            assert env["FORBEAR_HTTP_HOST"] == "0.0.0.0"
            assert env["FORBEAR_KAFKA_BOOTSTRAP"] == "kafka:19092"
            assert env["FORBEAR_DATABASE_URL"].startswith("postgresql://forbear:")
            assert env["FORBEAR_DATABASE_URL"].endswith("@postgres:5432/forbear")
            assert env["FORBEAR_OIDC_ISSUER"] == LOCAL_ISSUER  # the issuer browsers and make run see
            assert env["FORBEAR_OIDC_DISCOVERY_URL"].startswith("http://keycloak:8080/realms/forbear/")
            assert spec["build"]["dockerfile"] == "deploy/docker/Dockerfile"

    expected = {f"{s}-{kind}" for s in SERVICES for kind in ("api", "worker")} | {"topic-init", "bucket-init",
                                                                                  "console-worker", "console-api", "portal"}
    assert set(forbear_processes(compose)) == expected


def test_compose_host_ports_match_env_sh_and_devstack(compose: dict[str, Any]) -> None:
    defaults = env_sh_defaults()
    assert [host_port(p)[:2] for p in compose["postgres"]["ports"]] == [("127.0.0.1", int(defaults["FORBEAR_PG_PORT"]))]
    assert [host_port(p)[:2] for p in compose["kafka"]["ports"]] == [("127.0.0.1", int(defaults["FORBEAR_KAFKA_PORT"]))]
    published = {host_port(p)[1] for spec in compose.values() for p in spec.get("ports", [])}
    assert set(API_PORTS.values()) | set(WORKER_METRICS_PORTS.values()) <= published
    # no two processes publish the same host port
    all_ports = [host_port(p)[1] for spec in compose.values() for p in spec.get("ports", [])]
    assert len(all_ports) == len(set(all_ports))


def test_postgres_is_15_with_the_local_database_and_role(compose: dict[str, Any]) -> None:
    defaults = env_sh_defaults()
    pg = compose["postgres"]
    assert pg["image"].split(":")[1].split(".")[0] == "15"
    env = pg["environment"]
    assert env["POSTGRES_DB"] == defaults["FORBEAR_DB_NAME"] == "forbear"
    assert env["POSTGRES_USER"] == defaults["FORBEAR_DB_USER"] == "forbear"
    assert env["POSTGRES_PASSWORD"] == defaults["FORBEAR_DB_PASSWORD"]
    assert f"forbear:{env['POSTGRES_PASSWORD']}@postgres" in compose["intake-api"]["environment"]["FORBEAR_DATABASE_URL"]


def test_kafka_is_the_local_version_kraft_without_auto_topic_creation(compose: dict[str, Any]) -> None:
    pom = (DEPLOY / "local/kafka/pom.xml").read_text()
    pom_version = re.search(r"<artifactId>kafka_2\.13</artifactId><version>([^<]+)</version>", pom)
    assert pom_version, "kafka_2.13 dependency not found in deploy/local/kafka/pom.xml"
    kafka = compose["kafka"]
    image, tag = kafka["image"].split(":")
    assert image == "apache/kafka"
    assert tag == pom_version.group(1) == env_sh_defaults()["FORBEAR_KAFKA_VERSION"] == "3.9.1"

    env = kafka["environment"]
    assert str(env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]).lower() == "false"
    assert re.search(r"^auto\.create\.topics\.enable=false$", (DEPLOY / "local/kafka/server.properties.in").read_text(), re.M)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    # the services' bootstrap address is an advertised listener; the host port reaches one advertising 127.0.0.1:19092
    advertised = dict(item.split("://") for item in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    listeners = dict(item.split("://") for item in env["KAFKA_LISTENERS"].split(","))
    assert advertised["PLAINTEXT"] == "kafka:19092"
    kafka_port = env_sh_defaults()["FORBEAR_KAFKA_PORT"]
    _, published, container = host_port(kafka["ports"][0])
    host_listener = next(name for name, addr in listeners.items() if addr.endswith(f":{container}"))
    assert advertised[host_listener] == f"127.0.0.1:{kafka_port}" and published == int(kafka_port)
    assert listeners["CONTROLLER"].endswith(":" + env_sh_defaults()["FORBEAR_KAFKA_CONTROLLER_PORT"])


def test_topic_init_creates_the_same_catalogue_before_any_service_starts(compose: dict[str, Any]) -> None:
    init = compose["topic-init"]
    command = " ".join(init["command"])
    assert "python -m forbear_shared.kafka_admin create-topics" in command
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"
    # the command's module creates exactly the catalogue of forbear_shared.topics
    assert kafka_admin.CATALOGUE is topics.CATALOGUE
    for name, spec in forbear_processes(compose).items():
        if name in {"topic-init", "bucket-init"}:
            continue
        deps = spec["depends_on"]
        assert deps["topic-init"]["condition"] == "service_completed_successfully"
        assert deps["kafka"]["condition"] == deps["postgres"]["condition"] == "service_healthy"


def test_healthchecks_and_dependencies(compose: dict[str, Any]) -> None:
    for service in SERVICES:
        api_check = " ".join(compose[f"{service}-api"]["healthcheck"]["test"])
        assert f"http://127.0.0.1:{API_PORTS[service]}/readyz" in api_check
        worker_check = " ".join(compose[f"{service}-worker"]["healthcheck"]["test"])
        assert f"http://127.0.0.1:{WORKER_METRICS_PORTS[service]}/metrics" in worker_check
        assert compose[f"{service}-worker"]["depends_on"][f"{service}-api"]["condition"] == "service_healthy"
    for name in ("keycloak", "kafka", "postgres", "prometheus"):
        assert compose[name]["healthcheck"]["test"]
    for name, spec in compose.items():
        for dep, cond in (spec.get("depends_on") or {}).items():
            assert dep in compose, f"{name} depends on unknown {dep}"
            assert cond["condition"] in {"service_healthy", "service_completed_successfully"}
            if cond["condition"] == "service_healthy":
                assert "healthcheck" in compose[dep], f"{name} waits for {dep} to be healthy, but it has no healthcheck"


def test_every_forbear_variable_is_a_setting_or_a_documented_infra_variable(compose: dict[str, Any]) -> None:
    # the infra list really is what env.sh defines
    assert INFRA_VARIABLES - {"FORBEAR_PYTHON", "FORBEAR_GO"} <= env_sh_variables()
    used: set[str] = set()
    for spec in compose.values():
        env = spec.get("environment") or {}
        used |= {key for key in env if key.startswith("FORBEAR_")}
    for path in (DEPLOY / "k8s").glob("*.yaml"):
        used |= set(re.findall(r"\b(FORBEAR_[A-Z0-9_]+)\b", path.read_text()))
    used |= set(re.findall(r"\b(FORBEAR_[A-Z0-9_]+)\b", (DEPLOY / "docker/Dockerfile").read_text()))
    assert used, "no FORBEAR_ variables found"
    unknown = used - SETTINGS_VARIABLES - INFRA_VARIABLES
    assert not unknown, f"FORBEAR_ variables that no Settings field reads: {sorted(unknown)}"
    # every process gets the settings without defaults
    required = {f"FORBEAR_{n.upper()}" for n, f in Settings.model_fields.items() if f.is_required()}
    for name, spec in forbear_processes(compose).items():
        if name != "topic-init":
            assert required <= set(spec["environment"]), name


def test_one_non_root_image_from_the_lock_file() -> None:
    dockerfile = (DEPLOY / "docker/Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.M)
    assert "pip install -r requirements.lock" in dockerfile
    for package in ("shared", *(f"services/{s}" for s in SERVICES)):
        assert f"-e {package}" in dockerfile
    user = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert user and user[-1].split(":")[0] not in {"root", "0"}


def test_compose_prometheus_mounts_deploy_prometheus(compose: dict[str, Any]) -> None:
    prom = compose["prometheus"]
    assert prom["image"].startswith("prom/prometheus:")
    assert any(v.startswith("./deploy/prometheus:/etc/prometheus") for v in prom["volumes"])
    assert "--config.file=/etc/prometheus/prometheus.compose.yml" in prom["command"]


# ---------------------------------------------------------------- Prometheus


def scrape_targets(config: dict[str, Any]) -> dict[str, set[str]]:
    jobs: dict[str, set[str]] = {}
    for job in config["scrape_configs"]:
        jobs[job["job_name"]] = {t for sc in job.get("static_configs", []) for t in sc["targets"]}
    return jobs


@pytest.mark.parametrize(
    "file, host",
    [("prometheus.yml", lambda s, kind: "127.0.0.1"), ("prometheus.compose.yml", lambda s, kind: f"{s}-{kind}")],
)
def test_prometheus_scrapes_every_api_and_worker(file: str, host: Any) -> None:
    config = load_yaml(DEPLOY / "prometheus" / file)
    assert config["rule_files"] == ["alerts.yml"]
    jobs = scrape_targets(config)
    assert jobs["forbear-api"] == {f"{host(s, 'api')}:{API_PORTS[s]}" for s in SERVICES}
    assert jobs["forbear-worker"] == {f"{host(s, 'worker')}:{WORKER_METRICS_PORTS[s]}" for s in SERVICES} | {
        f"{host('console', 'worker')}:{CONSOLE_WORKER_METRICS_PORT}"}


def test_compose_prometheus_targets_are_compose_services(compose: dict[str, Any]) -> None:
    jobs = scrape_targets(load_yaml(DEPLOY / "prometheus/prometheus.compose.yml"))
    for target in jobs["forbear-api"] | jobs["forbear-worker"]:
        name, port = target.split(":")
        assert name in compose and any(host_port(p)[2] == int(port) for p in compose[name]["ports"])


REQUIRED_ALERTS = {
    "DeadLetterNotEmpty": "forbear_dead_letter_events_total",
    "OutboxBacklogGrowing": "forbear_outbox_oldest_age_seconds",
    "ConsumerLagHigh": "forbear_consumer_lag_events",
    "LegalReferralSpike": "forbear_legal_referrals_total",
    "CloseOfBusinessNotRunToday": "forbear_cob_runs_total",
    "ServiceDown": "up",
    "HighHttpErrorRate": "forbear_http_requests_total",
    "DependencyDown": "forbear_dependency_up",
    "WorkerNotReady": "forbear_ready",
}


def test_alert_rules_cover_the_required_alerts_with_annotations() -> None:
    rules = [r for group in load_yaml(DEPLOY / "prometheus/alerts.yml")["groups"] for r in group["rules"]]
    alerts = {r["alert"]: r for r in rules if "alert" in r}
    assert set(REQUIRED_ALERTS) <= set(alerts)
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name
    for name, metric in REQUIRED_ALERTS.items():
        assert re.search(rf"\b{metric}\b", alerts[name]["expr"]), name
    assert "increase(forbear_dead_letter_events_total" in alerts["DeadLetterNotEmpty"]["expr"]
    assert "26h" in alerts["CloseOfBusinessNotRunToday"]["expr"]
    assert "> 60" in alerts["OutboxBacklogGrowing"]["expr"]
    records = {r["record"] for r in rules if "record" in r}
    assert all(r.startswith("forbear:") for r in records)
    assert {"forbear:kpi_approval:ratio", "forbear:kpi_cure:ratio", "forbear:kpi_breach:ratio_by_month_on_plan"} <= records


#: the KPI table's metrics (README, "KPIs"): the console worker's gauges, computed from the read model
KPI_GAUGES = re.compile(r"^forbear_(kpi_\w+|read_model_behind_seconds)$")


def test_kpi_recording_rules_read_the_read_models_gauges_only() -> None:
    """One definition: no rule recomputes a KPI from the services' counters."""
    (kpis,) = [g for g in load_yaml(DEPLOY / "prometheus/alerts.yml")["groups"] if g["name"] == "forbear-kpis"]
    for rule in kpis["rules"]:
        if rule["record"].startswith("forbear:kpi_") or rule["record"].startswith("forbear:read_model"):
            used = forbear_metric_names(rule["expr"])
            assert used and all(KPI_GAUGES.match(m) for m in used), rule["record"]
    names = {r["record"] for r in kpis["rules"]}
    for gone in ("forbear:approval:ratio1d", "forbear:cure:ratio30d", "forbear:breach:ratio30d",
                 "forbear:offer_acceptance:ratio7d", "forbear:time_to_first_decision_days:p50_7d"):
        assert gone not in names


def test_the_console_worker_runs_wherever_make_run_runs_it(compose: dict[str, Any],
                                                           k8s: dict[tuple[str, str], dict[str, Any]]) -> None:
    port = CONSOLE_WORKER_METRICS_PORT
    (local,) = [p for p in processes({}) if p.name == "console-worker"]
    assert local.argv[-1] == "forbear_console.entrypoints.worker" and local.env["FORBEAR_METRICS_PORT"] == str(port)
    worker = compose["console-worker"]
    assert worker["command"] == ["python", "-m", "forbear_console.entrypoints.worker"]
    assert [host_port(p) for p in worker["ports"]] == [("127.0.0.1", port, port)]
    assert worker["environment"]["FORBEAR_METRICS_PORT"] == str(port)
    assert f"http://127.0.0.1:{port}/metrics" in " ".join(worker["healthcheck"]["test"])
    deployment = k8s[("Deployment", "console-worker")]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert "forbear_console.entrypoints.worker" in container["command"]
    assert [p["containerPort"] for p in container["ports"]] == [port]
    assert {e["name"]: e["value"] for e in container["env"]}["FORBEAR_METRICS_PORT"] == str(port)
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert [p["port"] for p in k8s[("Service", "console-worker-metrics")]["spec"]["ports"]] == [port]


@pytest.mark.parametrize("name, deployed", [("console", "console-api"), ("portal", "portal")])
def test_the_browsers_doors_run_wherever_make_run_runs_them_and_reach_the_apis_by_name(
        compose: dict[str, Any], k8s: dict[tuple[str, str], dict[str, Any]], name: str, deployed: str) -> None:
    (local,) = [p for p in processes({}) if p.name == name]
    port = int(local.argv[local.argv.index("--port") + 1])
    app = next(a for a in local.argv if a.startswith("forbear_console.entrypoints."))
    door = compose[deployed]
    assert app in door["command"] and door["command"][-1] == str(port)
    assert [host_port(p) for p in door["ports"]] == [("127.0.0.1", port, port)]
    assert f"http://127.0.0.1:{port}/healthz" in " ".join(door["healthcheck"]["test"])
    (container,) = k8s[("Deployment", deployed)]["spec"]["template"]["spec"]["containers"]
    assert app in container["command"] and container["command"][-1] == str(port)
    assert [p["containerPort"] for p in container["ports"]] == [port]
    assert [p["port"] for p in k8s[("Service", deployed)]["spec"]["ports"]] == [port]
    hosts = {door["environment"]["FORBEAR_SERVICE_HOST"], {e["name"]: e["value"] for e in container["env"]}["FORBEAR_SERVICE_HOST"]}
    assert len(hosts) == 1
    (host,) = hosts
    for service in SERVICES:  # the name the door reaches each API by is the API's container and Service
        assert host.format(service=service) in compose
        assert ("Service", host.format(service=service)) in k8s
    # its address at the identity provider is a redirect URI of its client in the demo realm
    realm = json.loads((DEPLOY / "keycloak" / "forbear-realm.json").read_text())
    (client,) = [c for c in realm["clients"] if c["clientId"] == f"forbear-{name}"]
    assert f"http://127.0.0.1:{port}/auth/callback" in client["redirectUris"]


def test_rules_and_dashboard_use_only_metrics_the_services_export() -> None:
    exported = exposed_sample_names()
    groups = load_yaml(DEPLOY / "prometheus/alerts.yml")["groups"]
    alerts = forbear_metric_names(" ".join(r["expr"] for g in groups for r in g["rules"]))
    panels = json.loads((DEPLOY / "grafana/forbear-kpis.json").read_text())["panels"]
    dashboard = forbear_metric_names(" ".join(t["expr"] for p in panels for t in p.get("targets", [])))
    assert alerts and dashboard
    assert alerts <= exported, f"unknown metrics in alerts.yml: {sorted(alerts - exported)}"
    assert dashboard <= exported, f"unknown metrics in the dashboard: {sorted(dashboard - exported)}"


# ---------------------------------------------------------------- Grafana


def test_grafana_dashboard_has_the_kpi_and_sre_panels() -> None:
    dash = json.loads((DEPLOY / "grafana/forbear-kpis.json").read_text())
    assert dash["schemaVersion"] >= 36 and dash["uid"] and dash["title"]
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    panels = [p for p in dash["panels"] if p["type"] != "row"]
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"] and all(t["expr"] for t in panel["targets"]), panel["title"]
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24
    exprs = " ".join(t["expr"] for p in panels for t in p["targets"])
    for metric in (
        # product.md §2 KPIs: the read model's gauges (forbear_console.kpis, the README's KPI table)
        "forbear_kpi_funnel_cases", "forbear_kpi_cases_by_hardship", "forbear_kpi_cases_by_channel",
        "forbear_kpi_rate", "forbear_kpi_active_agreements", "forbear_kpi_breach_rate",
        "forbear_kpi_time_to_first_decision_days", "forbear_kpi_referrals", "forbear_kpi_notices",
        # activity counters of the services
        "forbear_agreements_total", "forbear_instalments_missed_total",
        # SRE
        "forbear_http_requests_total", "forbear_http_request_duration_seconds_bucket", "forbear_consumer_lag_events",
        "forbear_outbox_backlog_events", "forbear_outbox_oldest_age_seconds", "forbear_dead_letter_events_total",
    ):
        assert metric in exprs, f"no panel shows {metric}"
    assert "by (hardship)" in exprs and "by (channel)" in exprs and "by (route)" in exprs and "by (level)" in exprs
    for kpi in ("cure", "approval", "offer_acceptance", "legal_referral"):
        assert f'forbear_kpi_rate{{kpi="{kpi}"}}' in exprs, f"no panel shows the {kpi} rate"
    # every KPI split by policy version (forbear_kpi_by_policy, one series per gauge of the read model)
    from forbear_console.readmodel.gauges import GAUGES

    by_policy = [t["expr"] for p in panels for t in p["targets"] if "forbear_kpi_by_policy" in t["expr"]]
    for name in GAUGES:
        assert any(f'kpi="{name}"' in e or ("kpi=~" in e and name in e) for e in by_policy), \
            f"no panel splits {name} by policy version"
    assert all("policy_version" in e for e in by_policy)
    # one definition: no KPI is computed a second way from the services' counters
    for divergent in ('forbear_decisions_total{outcome="approve"}', 'forbear_offers_total{outcome="accepted"}',
                      'forbear_agreements_total{transition="cured"}', "forbear_time_to_first_decision_days_bucket"):
        assert divergent not in exprs, f"the dashboard computes a KPI from {divergent}"


def test_grafana_provisioning() -> None:
    ds = load_yaml(DEPLOY / "grafana/provisioning/datasources/prometheus.yml")
    assert ds["datasources"][0]["type"] == "prometheus"
    providers = load_yaml(DEPLOY / "grafana/provisioning/dashboards/forbear.yml")["providers"]
    assert providers[0]["type"] == "file" and providers[0]["options"]["path"]


# ---------------------------------------------------------------- Kubernetes


@pytest.fixture(scope="module")
def k8s() -> dict[tuple[str, str], dict[str, Any]]:
    kustomization = load_yaml(DEPLOY / "k8s/kustomization.yaml")
    docs: dict[tuple[str, str], dict[str, Any]] = {}
    for resource in kustomization["resources"]:
        for doc in load_yaml_all(DEPLOY / "k8s" / resource):
            docs[(doc["kind"], doc["metadata"]["name"])] = doc
    return docs


AGREEMENT_SIGNING_ENV = {
    "FORBEAR_AGREEMENT_SIGNING_PKCS12_FILE": "/etc/forbear/signing/lender.p12",
    "FORBEAR_AGREEMENT_SIGNING_TRUST_ROOT_FILE": "/etc/forbear/signing/trust-root.pem",
    "FORBEAR_AGREEMENT_SIGNING_PKCS12_PASSPHRASE": None,  # from the secret, never in the manifest
}


def test_k8s_lists_every_service_on_the_same_ports(k8s: dict[tuple[str, str], dict[str, Any]]) -> None:
    assert ("Namespace", "forbear") in k8s and ("ConfigMap", "forbear-config") in k8s
    for service in SERVICES:
        for kind, port, module in (
            ("api", API_PORTS[service], f"forbear_{service}.entrypoints.api:create_app"),
            ("worker", WORKER_METRICS_PORTS[service], f"forbear_{service}.entrypoints.worker"),
        ):
            deployment = k8s[("Deployment", f"{service}-{kind}")]
            pod = deployment["spec"]["template"]["spec"]
            assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
            (container,) = pod["containers"]
            assert module in container["command"]
            assert [p["containerPort"] for p in container["ports"]] == [port]
            env = {e["name"]: e.get("value") for e in container["env"]}
            ports = {name: env.pop(name, None) for name in ("FORBEAR_HTTP_PORT", "FORBEAR_METRICS_PORT")}
            assert ports == {"FORBEAR_HTTP_PORT": str(API_PORTS[service]), "FORBEAR_METRICS_PORT": str(WORKER_METRICS_PORTS[service])}
            # besides its ports, only the agreement service has variables of its own: its signing key,
            # mounted from the forbear-agreement-signing secret (README "Signed agreements")
            assert env == (AGREEMENT_SIGNING_ENV if service == "agreement" else {})
            if service == "agreement":
                mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
                assert mounts["signing"] == "/etc/forbear/signing"
                volumes = {v["name"]: v for v in pod["volumes"]}
                assert volumes["signing"]["secret"]["secretName"] == "forbear-agreement-signing"
            refs = {next(iter(r.values()))["name"] for r in container["envFrom"]}
            assert refs == {"forbear-config", "forbear-secrets"}
            assert container["resources"]["requests"] and container["resources"]["limits"]
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            if kind == "api":
                assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
                assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
                assert "--port" in container["command"] and str(port) in container["command"]
            else:
                assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
                assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            svc_name = f"{service}-api" if kind == "api" else f"{service}-worker-metrics"
            svc = k8s[("Service", svc_name)]
            assert [p["port"] for p in svc["spec"]["ports"]] == [port]
            assert svc["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    job = k8s[("Job", "forbear-topics")]
    assert "python -m forbear_shared.kafka_admin create-topics" in " ".join(job["spec"]["template"]["spec"]["containers"][0]["command"])


def test_k8s_secret_is_a_template_without_real_secrets(k8s: dict[tuple[str, str], dict[str, Any]]) -> None:
    assert not any(kind == "Secret" for kind, _ in k8s), "kustomization must not apply a Secret"
    (secret,) = load_yaml_all(DEPLOY / "k8s/secret.template.yaml")
    values = secret["stringData"]
    # no signing key: tokens are checked with the IdP's JWKS
    assert set(values) == {"FORBEAR_DATABASE_URL", "FORBEAR_EVIDENCE_S3_ACCESS_KEY_ID", "FORBEAR_EVIDENCE_S3_SECRET_ACCESS_KEY",
                           "FORBEAR_SIGNING_CODE_SECRET", "FORBEAR_SIGNING_CODE_SMTP_PASSWORD",
                           "FORBEAR_CONSOLE_CLIENT_SECRET", "FORBEAR_CONSOLE_SESSION_KEY",
                           "FORBEAR_PORTAL_CLIENT_SECRET", "FORBEAR_PORTAL_SESSION_KEY"}
    # the doors' client secrets are placeholders production refuses
    assert values["FORBEAR_CONSOLE_CLIENT_SECRET"] in PLACEHOLDERS
    assert values["FORBEAR_PORTAL_CLIENT_SECRET"] in PLACEHOLDERS
    # the key the borrower's one-time codes are hashed under, and the mail relay's password, are
    # placeholders production refuses
    assert values["FORBEAR_SIGNING_CODE_SECRET"] in PLACEHOLDERS
    assert values["FORBEAR_SIGNING_CODE_SMTP_PASSWORD"] in PLACEHOLDERS
    # placeholders that production settings refuse, so a forgotten template cannot start
    assert any(f":{word}@" in values["FORBEAR_DATABASE_URL"] for word in PLACEHOLDERS - {""})
    assert values["FORBEAR_EVIDENCE_S3_SECRET_ACCESS_KEY"] in PLACEHOLDERS
    config = k8s[("ConfigMap", "forbear-config")]["data"]
    assert "FORBEAR_DATABASE_URL" not in config and "FORBEAR_EVIDENCE_S3_SECRET_ACCESS_KEY" not in config
    assert config["FORBEAR_OIDC_ISSUER"].startswith("https://")
    assert config["FORBEAR_ENVIRONMENT"] == "production"



def test_k8s_agreement_sends_signing_codes_through_the_mail_relay_once_the_secrets_are_real(
        k8s: dict[tuple[str, str], dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    from forbear_agreement.adapters import code_sender
    from forbear_shared.settings import Settings
    from pydantic import ValidationError

    config = k8s[("ConfigMap", "forbear-config")]["data"]
    (secret,) = load_yaml_all(DEPLOY / "k8s/secret.template.yaml")
    for name, value in {**config, **secret["stringData"]}.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("FORBEAR_AGREEMENT_SIGNING_PKCS12_FILE", "/etc/forbear/signing/lender.p12")
    monkeypatch.setenv("FORBEAR_AGREEMENT_SIGNING_TRUST_ROOT_FILE", "/etc/forbear/signing/trust-root.pem")
    monkeypatch.setenv("FORBEAR_SIGNING_CODE_SECRET", "k" * 16 + "Q2v9xN4rT8wL0pZs")
    monkeypatch.setenv("FORBEAR_DATABASE_URL", "postgresql://forbear:s3cret-pw@postgres:5432/forbear")
    monkeypatch.setenv("FORBEAR_EVIDENCE_S3_SECRET_ACCESS_KEY", "a-real-s3-secret-key")
    with pytest.raises(ValidationError, match="FORBEAR_SIGNING_CODE_SMTP_PASSWORD is a placeholder"):
        Settings(service_name="agreement")
    monkeypatch.setenv("FORBEAR_SIGNING_CODE_SMTP_PASSWORD", "the-relay-login-of-this-lender")
    sender = code_sender.from_settings(Settings(service_name="agreement"))
    assert isinstance(sender, code_sender.SmtpSender)
    assert (sender.tls, sender.port, sender.recipient("brw-1")) == ("starttls", 587, "brw-1@sms-relay.lender.example")


def test_evidence_lives_in_one_object_store_that_every_intake_replica_shares(
    compose: dict[str, Any], k8s: dict[tuple[str, str], dict[str, Any]],
) -> None:
    defaults = env_sh_defaults()
    s3 = compose["s3"]
    image, tag = s3["image"].split(":")
    assert image == "versity/versitygw" and tag == defaults["FORBEAR_VERSITYGW_VERSION"]
    _, published, container = host_port(s3["ports"][0])
    assert published == int(defaults["FORBEAR_S3_PORT"]) and f":{container}" in s3["command"]
    assert s3["environment"]["ROOT_ACCESS_KEY_ID"] == defaults["FORBEAR_EVIDENCE_S3_ACCESS_KEY_ID"]
    assert s3["environment"]["ROOT_SECRET_ACCESS_KEY"] == defaults["FORBEAR_EVIDENCE_S3_SECRET_ACCESS_KEY"]
    init = compose["bucket-init"]
    assert init["command"] == ["python", "-m", "forbear_shared.object_store", "create-bucket"]
    assert init["depends_on"]["s3"]["condition"] == "service_healthy"
    for name in ("intake-api", "intake-worker"):
        spec = compose[name]
        env = spec["environment"]
        assert env["FORBEAR_EVIDENCE_STORE"] == "s3"
        assert env["FORBEAR_EVIDENCE_S3_ENDPOINT_URL"] == f"http://s3:{container}"
        assert env["FORBEAR_EVIDENCE_S3_BUCKET"] == init["environment"]["FORBEAR_EVIDENCE_S3_BUCKET"]
        assert spec["depends_on"]["bucket-init"]["condition"] == "service_completed_successfully"
        Settings(**{k.removeprefix("FORBEAR_").lower(): v for k, v in env.items() if k.startswith("FORBEAR_")})
    # no Forbear process keeps evidence on a disk of its own
    for name, spec in forbear_processes(compose).items():
        assert not spec.get("volumes"), name
    config = k8s[("ConfigMap", "forbear-config")]["data"]
    assert config["FORBEAR_EVIDENCE_STORE"] == "s3" and config["FORBEAR_EVIDENCE_S3_BUCKET"]
    assert config["FORBEAR_EVIDENCE_S3_ENDPOINT_URL"].startswith("https://")
    for kind in ("api", "worker"):
        pod = k8s[("Deployment", f"intake-{kind}")]["spec"]["template"]["spec"]
        assert [v["name"] for v in pod["volumes"]] == ["tmp"] and "emptyDir" in pod["volumes"][0]
        (container_spec,) = pod["containers"]
        assert [m["mountPath"] for m in container_spec["volumeMounts"]] == ["/tmp"]


def test_keycloak_is_the_local_version_with_the_realm_of_deploy_keycloak(compose: dict[str, Any]) -> None:
    defaults = env_sh_defaults()
    assert compose["keycloak"]["image"].endswith(":" + defaults["FORBEAR_KEYCLOAK_VERSION"])
    assert "./deploy/keycloak:/opt/keycloak/data/import:ro" in compose["keycloak"]["volumes"]
    assert [host_port(p) for p in compose["keycloak"]["ports"]] == [("127.0.0.1", int(defaults["FORBEAR_KEYCLOAK_PORT"]), 8080)]
    assert f"--hostname=http://127.0.0.1:{defaults['FORBEAR_KEYCLOAK_PORT']}" in compose["keycloak"]["command"]
    import json

    realm = json.loads((DEPLOY / "keycloak/forbear-realm.json").read_text())
    assert LOCAL_ISSUER.endswith("/realms/" + realm["realm"])
    assert {r["name"] for r in realm["roles"]["realm"]} == {"agent", "supervisor", "borrower", "system"}

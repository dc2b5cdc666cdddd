"""The system rides out a broker outage and a database outage with nothing started by hand.

On the session's private Kafka and Postgres pair (``private_pair``, tests/support/private_infra.py:
the shared pair is never touched; it starts in the background as soon as this test is collected), the four services' workers and APIs run as processes while journeys and payments
flow. The broker is killed for 90 s; 20 s into that, Postgres is stopped immediately for 60 s.
Meanwhile workers are started while the broker is away (intake, and monitoring with its relay
process: the operator's fault campaign found them exiting for good) and while both are away
(agreement: its start-up migrations wait for Postgres); evaluation's faust app rides out both
outages as it runs. Every API
answers 503 with Retry-After while Postgres is down, and /readyz says so; afterwards every
journey completes, every payment is applied once, every outbox is drained and every consumer
group is at the end of its topics.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from forbear_shared.devstack import SERVICES, WORKER_METRICS_PORTS, Stack
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient

from tests.e2e.journey import (
    Journey,
    advance_to,
    corebanking_payment,
    d,
    manual_payment,
    ready_to_submit,
    submit,
    to_active_agreement,
    to_active_agreement_once_submitted,
    topic_events,
    wait_case_status,
    wait_monitored,
    wait_payment,
)
from tests.support import http
from tests.support.infra import TestInfra, eventually, start_test_infra
from tests.support.private_infra import PrivateInfra

pytestmark = [pytest.mark.integration]

#: the private stack's ports sit beside the shared test stack's
PRIVATE_OFFSET = http.PORT_OFFSET + 300
PROCESSES = [f"{service}-{part}" for service in SERVICES for part in ("api", "worker")]
BROKER_DOWN_SECONDS = 90
DATABASE_DOWN_SECONDS = 60
DATABASE_STOPS_AFTER = 20
#: how long anything may take to notice a dependency came back: a readiness round (5 s) plus
#: the longest backoff (15 s) and a consumer group's rejoin, on a loaded machine
RECOVERY = 180.0


@pytest.fixture(scope="module")
def private_infra(private_pair: PrivateInfra) -> TestInfra:
    # the pair is wiped at the end of the session: its database and topics go with it
    return start_test_infra(pg_port=private_pair.pg_port, bootstrap=private_pair.bootstrap)


@pytest.fixture(scope="module")
def private_stack(private_infra: TestInfra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(Path(tmp_path_factory.mktemp("outage-stack")), private_infra.service_env(),
                  port_offset=PRIVATE_OFFSET)
    try:
        with http.serving_at(PRIVATE_OFFSET):
            stack.up(PROCESSES)
            yield stack
    finally:
        stack.down()


def worker_url(service: str, path: str) -> str:
    return f"http://127.0.0.1:{WORKER_METRICS_PORTS[service] + PRIVATE_OFFSET}{path}"


def get(url: str) -> httpx.Response:
    # a bound, not a measurement: an API that hangs on a dead database fails here
    return httpx.get(url, timeout=20)


def not_ready_for(url: str, dependency: str) -> dict[str, Any] | None:
    try:
        response = get(url)
    except httpx.ConnectError:
        return None  # a worker just started does not listen yet
    if response.status_code != 503:
        return None
    body: dict[str, Any] = response.json()
    return body if dependency in body["problems"] else None


def ready(url: str) -> bool:
    try:
        return get(url).status_code == 200
    except httpx.HTTPError:
        return False


def restart(stack: Stack, name: str, *, crash: bool = False) -> None:
    if crash:
        stack.kill(name)
    else:
        stack.stop(name)
    stack.start(name)


def database_unavailable(response: httpx.Response) -> bool:
    assert response.status_code == 503, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["reason"] == "database_unavailable"
    return True


def pay_every_instalment(infra: TestInfra, journeys: list[Journey], already: dict[str, set[int]]) -> None:
    """Each instalment on its due date, core banking and the branch taking turns."""
    due = sorted({(d(i["due_date"]), j.agreement_id, i["number"], i["total"]) for j in journeys
                  for i in j.instalments})
    loans = {j.agreement_id: j.loan_id for j in journeys}
    for on, agreement_id, number, total in due:
        if number in already.get(agreement_id, set()):
            continue
        advance_to(on)
        if number % 2:
            wait_payment(agreement_id, corebanking_payment(infra, loans[agreement_id], total, on))
        else:
            assert manual_payment(agreement_id, total, on)["status"] == "applied"


def committed_everything(infra: TestInfra) -> bool:
    """Every consumer group of the run has committed the end of every partition it reads."""
    admin = KafkaAdminClient(bootstrap_servers=infra.bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=infra.bootstrap)
    try:
        for service in SERVICES:
            group = f"{infra.group_prefix}{service}"
            offsets = admin.list_group_offsets({group: None}).get(group, {})
            assert offsets, f"{group} committed nothing"
            topics = {tp.topic for tp in offsets}
            partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
            ends = consumer.end_offsets(partitions)
            behind = {f"{tp.topic}[{tp.partition}]": end - max(offsets[tp].offset if tp in offsets else 0, 0)
                      for tp, end in ends.items()}
            behind = {k: v for k, v in behind.items() if v > 0}
            assert not behind, f"{group} behind: {behind}"
    finally:
        consumer.close()
        admin.close()
    return True


def test_a_broker_outage_and_a_database_outage_are_ridden_out_and_everything_drains(
        private_pair: PrivateInfra, private_infra: TestInfra, private_stack: Stack) -> None:
    pair, stack, infra = private_pair, private_stack, private_infra
    with http.serving_at(PRIVATE_OFFSET):
        # before: one journey to an active agreement, its first instalment due; a second ready to submit
        first = to_active_agreement()
        advance_to(first.due(1))
        second = ready_to_submit()

        # -- the broker is killed ---------------------------------------------------------------
        pair.kill_kafka()
        broker_down = time.monotonic()
        # what needs only the database goes on: a submission, a payment at the branch
        submit(second.borrower_id, second.case_id)
        slip = manual_payment(first.agreement_id, first.instalments[0]["total"], first.due(1))
        assert slip["status"] == "applied"
        # workers started while the broker is away stay up and say what they miss
        restart(stack, "intake-worker")
        restart(stack, "monitoring-worker", crash=True)  # its relay process cannot bootstrap either
        for service in SERVICES:
            eventually(lambda s=service: not_ready_for(worker_url(s, "/readyz"), "kafka"), timeout=60)
        for service in SERVICES:
            eventually(lambda s=service: not_ready_for(f"{http.api_url(s)}/readyz", "kafka"), timeout=30)

        # -- Postgres stops too -----------------------------------------------------------------
        time.sleep(max(0.0, DATABASE_STOPS_AFTER - (time.monotonic() - broker_down)))
        pair.stop_postgres(immediate=True)
        database_down = time.monotonic()
        # a worker started while both are away waits for them (its migrations first); evaluation's
        # faust app rides the whole outage out as it is
        restart(stack, "agreement-worker")
        answers = {
            "intake": f"/cases/{second.case_id}",
            "evaluation": f"/cases/{first.case_id}/decisions",
            "agreement": f"/cases/{first.case_id}/offers",
            "monitoring": f"/agreements/{first.agreement_id}",
        }
        for service, path in answers.items():
            with http.client(service, role="supervisor") as api:
                eventually(lambda a=api, p=path: database_unavailable(a.get(p)), timeout=60)
            body = eventually(lambda s=service: not_ready_for(f"{http.api_url(s)}/readyz", "postgres"), timeout=30)
            assert "kafka" in body["problems"]
        for service in ("intake", "evaluation", "monitoring"):
            eventually(lambda s=service: not_ready_for(worker_url(s, "/readyz"), "postgres"), timeout=30)
            assert get(worker_url(service, "/healthz")).status_code == 200
        time.sleep(max(0.0, DATABASE_DOWN_SECONDS - (time.monotonic() - database_down)))
        pair.start_postgres()

        # the database is back, the broker still away: reads answer again, readiness still says no
        with http.client("intake", role="agent") as api:
            eventually(lambda: api.get(f"/cases/{second.case_id}").status_code == 200, timeout=60)
        eventually(lambda: not_ready_for(f"{http.api_url('monitoring')}/readyz", "kafka")
                   and "postgres" not in get(f"{http.api_url('monitoring')}/readyz").json()["problems"], timeout=60)
        time.sleep(max(0.0, BROKER_DOWN_SECONDS - (time.monotonic() - broker_down)))
        pair.start_kafka()

        # -- both back: everything resumes by itself --------------------------------------------
        for service in SERVICES:
            eventually(lambda s=service: ready(f"{http.api_url(s)}/readyz"), timeout=RECOVERY)
            eventually(lambda s=service: ready(worker_url(s, "/readyz")), timeout=RECOVERY)
        assert all(stack.pid(name) is not None for name in PROCESSES), stack.status()

        # the submission made while the broker was away is decided and goes on to an agreement
        second_journey = to_active_agreement_once_submitted(second)
        wait_payment(first.agreement_id, slip["reference"])
        pay_every_instalment(infra, [first, second_journey], {first.agreement_id: {1}})

    with http.serving_at(PRIVATE_OFFSET):
        for journey in (first, second_journey):
            view = wait_monitored(journey.agreement_id, lambda v: v["status"] == "completed")
            wait_case_status(journey.case_id, "completed")
            # every payment applied once: one payment per instalment, each applied by one event
            references = [p["reference"] for p in view["payments"]]
            assert len(references) == len(set(references)) == len(journey.instalments)
            assert sum(Decimal(p["amount"]) for p in view["payments"]) == \
                sum(Decimal(i["total"]) for i in journey.instalments)
            applied = topic_events(infra, "monitoring.events", type_="payment.applied",
                                   agreement_id=journey.agreement_id, min_count=len(references))
            by_reference: dict[str, set[str]] = {}
            for event in applied:
                by_reference.setdefault(event["payload"]["reference"], set()).add(event["event_id"])
            assert sorted(by_reference) == sorted(references)
            assert all(len(ids) == 1 for ids in by_reference.values()), by_reference

        # every outbox drained, every group at the end of its topics
        for service in SERVICES:
            def drained(s: str = service) -> bool:
                with infra.connect(s) as conn:
                    row = conn.execute("select count(*) as n from outbox where published_at is null").fetchone()
                return row is not None and row["n"] == 0

            eventually(drained, timeout=60)
        eventually(lambda: committed_everything(infra), timeout=60)

        # the APIs answered 503 throughout, never 500
        for service in SERVICES:
            scrape = get(f"{http.api_url(service)}/metrics").text
            assert 'status="500"' not in scrape, service
            assert 'status="503"' in scrape, service

"""Two members of every worker's consumer group, and two monitoring API replicas.

The stack here is a stack of its own (its own database, topic prefix, consumer groups and
ports, ``SCALE_OFFSET``): members are killed on purpose, which the session's shared stack must
never see. Every worker runs as two members of its group (``<service>-worker`` and
``<service>-worker-2``); the delivery guarantees must be those of one member:

* every event applied once (inbox rows and effects counted in the database and on the output
  topics);
* each case's events applied in the order they were sent (a sequence per case in the outputs);
* nothing stuck: every group's committed offsets at the end of its topics, every outbox drained,
  no dead letters.

Loads, one stream per worker, produced while the first member of each group is SIGKILLed and
started again: loan snapshots for intake (several per loan), case submissions 1 and 2 for
evaluation (whose decisions drive agreement's offers), payments for monitoring (several per
agreement, each sent twice: once as the same record, once as a new event of the same payment).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from forbear_shared.devstack import SERVICES, Stack
from forbear_shared.events import encode, new_event
from forbear_shared.events.schemas.agreement import AgreementActivated
from forbear_shared.events.schemas.common import LoanSnapshot, ScheduleDoc
from forbear_shared.events.schemas.corebanking import LoanSnapshotted, PaymentReceived
from forbear_shared.kafka_admin import admin
from forbear_shared.topics import CASE_PARTITIONS
from kafka import KafkaConsumer, TopicPartition
from pydantic import BaseModel

from tests.integration.test_evaluation_flow import submission, submitted_event
from tests.integration.test_monitoring_support import three_month_schedule
from tests.support.calendar import missed_on
from tests.support.http import PORT_OFFSET, client, worker_metrics_url
from tests.support.infra import TestInfra as Infra
from tests.support.infra import eventually, producer, read_topic, start_test_infra, stop_test_infra

pytestmark = pytest.mark.integration

#: this module's stack listens 300 ports above the session's
SCALE_OFFSET = PORT_OFFSET + 300
WORKERS = [f"{s}-worker" for s in SERVICES]
NOW = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
START = dt.date(2026, 1, 5)  # the initial business date of a new installation (settings)
WAIT = 240.0  # two cores shared by a dozen processes and a rebalance that waits out a session timeout

#: the groups' topics (the workers' WorkerSpec / faust source)
CONSUMED = {
    "intake": ("corebanking.loans", "evaluation.events", "agreement.events", "monitoring.events"),
    "evaluation": ("intake.events", "agreement.events", "monitoring.events"),
    "agreement": ("monitoring.events", "evaluation.events"),
    "monitoring": ("agreement.events", "corebanking.payments", "intake.events", "evaluation.events"),
}


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Infra, Stack]]:
    own = start_test_infra()
    stack = Stack(Path(tmp_path_factory.mktemp("scaled")), own.service_env(), port_offset=SCALE_OFFSET,
                  replicas={**{w: 2 for w in WORKERS}, "monitoring-api": 2})
    names = [n for n in stack.procs if n != "console"]
    try:
        for name in names:
            stack.start(name)
        stack.wait_ready(names, timeout=WAIT)
        yield own, stack
    finally:
        stack.down()
        stop_test_infra(own)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def event(type_: str, payload: BaseModel, key: str, on: dt.date = START) -> Any:
    return new_event(type=type_, payload=payload, case_id=key, business_date=on, producer="test", occurred_at=NOW)


# -- the load ------------------------------------------------------------------------------------


@dataclass
class Load:
    #: intake: the outstanding principal of each loan's snapshots, in the order sent (same as_of,
    #: so each one replaces the one before: the last one sent is the one kept)
    loans: dict[str, list[Decimal]] = field(default_factory=dict)
    #: evaluation and agreement: case id -> borrower id (submission 1, then 2)
    cases: dict[str, str] = field(default_factory=dict)
    #: monitoring: agreement id -> (case id, loan id)
    agreements: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: monitoring: the payment references of each agreement, in the order first sent
    payments: dict[str, list[str]] = field(default_factory=dict)
    amounts: dict[str, Decimal] = field(default_factory=dict)
    #: (topic, key, value) in the order produced
    records: list[tuple[str, str, bytes]] = field(default_factory=list)


def build_load(loans: int = 100, snapshots: int = 5, cases: int = 30, agreements: int = 40,
               payments: int = 15) -> tuple[Load, list[tuple[str, str, bytes]]]:
    """The streams, interleaved so that each runs from the first record to the last; and the
    activations of the agreements the payments are for (sent first)."""
    load = Load()
    intake: list[tuple[str, str, bytes]] = []
    for _ in range(loans):
        loan_id = uid("L")
        load.loans[loan_id] = [Decimal("900.00") - 10 * k for k in range(snapshots)]
    for k in range(snapshots):
        for loan_id, amounts in load.loans.items():
            snap = LoanSnapshot(loan_id=loan_id, borrower_id=f"B-{loan_id}", original_principal=Decimal("1000.00"),
                                outstanding_principal=amounts[k], annual_rate=Decimal("0.08"),
                                original_term_months=12, remaining_term_months=10,
                                contractual_instalment=Decimal("86.99"), as_of=START)
            intake.append(("corebanking.loans", loan_id,
                           encode(event("loan.snapshot", LoanSnapshotted(loan=snap), loan_id))))
    evaluation: list[tuple[str, str, bytes]] = []
    for _ in range(cases):
        load.cases[uid("case")] = uid("B")
    for n in (1, 2):
        for case_id, borrower_id in load.cases.items():
            evaluation.append(("intake.events", case_id,
                               encode(submitted_event(case_id, submission(case_id, borrower_id, submission=n)))))
    activations: list[tuple[str, str, bytes]] = []
    schedule = ScheduleDoc.model_validate(three_month_schedule(START + dt.timedelta(days=20)).to_dict())
    for _ in range(agreements):
        agreement_id, case_id, loan_id = uid("AGR"), uid("CASE"), uid("LOAN")
        load.agreements[agreement_id] = (case_id, loan_id)
        activated = AgreementActivated(
            agreement_id=agreement_id, borrower_id=uid("B"), loan_ids=[loan_id], option="term_extension",
            schedule=schedule, document_sha256="ab" * 32, activated_on=START, policy_version="demo-lender-2026.1")
        activations.append(("agreement.events", case_id, encode(event("agreement.activated", activated, case_id))))
    monitoring: list[tuple[str, str, bytes]] = []
    repeats: list[tuple[str, str, bytes]] = []
    for k in range(payments):
        for agreement_id, (_case_id, loan_id) in load.agreements.items():
            reference = uid("PAY")
            amount = Decimal("10.00") + Decimal(k) / 100
            load.payments.setdefault(agreement_id, []).append(reference)
            load.amounts[reference] = amount
            received = PaymentReceived(reference=reference, loan_id=loan_id, amount=amount, received_on=START)
            raw = encode(event("payment.received", received, loan_id))
            monitoring.append(("corebanking.payments", loan_id, raw))
            # core banking redelivers: the same record, and the same payment as a new event
            repeats.append(("corebanking.payments", loan_id, raw))
            repeats.append(("corebanking.payments", loan_id,
                            encode(event("payment.received", received, loan_id))))
    monitoring.extend(repeats)
    streams = [intake, evaluation, monitoring]
    longest = max(len(s) for s in streams)
    for i in range(longest):
        for s in streams:
            # each stream spread evenly over the whole production
            for j in range(i * len(s) // longest, (i + 1) * len(s) // longest):
                load.records.append(s[j])
    return load, activations


def produce(infra: Infra, records: list[tuple[str, str, bytes]], *, chunk: int = 100,
            pause: float = 0.0, done: threading.Event | None = None) -> None:
    kafka = producer(infra)
    try:
        for i in range(0, len(records), chunk):
            for topic, key, value in records[i:i + chunk]:
                kafka.send(infra.topic(topic), key=key.encode(), value=value)
            kafka.flush()
            if pause:
                time.sleep(pause)  # a stream that lasts, so that members die in the middle of it
    finally:
        kafka.close()
        if done is not None:
            done.set()


# -- what the stack shows ------------------------------------------------------------------------


def scalar(infra: Infra, schema: str, sql: str, *args: Any) -> Any:
    with infra.connect(schema) as conn:
        row = conn.execute(sql, args).fetchone()
    return next(iter(row.values()))


def handled_by_member(service: str, replica: int) -> float:
    """Events this member applied (``forbear_consumer_events_total{outcome="handled"}``)."""
    text = httpx.get(worker_metrics_url(service, SCALE_OFFSET, replica), timeout=5).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("forbear_consumer_events_total{") and 'outcome="handled"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def assignment(infra: Infra, service: str) -> list[dict[str, int]]:
    """Per member of the service's group: how many partitions of each consumed topic it holds."""
    group = infra.group_prefix + service
    kafka_admin = admin(infra.bootstrap)
    try:
        described = kafka_admin.describe_groups([group])[group]
    finally:
        kafka_admin.close()
    if described["group_state"] != "Stable":
        return []
    return [{a["topic"].removeprefix(infra.topic_prefix): len(a["partitions"])
             for a in member["member_assignment"]["assigned_partitions"]} for member in described["members"]]


def shared_by(infra: Infra, service: str, members: int) -> bool:
    """The group has ``members`` members, each holding partitions of every topic the service
    consumes, and between them as many of each topic's partitions as it has."""
    observed = assignment(infra, service)
    assert len(observed) == members and all(
        all(held.get(t, 0) > 0 for t in CONSUMED[service]) for held in observed
    ) and all(sum(held.get(t, 0) for held in observed) == CASE_PARTITIONS for t in CONSUMED[service]), (
        f"{service}: members hold {observed}, expected {members} sharing {CASE_PARTITIONS} partitions of each topic")
    return True


def both_applied(service: str) -> bool:
    handled = [handled_by_member(service, 1), handled_by_member(service, 2)]
    assert all(handled), f"{service}: events applied by each member {handled}"
    return True


def group_lag(infra: Infra, service: str) -> dict[str, int]:
    """Per topic: events between the group's committed offsets and the end of the partitions."""
    group = infra.group_prefix + service
    kafka_admin = admin(infra.bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=infra.bootstrap)
    try:
        committed = kafka_admin.list_group_offsets(group)[group]
        lag: dict[str, int] = {}
        for name in CONSUMED[service]:
            topic = infra.topic(name)
            partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
            ends = consumer.end_offsets(partitions)
            lag[name] = sum(ends[tp] - (committed[tp].offset if tp in committed else 0) for tp in partitions)
        return lag
    finally:
        consumer.close()
        kafka_admin.close()


def unpublished(infra: Infra) -> dict[str, int]:
    return {s: scalar(infra, s, "select count(*) from outbox where published_at is null") for s in SERVICES}


def distinct_events(infra: Infra, topic: str) -> list[dict[str, Any]]:
    """A topic's events in partition order, each event once (the relay publishes at least once:
    a repeat of an event id is the same event)."""
    seen: set[str] = set()
    events: list[dict[str, Any]] = []
    for message in sorted(read_topic(infra, topic, timeout=5), key=lambda m: (m.partition, m.offset)):
        body = json.loads(message.value)
        if body["event_id"] not in seen:
            seen.add(body["event_id"])
            events.append(body)
    return events


# -- the test ------------------------------------------------------------------------------------


def test_two_members_of_every_worker_apply_each_event_once_and_in_order_through_a_killed_member(scaled) -> None:
    infra, stack = scaled
    load, activations = build_load()
    produce(infra, activations)
    eventually(lambda: scalar(infra, "monitoring", "select count(*) from agreements") == len(load.agreements),
               timeout=WAIT)

    # each group has two members, each holding its share of every topic it consumes
    for service in SERVICES:
        eventually(lambda s=service: shared_by(infra, s, 2), timeout=WAIT)

    produced = threading.Event()
    producing = threading.Thread(target=produce, args=(infra, load.records),
                                 kwargs={"chunk": 80, "pause": 0.5, "done": produced})
    producing.start()
    try:
        # both members of every group apply events ...
        for service in SERVICES:
            eventually(lambda s=service: both_applied(s), timeout=WAIT)
        # ... then the first member of each group dies in the middle of the stream
        assert not produced.is_set(), "the stream ended before the members were killed: make it longer"
        for worker in WORKERS:
            stack.kill(worker)
        # the survivor of each group takes over every partition (once the dead member's session expired)
        for service in SERVICES:
            eventually(lambda s=service: shared_by(infra, s, 1), timeout=WAIT)
    finally:
        producing.join()
    # the killed members come back and get their share again
    for worker in WORKERS:
        stack.start(worker)
    stack.wait_ready(WORKERS, timeout=WAIT)
    for service in SERVICES:
        eventually(lambda s=service: shared_by(infra, s, 2), timeout=WAIT)

    references = [r for refs in load.payments.values() for r in refs]
    snapshots = sum(len(a) for a in load.loans.values())
    eventually(lambda: scalar(infra, "monitoring", "select count(*) from payments") == len(references), timeout=WAIT)
    eventually(lambda: scalar(infra, "evaluation", "select count(*) from decisions") == 2 * len(load.cases),
               timeout=WAIT)
    def caught_up() -> bool:
        lag = {s: group_lag(infra, s) for s in SERVICES}
        assert not any(n for per_topic in lag.values() for n in per_topic.values()), f"behind: {lag}"
        return True

    def drained() -> bool:
        backlog = unpublished(infra)
        assert not any(backlog.values()), f"unpublished: {backlog}"
        return True

    eventually(caught_up, timeout=WAIT)
    eventually(drained, timeout=WAIT)

    # intake: every snapshot applied once, the last one sent kept
    with infra.connect("intake") as conn:
        inbox = conn.execute("select event_id from inbox where consumer = 'intake' and topic = %s",
                             (infra.topic("corebanking.loans"),)).fetchall()
        kept = {r["loan_id"]: Decimal(r["snapshot"]["outstanding_principal"])
                for r in conn.execute("select loan_id, snapshot from loans where loan_id = any(%s)",
                                      (list(load.loans),))}
    assert len(inbox) == len({r["event_id"] for r in inbox}) == snapshots
    assert kept == {loan_id: amounts[-1] for loan_id, amounts in load.loans.items()}

    # evaluation: one decision per submission, submission 1 decided before submission 2
    decided = [e for e in distinct_events(infra, "evaluation.events")
               if e["type"] == "case.decided" and e["case_id"] in load.cases]
    by_case: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in decided:
        by_case[e["case_id"]].append(e["payload"])
    assert {c: [d["submission"] for d in ds] for c, ds in by_case.items()} == {c: [1, 2] for c in load.cases}
    with infra.connect("evaluation") as conn:
        rows = conn.execute("select case_id, submission, count(*) as n from decisions group by case_id, submission"
                            ).fetchall()
    assert {(r["case_id"], r["submission"]): r["n"] for r in rows} == {
        (c, n): 1 for c in load.cases for n in (1, 2)}
    approved = {c: [d for d in ds if d["outcome"] == "approve"] for c, ds in by_case.items()}
    assert all(len(a) == 2 and a[0]["offers"] for a in approved.values()), "the load's submissions are approvals"

    # agreement: per case, the first decision's offers made, withdrawn when the second decision
    # came, then the second decision's offers made; each offer once
    offers = [e for e in distinct_events(infra, "agreement.events")
              if e["case_id"] in load.cases and e["type"] in ("offer.made", "offer.withdrawn")]
    decision_of = {e["payload"]["offer_id"]: e["payload"]["decision_id"] for e in offers if e["type"] == "offer.made"}
    made = Counter(e["payload"]["offer_id"] for e in offers if e["type"] == "offer.made")
    assert set(made.values()) == {1}
    for case_id, (first, second) in approved.items():
        seen = [(e["type"], decision_of[e["payload"]["offer_id"]]) for e in offers if e["case_id"] == case_id]
        assert seen == ([("offer.made", first["decision_id"])] * len(first["offers"])
                        + [("offer.withdrawn", first["decision_id"])] * len(first["offers"])
                        + [("offer.made", second["decision_id"])] * len(second["offers"])), case_id

    # monitoring: each payment recorded and applied once, each agreement's in the order sent
    with infra.connect("monitoring") as conn:
        rows = conn.execute("select reference, agreement_id, status, amount, allocation, unallocated from payments "
                            "order by seq").fetchall()
    assert Counter(r["reference"] for r in rows) == Counter(references)
    assert {r["status"] for r in rows} == {"applied"}
    for r in rows:
        allocated = sum((Decimal(line["amount"]) for line in r["allocation"]), Decimal(0))
        assert allocated + (r["unallocated"] or 0) == load.amounts[r["reference"]]
    recorded: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        recorded[r["agreement_id"]].append(r["reference"])
    assert recorded == load.payments
    applied = [e for e in distinct_events(infra, "monitoring.events") if e["type"] == "payment.applied"]
    assert Counter(e["payload"]["reference"] for e in applied) == Counter(references)
    announced: dict[str, list[str]] = defaultdict(list)
    for e in applied:
        announced[e["payload"]["agreement_id"]].append(e["payload"]["reference"])
        assert e["case_id"] == load.agreements[e["payload"]["agreement_id"]][0]
    assert announced == load.payments

    # nothing was given up on
    for service in SERVICES:
        assert read_topic(infra, f"{service}.dlq", timeout=2) == [], service


# -- monitoring's ledger cache when a partition moves between members ----------------------------


def monitoring_member(infra: Infra) -> tuple[Any, Any, Any]:
    """A monitoring consumer of its own (its ledger cache in this process), as the worker builds it."""
    from forbear_monitoring.bootstrap import MIGRATIONS, SERVICE, Monitoring
    from forbear_monitoring.entrypoints.worker import spec_of
    from forbear_shared.db import make_pool, migrate
    from forbear_shared.policy_loader import load_policy
    from forbear_shared.service import ServiceContext
    from forbear_shared.settings import load_settings

    settings = load_settings(SERVICE, environment="test", database_url=infra.database_url,
                             kafka_bootstrap=infra.bootstrap, topic_prefix=infra.topic_prefix,
                             group_prefix=infra.group_prefix)
    migrate(settings.database_url, SERVICE, MIGRATIONS)
    m = Monitoring(ServiceContext(settings, make_pool(settings.database_url, SERVICE, max_size=4)), load_policy())
    spec = spec_of(m, loops=False)
    spec.topics = ["agreement.events", "corebanking.payments"]
    return m, settings, spec


def consume_until(member: tuple[Any, Any, Any], done: Any) -> None:
    """Run ``member`` as a member of monitoring's group until ``done()``, then leave the group."""
    from forbear_shared.worker import build_consumer

    from tests.integration.test_event_backbone import run_loop_until

    m, settings, spec = member
    run_loop_until(build_consumer(settings, m.ctx.pool, spec), done, timeout=WAIT)


def test_a_member_whose_partition_came_back_allocates_on_the_ledger_the_other_member_left() -> None:
    """Member 1 owns the agreement's partition and keeps its ledger in memory; the partition moves
    to member 2 (member 1 leaves the group, member 2 is its only member), which applies a payment;
    it moves back to member 1 (member 2 leaves, member 1 joins again with its cache), whose next
    payment must be allocated on the ledger as member 2 left it.

    Three payments of 500.00, before the first due date, on 3,000.00 at 12 % over 3 months
    (instalment 1 = 30.00 interest + 1,000.00 principal, instalment 2 = 20.00 + 1,000.00), oldest
    instalment first, interest before principal, money beyond instalment 1 paying instalment 2 in
    advance: 30.00 interest + 470.00 principal; 500.00 principal; 30.00 principal (instalment 1
    paid) + 20.00 interest and 450.00 principal of instalment 2. (On a stale ledger, member 1
    would put the third 500.00 on instalment 1's principal alone.)
    """
    infra = start_test_infra()
    first, second = monitoring_member(infra), monitoring_member(infra)
    try:
        agreement_id, case_id, loan_id = uid("AGR"), uid("CASE"), uid("LOAN")
        schedule = ScheduleDoc.model_validate(three_month_schedule(START + dt.timedelta(days=20)).to_dict())
        activated = AgreementActivated(
            agreement_id=agreement_id, borrower_id=uid("B"), loan_ids=[loan_id], option="term_extension",
            schedule=schedule, document_sha256="ab" * 32, activated_on=START, policy_version="demo-lender-2026.1")

        def pay() -> str:
            reference = uid("PAY")
            received = PaymentReceived(reference=reference, loan_id=loan_id, amount=Decimal("500.00"),
                                       received_on=START)
            produce(infra, [("corebanking.payments", loan_id, encode(event("payment.received", received, loan_id)))])
            return reference

        def applied(reference: str) -> bool:
            return scalar(infra, "monitoring", "select count(*) from payments where reference = %s and status = "
                          "'applied'", reference) == 1

        produce(infra, [("agreement.events", case_id, encode(event("agreement.activated", activated, case_id)))])
        one = pay()
        consume_until(first, lambda: applied(one))
        two = pay()
        consume_until(second, lambda: applied(two))
        three = pay()
        consume_until(first, lambda: applied(three))

        with infra.connect("monitoring") as conn:
            allocations = {r["reference"]: [(a["instalment"], a["component"], a["amount"]) for a in r["allocation"]]
                           for r in conn.execute("select reference, allocation from payments").fetchall()}
            ledger = conn.execute("select number, interest_paid, principal_paid, settled_on from instalments "
                                  "where agreement_id = %s order by number", (agreement_id,)).fetchall()
        assert allocations == {
            one: [(1, "interest", "30.00"), (1, "principal", "470.00")],
            two: [(1, "principal", "500.00")],
            three: [(1, "principal", "30.00"), (2, "interest", "20.00"), (2, "principal", "450.00")],
        }
        assert [(r["number"], r["interest_paid"], r["principal_paid"], r["settled_on"]) for r in ledger] == [
            (1, Decimal("30.00"), Decimal("1000.00"), START),
            (2, Decimal("20.00"), Decimal("450.00"), None),
            (3, Decimal("0.00"), Decimal("0.00"), None),
        ]
    finally:
        for m, _, _ in (first, second):
            m.ctx.pool.close()
        stop_test_infra(infra)


# -- close of business on two API replicas -------------------------------------------------------


def test_two_replicas_asked_to_close_business_at_once_sweep_each_day_once_through_a_killed_replica(scaled) -> None:
    """Both monitoring API replicas are asked to catch up 180 days at the same moment; the first
    is SIGKILLed in the middle. Each day is swept once (one close_of_business_days row, one
    business_date.advanced event), each missed instalment detected once, on the day after its
    grace cutoff (3 working days after the due date, itself moved to a working day); the
    restarted replica carries on.

    Twenty agreements, 3,000.00 over 3 months, first instalments due on days 150 to 169 and
    never paid: each first instalment is missed the day after its grace cutoff; the target,
    day 180, comes before any second instalment's grace cutoff (due 28 days or more after the
    first one, + at least 3 days of grace).
    """
    infra, stack = scaled
    day = dt.timedelta(days=1)
    with client("monitoring", role="supervisor", port_offset=SCALE_OFFSET) as api:
        today = dt.date.fromisoformat(api.get("/business-date").json()["business_date"])
    target = today + 180 * day
    due = {uid("AGR"): today + (150 + i) * day for i in range(20)}
    activations = []
    for agreement_id, first_due in due.items():
        case_id = uid("CASE")
        activated = AgreementActivated(
            agreement_id=agreement_id, borrower_id=uid("B"), loan_ids=[uid("LOAN")], option="term_extension",
            schedule=ScheduleDoc.model_validate(three_month_schedule(first_due).to_dict()),
            document_sha256="ab" * 32, activated_on=today, policy_version="demo-lender-2026.1")
        activations.append(("agreement.events", case_id, encode(event("agreement.activated", activated, case_id, today))))
    produce(infra, activations)
    eventually(lambda: scalar(infra, "monitoring", "select count(*) from agreements where agreement_id = any(%s)",
                              list(due)) == len(due), timeout=WAIT)

    answers: dict[int, Any] = {}

    def close_business(replica: int) -> None:
        with client("monitoring", role="supervisor", subject=f"cob-{replica}", port_offset=SCALE_OFFSET,
                    replica=replica) as api:
            try:
                answers[replica] = api.post("/business-date/advance", json={"to": target.isoformat()}, timeout=600)
            except httpx.TransportError as exc:
                answers[replica] = exc

    calls = [threading.Thread(target=close_business, args=(r,)) for r in (1, 2)]
    for call in calls:
        call.start()
    swept = "select count(*) from close_of_business_days where day > %s"
    eventually(lambda: scalar(infra, "monitoring", swept, today) >= 30, timeout=WAIT, interval=0.02)
    stack.kill("monitoring-api")
    at_kill = scalar(infra, "monitoring", "select current from business_date")
    for call in calls:
        call.join(timeout=600)
    assert at_kill < target, "close of business ended before the replica was killed: make it longer"
    assert isinstance(answers[1], httpx.TransportError)
    assert answers[2].status_code == 200, answers[2].text
    assert answers[2].json()["business_date"] == target.isoformat()

    # the killed replica comes back: the date is where the other one took it, and moves on from there
    stack.start("monitoring-api")
    stack.wait_ready(["monitoring-api"], timeout=WAIT)
    with client("monitoring", role="supervisor", port_offset=SCALE_OFFSET) as api:
        again = api.post("/business-date/advance", json={"to": target.isoformat()})
        assert again.status_code == 409 and again.json()["reason"] == "business_date_not_after_current"
        next_day = api.post("/business-date/advance", json={}).json()
    assert (next_day["business_date"], next_day["days_swept"]) == ((target + day).isoformat(), 1)

    every_day = [today + n * day for n in range(1, 182)]
    with infra.connect("monitoring") as conn:
        days = conn.execute("select day, previous from close_of_business_days where day > %s order by day",
                            (today,)).fetchall()
        missed = conn.execute("select agreement_id, number, detected_on from missed_instalments "
                              "where agreement_id = any(%s)", (list(due),)).fetchall()
    assert [(r["day"], r["previous"]) for r in days] == [(d, d - day) for d in every_day]
    announced = Counter(dt.date.fromisoformat(e["payload"]["current"])
                        for e in distinct_events(infra, "monitoring.events") if e["type"] == "business_date.advanced")
    assert {d: n for d, n in announced.items() if d > today} == {d: 1 for d in every_day}
    expected = {(a, 1): missed_on(first_due) for a, first_due in due.items()}
    assert {(r["agreement_id"], r["number"]): r["detected_on"] for r in missed} == expected
    detections = [e["payload"] for e in distinct_events(infra, "monitoring.events")
                  if e["type"] == "instalment.missed" and e["payload"]["agreement_id"] in due]
    assert sorted((p["agreement_id"], p["instalment"], dt.date.fromisoformat(p["detected_on"])) for p in detections) \
        == sorted((a, n, on) for (a, n), on in expected.items())

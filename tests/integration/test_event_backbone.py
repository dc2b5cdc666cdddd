"""The event backbone against the real broker and database: outbox, inbox, dead letters."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid

import pytest
from forbear_shared import outbox
from forbear_shared.db import make_pool, migrate, on_commit, transaction
from forbear_shared.events import encode, new_event
from forbear_shared.events.schemas.monitoring import LENDER_KEY, BusinessDateAdvanced
from forbear_shared.inbox import InboxProcessor, KafkaDeadLetter, KafkaInboxLoop, RawRecord
from forbear_shared.outbox import EVENT_TYPE_HEADER, OutboxRelay, make_producer

from tests.support.http import client
from tests.support.infra import eventually, producer, read_topic

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def business_date_event(previous: dt.date, current: dt.date) -> object:
    return new_event(
        type="business_date.advanced",
        payload=BusinessDateAdvanced(previous=previous, current=current),
        case_id=LENDER_KEY,
        business_date=current,
        producer="test",
        occurred_at=NOW,
    )


def service_business_date(service: str) -> str:
    with client(service) as api:
        return api.get("/business-date").json()["business_date"]


def test_close_of_business_reaches_every_service_through_outbox_relay_and_inbox(stack, infra) -> None:
    with client("monitoring", role="supervisor") as api:
        before = api.get("/business-date").json()["business_date"]
        advanced = api.post("/business-date/advance", json={}).json()
    assert advanced["previous"] == before
    expected = (dt.date.fromisoformat(before) + dt.timedelta(days=1)).isoformat()
    assert advanced["business_date"] == expected
    for service in ("intake", "evaluation", "agreement"):
        eventually(lambda s=service: service_business_date(s) == expected)
    # the effect is in the consumer's own tables, with its inbox row beside it
    with infra.connect("intake") as conn:
        rows = conn.execute(
            "select i.event_type from inbox i where i.consumer = 'intake' and i.event_type = 'business_date.advanced'"
        ).fetchall()
        assert len(rows) >= 1
        assert conn.execute("select current from business_date").fetchone()["current"].isoformat() == expected


def test_business_date_never_moves_backwards(stack) -> None:
    with client("monitoring", role="supervisor") as api:
        current = api.get("/business-date").json()["business_date"]
        response = api.post("/business-date/advance", json={"to": current})
    assert response.status_code == 409
    assert response.json()["reason"] == "business_date_not_after_current"


@pytest.fixture()
def scratch(infra):
    """A schema of its own with the shared delivery tables, for library-level tests."""
    schema = f"scratch_{uuid.uuid4().hex[:6]}"
    migrate(infra.database_url, schema, None)
    pool = make_pool(infra.database_url, schema, max_size=4)
    with transaction(pool) as conn:
        conn.execute("create table effects (event_id uuid not null, note text not null)")
    yield schema, pool
    pool.close()


def test_rolled_back_transaction_publishes_nothing(infra, scratch) -> None:
    schema, pool = scratch
    event = business_date_event(dt.date(2026, 1, 5), dt.date(2026, 1, 6))
    topic = infra.topic("monitoring.events")
    with pytest.raises(RuntimeError):
        with transaction(pool) as conn:
            outbox.add(conn, event, topic)
            raise RuntimeError("the state change failed")
    relay = OutboxRelay(pool, make_producer(infra.bootstrap, "test-relay"), schema)
    assert relay.publish_pending() == 0
    published = [m for m in read_topic(infra, "monitoring.events") if json.loads(m.value)["event_id"] == str(event.event_id)]
    assert published == []


def test_committed_event_survives_a_dead_relay_and_is_published_exactly_once(stack, infra) -> None:
    # the relay dies (SIGKILL) after the business change committed, before it could publish
    stack.kill("monitoring-worker")
    with client("monitoring", role="supervisor") as api:
        advanced = api.post("/business-date/advance", json={}).json()
    with infra.connect("monitoring") as conn:
        pending = conn.execute(
            "select event_id from outbox where published_at is null and event_type = 'business_date.advanced'"
        ).fetchall()
    assert len(pending) == 1
    event_id = str(pending[0]["event_id"])
    stack.start("monitoring-worker")
    stack.wait_ready(["monitoring-worker"])

    def published_once() -> bool:
        with infra.connect("monitoring") as conn:
            row = conn.execute("select published_at from outbox where event_id = %s", (event_id,)).fetchone()
        return row["published_at"] is not None

    eventually(published_once)
    copies = [m for m in read_topic(infra, "monitoring.events") if json.loads(m.value)["event_id"] == event_id]
    assert len(copies) == 1
    assert json.loads(copies[0].value)["payload"]["current"] == advanced["business_date"]


def counting_processor(infra, pool, consumer: str, fail_on: str | None = None) -> InboxProcessor:
    def record_effect(conn, event) -> None:
        if fail_on is not None and str(event.envelope.event_id) == fail_on:
            raise ValueError("this event breaks the handler")
        conn.execute("insert into effects (event_id, note) values (%s, %s)", (event.envelope.event_id, consumer))

    dlq = KafkaDeadLetter(make_producer(infra.bootstrap, "test-dlq"), infra.topic("monitoring.dlq"), consumer)
    return InboxProcessor(pool, consumer, {"business_date.advanced": record_effect}, dlq, max_retries=2)


def run_loop_until(loop: KafkaInboxLoop, done, timeout: float = 90.0) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=loop.run, args=(stop,))
    thread.start()
    try:
        eventually(done, timeout=timeout)
    finally:
        stop.set()
        thread.join(timeout=30)


def test_the_same_event_delivered_twice_has_one_effect(infra, scratch) -> None:
    schema, pool = scratch
    event = business_date_event(dt.date(2026, 2, 1), dt.date(2026, 2, 2))
    raw = encode(event)
    # an outbound topic no service of ours consumes: only this test's consumer reads it
    topic = infra.topic("notifications.requested")
    kafka = producer(infra)
    kafka.send(topic, key=b"k", value=raw).get(timeout=30)
    kafka.send(topic, key=b"k", value=raw).get(timeout=30)
    kafka.flush()
    processor = counting_processor(infra, pool, schema)
    loop = KafkaInboxLoop(processor, infra.bootstrap, f"{infra.group_prefix}{schema}", [topic])

    run_loop_until(loop, lambda: _effects(pool, event.event_id) == 1 and _committed(infra, loop, topic) >= 2)
    assert _effects(pool, event.event_id) == 1
    # replaying the same record straight into the processor changes nothing either
    processor.process([RawRecord(topic, 0, 99, b"k", raw)])
    assert _effects(pool, event.event_id) == 1


def test_a_commit_the_group_refuses_makes_a_new_member_that_loses_and_repeats_nothing(infra, scratch) -> None:
    """The group rebalanced under the consumer (here: its first offset commit is refused, as the
    broker refuses it during a rebalance): a new member reads on from the committed offsets."""
    from kafka.errors import RebalanceInProgressError

    schema, pool = scratch
    first, second = (business_date_event(dt.date(2026, 5, d), dt.date(2026, 5, d + 1)) for d in (1, 2))
    topic = infra.topic("credit.updates")
    kafka = producer(infra)
    kafka.send(topic, key=b"k", value=encode(first)).get(timeout=30)
    loop = KafkaInboxLoop(counting_processor(infra, pool, schema), infra.bootstrap,
                          f"{infra.group_prefix}{schema}", [topic])
    original = loop.consumer
    refused: list[object] = []
    real_commit = original.commit

    def commit_refused_once(offsets):
        if not refused:
            refused.append(offsets)
            raise RebalanceInProgressError("the group is rebalancing")
        return real_commit(offsets)

    original.commit = commit_refused_once
    stop = threading.Event()
    thread = threading.Thread(target=loop.run, args=(stop,))
    thread.start()
    try:
        eventually(lambda: refused and loop.consumer is not original)
        kafka.send(topic, key=b"k", value=encode(second)).get(timeout=30)
        eventually(lambda: _effects(pool, second.event_id) == 1 and _committed(infra, loop, topic) >= 2)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert _effects(pool, first.event_id) == 1
    assert _effects(pool, second.event_id) == 1
    with transaction(pool) as conn:
        inbox = conn.execute("select count(*) as n from inbox where consumer = %s", (schema,)).fetchone()["n"]
    assert inbox == 2


def _effects(pool, event_id) -> int:
    with transaction(pool) as conn:
        return conn.execute("select count(*) as n from effects where event_id = %s", (event_id,)).fetchone()["n"]


def _committed(infra, loop: KafkaInboxLoop, topic: str) -> int:
    total = 0
    for tp in loop.consumer.assignment():
        committed = loop.consumer.committed(tp)
        total += committed or 0
    return total


def loan_snapshot_event(loan_id: str) -> object:
    from decimal import Decimal

    from forbear_shared.events.schemas.common import LoanSnapshot
    from forbear_shared.events.schemas.corebanking import LoanSnapshotted

    loan = LoanSnapshot(
        loan_id=loan_id, borrower_id="B-poison", original_principal=Decimal("1000.00"),
        outstanding_principal=Decimal("800.00"), annual_rate=Decimal("0.08"), original_term_months=12,
        remaining_term_months=10, contractual_instalment=Decimal("86.99"), as_of=dt.date(2026, 1, 5),
    )
    return new_event(type="loan.snapshot", payload=LoanSnapshotted(loan=loan), case_id=loan_id,
                     business_date=dt.date(2026, 1, 5), producer="corebanking", occurred_at=NOW)


def test_poison_events_go_to_the_dead_letter_topic_and_the_partition_keeps_flowing(stack, infra) -> None:
    """Malformed bytes and an unknown version reach intake.dlq with the reason; the next good event is applied."""
    topic = infra.topic("corebanking.loans")
    loan_id = f"L-poison-{uuid.uuid4().hex[:6]}"
    good = loan_snapshot_event(loan_id)
    unknown_version = json.loads(encode(loan_snapshot_event(loan_id)))
    unknown_version["schema_version"] = 99
    malformed = b"{not json " + loan_id.encode()
    kafka = producer(infra)
    for value in (malformed, json.dumps(unknown_version).encode(), encode(good)):
        kafka.send(topic, key=loan_id.encode(), value=value).get(timeout=30)
    kafka.flush()

    def loan_stored() -> bool:
        with infra.connect("intake") as conn:
            return conn.execute("select 1 from loans where loan_id = %s", (loan_id,)).fetchone() is not None

    eventually(loan_stored)
    dead = read_topic(infra, "intake.dlq", min_count=2)
    reasons = {}
    for message in dead:
        headers = dict(message.headers)
        if headers["dlq.origin.topic"].decode() != topic:
            continue
        reasons[message.value] = (headers["dlq.reason"].decode(), headers["dlq.error"].decode())
        assert headers["dlq.consumer"] == b"intake"
    assert reasons[malformed][0] == "malformed"
    assert "not JSON" in reasons[malformed][1]
    assert reasons[json.dumps(unknown_version).encode()][0] == "unknown_type_or_version"
    assert "version 99" in reasons[json.dumps(unknown_version).encode()][1]


def test_an_event_whose_handler_keeps_failing_is_dead_lettered_after_retries_and_the_rest_applied(infra, scratch) -> None:
    schema, pool = scratch
    poison = business_date_event(dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    after = business_date_event(dt.date(2026, 3, 2), dt.date(2026, 3, 3))
    topic = infra.topic("legal.referrals")
    kafka = producer(infra)
    for event in (poison, after):
        kafka.send(topic, key=b"same-key", value=encode(event)).get(timeout=30)
    processor = counting_processor(infra, pool, schema, fail_on=str(poison.event_id))
    loop = KafkaInboxLoop(processor, infra.bootstrap, f"{infra.group_prefix}{schema}", [topic])
    run_loop_until(loop, lambda: _effects(pool, after.event_id) == 1)
    assert _effects(pool, poison.event_id) == 0
    dead = [m for m in read_topic(infra, "monitoring.dlq", min_count=1) if m.value == encode(poison)]
    assert len(dead) == 1
    headers = dict(dead[0].headers)
    assert headers["dlq.reason"] == b"handler_failed"
    assert b"this event breaks the handler" in headers["dlq.error"]


def test_a_batch_handler_sees_each_fresh_event_once_in_order(infra, scratch) -> None:
    """Set-based handlers (payments) get runs of fresh events; repeats inside or across batches are skipped."""
    schema, pool = scratch
    events = [business_date_event(dt.date(2026, 4, d), dt.date(2026, 4, d + 1)) for d in (1, 2, 3)]
    runs: list[list[str]] = []

    def record_run(conn, batch) -> None:
        runs.append([str(e.envelope.event_id) for e in batch])
        for e in batch:
            conn.execute("insert into effects (event_id, note) values (%s, 'batch')", (e.envelope.event_id,))

    dlq = KafkaDeadLetter(make_producer(infra.bootstrap, "test-dlq"), infra.topic("monitoring.dlq"), schema)
    processor = InboxProcessor(pool, schema, {}, dlq, batch_handlers={"business_date.advanced": record_run})
    raw = [RawRecord("t", 0, i, b"k", encode(e)) for i, e in enumerate([events[0], events[1], events[0]])]
    processor.process(raw)
    processor.process([RawRecord("t", 0, 3, b"k", encode(events[1])), RawRecord("t", 0, 4, b"k", encode(events[2]))])
    assert runs == [[str(events[0].event_id), str(events[1].event_id)], [str(events[2].event_id)]]
    for e in events:
        assert _effects(pool, e.event_id) == 1


def test_after_commit_callbacks_run_once_the_transaction_committed_and_never_after_a_rollback(scratch) -> None:
    _, pool = scratch
    ran: list[str] = []
    with transaction(pool) as conn:
        on_commit(conn, ran.append, "committed")
        conn.execute("select 1")
        assert ran == []  # not before the commit
    assert ran == ["committed"]
    with pytest.raises(RuntimeError):
        with transaction(pool) as conn:
            on_commit(conn, ran.append, "rolled back")
            raise RuntimeError("the change failed")
    assert ran == ["committed"]


def test_the_relay_announces_the_event_type_and_consumers_pass_over_other_types_unparsed(infra, scratch) -> None:
    schema, pool = scratch
    event = business_date_event(dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    with transaction(pool) as conn:
        outbox.add(conn, event, infra.topic("notifications.requested"))
    relay = OutboxRelay(pool, make_producer(infra.bootstrap, "test-relay"), schema)
    assert relay.publish_pending() == 1
    (published,) = [m for m in read_topic(infra, "notifications.requested")
                    if json.loads(m.value)["event_id"] == str(event.event_id)]
    assert (EVENT_TYPE_HEADER, b"business_date.advanced") in list(published.headers)

    # two unreadable records: one announced as a type this consumer has no handler for (passed
    # over without being parsed), one from elsewhere without the header (dead-lettered)
    key = uuid.uuid4().hex.encode()
    topic = infra.topic("notifications.requested")
    counting_processor(infra, pool, schema).process([
        RawRecord(topic, 0, 1, key, b"{not json", ((EVENT_TYPE_HEADER, b"payment.applied"),)),
        RawRecord(topic, 0, 2, key, b"{not json"),
    ])
    dead = [m for m in read_topic(infra, "monitoring.dlq", min_count=1) if m.key == key]
    assert [dict(m.headers)["dlq.origin.offset"] for m in dead] == [b"2"]
    assert dict(dead[0].headers)["dlq.reason"] == b"malformed"

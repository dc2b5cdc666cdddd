"""What grows is bounded: outbox, inbox and idempotency keys are purged by age, in batches,
by one replica at a time; topics carry their retention from the catalogue.

Time is not waited for: rows are backdated past their retention by the database's own clock,
the clock the purge measures ages with.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from forbear_shared import idempotency, topics
from forbear_shared.db import make_pool, migrate
from forbear_shared.devstack import Stack
from forbear_shared.errors import Conflict
from forbear_shared.kafka_admin import topic_configs
from forbear_shared.retention import Retention, purge
from forbear_shared.settings import load_settings
from psycopg_pool import ConnectionPool

from tests.support.http import worker_metrics_url
from tests.support.infra import TestInfra, eventually

PUBLISHED_PER_CYCLE = 1200
PENDING_PER_CYCLE = 30
INBOX_PER_CYCLE = 1500
KEYS_PER_CYCLE = 200
BATCH_ROWS = 250


@pytest.fixture()
def probe(infra: TestInfra) -> Iterator[tuple[str, ConnectionPool]]:
    """A schema of its own with the shared delivery tables, as every service has them."""
    schema = f"retention_{uuid.uuid4().hex[:8]}"
    migrate(infra.database_url, schema, None)
    pool = make_pool(infra.database_url, schema, max_size=2)
    try:
        yield schema, pool
    finally:
        pool.close()
        with infra.connect() as conn:
            conn.execute(f"drop schema {schema} cascade")


def _retention() -> Retention:
    # the shortest retentions settings allow: outbox 1 h, idempotency keys 24 h, the inbox its minimum
    settings = load_settings("probe", outbox_retention_hours=1, idempotency_key_hours=24,
                             inbox_retention_hours=load_settings("probe").minimum_inbox_retention_hours(),
                             retention_batch_rows=BATCH_ROWS)
    return Retention.from_settings(settings)


def _produce(conn: psycopg.Connection, cycle: int) -> None:
    conn.execute(
        "insert into outbox (event_id, topic, key, event_type, body, published_at) "
        "select gen_random_uuid(), 't', 'C-' || i, 'case.opened', '{}', case when i <= %s then now() end "
        "from generate_series(1, %s) i",
        (PUBLISHED_PER_CYCLE, PUBLISHED_PER_CYCLE + PENDING_PER_CYCLE),
    )
    conn.execute(
        "insert into inbox (consumer, event_id, event_type, topic) "
        "select 'probe', gen_random_uuid(), 'case.opened', 't' from generate_series(1, %s)", (INBOX_PER_CYCLE,),
    )
    conn.execute(
        "insert into idempotency_keys (scope, key, request_hash) "
        "select 'agent:a', 'cycle-' || %s || '-' || i, 'h' from generate_series(1, %s) i", (cycle, KEYS_PER_CYCLE),
    )


def _age_everything(conn: psycopg.Connection, r: Retention, by: dt.timedelta) -> None:
    """Make every row older by ``by`` past its table's retention (unpublished rows included)."""
    conn.execute("update outbox set created_at = now() - %s - %s, "
                 "published_at = case when published_at is not null then now() - %s - %s end", (r.outbox, by, r.outbox, by))
    conn.execute("update inbox set received_at = now() - %s - %s", (r.inbox, by))
    conn.execute("update idempotency_keys set created_at = now() - %s - %s", (r.idempotency_keys, by))


def _counts(conn: psycopg.Connection) -> dict[str, int]:
    row = conn.execute(
        "select (select count(*) from outbox where published_at is not null) as published, "
        "(select count(*) from outbox where published_at is null) as pending, "
        "(select count(*) from inbox) as inbox, (select count(*) from idempotency_keys) as keys"
    ).fetchone()
    assert row is not None
    return dict(row)


def test_produce_and_purge_cycles_keep_the_tables_bounded_and_never_drop_unpublished_events(
    infra: TestInfra, probe: tuple[str, ConnectionPool],
) -> None:
    schema, pool = probe
    r = _retention()
    with infra.connect(schema) as conn:
        for cycle in range(1, 5):
            _produce(conn, cycle)
            # what this cycle produced is a minute short of its retention; the earlier cycles' rows past it
            purged = purge(pool, "probe", r)
            assert purged is not None
            assert _counts(conn) == {"published": PUBLISHED_PER_CYCLE, "pending": PENDING_PER_CYCLE * cycle,
                                     "inbox": INBOX_PER_CYCLE, "keys": KEYS_PER_CYCLE}
            if cycle > 1:
                assert purged == {"outbox": PUBLISHED_PER_CYCLE, "inbox": INBOX_PER_CYCLE,
                                  "idempotency_keys": KEYS_PER_CYCLE}
            _age_everything(conn, r, dt.timedelta(minutes=1))
        # a row a minute younger than its retention stays
        conn.execute("update inbox set received_at = now() - %s + interval '1 minute'", (r.inbox,))
        assert purge(pool, "probe", r) == {"outbox": PUBLISHED_PER_CYCLE, "inbox": 0,
                                           "idempotency_keys": KEYS_PER_CYCLE}
        assert _counts(conn) == {"published": 0, "pending": PENDING_PER_CYCLE * 4, "inbox": INBOX_PER_CYCLE,
                                 "keys": 0}


def test_only_one_replica_purges_at_a_time(infra: TestInfra, probe: tuple[str, ConnectionPool]) -> None:
    schema, pool = probe
    r = _retention()
    with infra.connect(schema) as conn:
        _produce(conn, 1)
        _age_everything(conn, r, dt.timedelta(minutes=1))
        with infra.connect(schema) as other_replica:
            other_replica.execute("select pg_advisory_lock(hashtext('forbear-retention:' || current_schema()))")
            assert purge(pool, "probe", r) is None
            assert _counts(conn)["inbox"] == INBOX_PER_CYCLE
        # the other replica's session ended: its lock with it
        assert purge(pool, "probe", r) == {"outbox": PUBLISHED_PER_CYCLE, "inbox": INBOX_PER_CYCLE,
                                           "idempotency_keys": KEYS_PER_CYCLE}


def test_an_expired_idempotency_key_is_new_again(infra: TestInfra, probe: tuple[str, ConnectionPool]) -> None:
    schema, pool = probe
    r = _retention()
    with pool.connection() as conn:
        assert idempotency.claim(conn, "agent:a", "open-case-1", "first-request") is None
        idempotency.record(conn, "agent:a", "open-case-1", 201, {"case_id": "C-1"})
    with pool.connection() as conn:
        assert idempotency.claim(conn, "agent:a", "open-case-1", "first-request") == idempotency.Replay(
            201, {"case_id": "C-1"})
        with pytest.raises(Conflict):
            idempotency.claim(conn, "agent:a", "open-case-1", "another-request")
    with pool.connection() as conn:
        # 23 hours on, the key still replays; 24 hours and a minute on, the purge forgets it
        conn.execute("update idempotency_keys set created_at = now() - interval '23 hours'")
    assert purge(pool, "probe", r) == {"outbox": 0, "inbox": 0, "idempotency_keys": 0}
    with pool.connection() as conn:
        conn.execute("update idempotency_keys set created_at = now() - interval '24 hours 1 minute'")
    assert purge(pool, "probe", r) == {"outbox": 0, "inbox": 0, "idempotency_keys": 1}
    with pool.connection() as conn:
        assert idempotency.claim(conn, "agent:a", "open-case-1", "another-request") is None


def test_purges_find_their_rows_by_index(infra: TestInfra, probe: tuple[str, ConnectionPool]) -> None:
    schema, _pool = probe
    with infra.connect(schema) as conn:
        conn.execute("set enable_seqscan = off")  # an empty table is scanned whole otherwise
        for table, column in (("outbox", "published_at"), ("inbox", "received_at"),
                              ("idempotency_keys", "created_at")):
            plan = "\n".join(r["QUERY PLAN"] for r in conn.execute(
                f"explain select ctid from {table} where {column} < now() - interval '1 day' limit 10"))
            assert "Index" in plan and "Seq Scan" not in plan, plan


def test_topics_are_created_with_their_catalogue_retention(infra: TestInfra) -> None:
    names = {infra.topic(t.name): t for t in (topics.INTAKE_EVENTS, topics.CORE_PAYMENTS, topics.dead_letter("intake"))}
    configs = eventually(lambda: (c := topic_configs(infra.bootstrap, list(names))) and all(c.values()) and c)
    for name, topic in names.items():
        assert configs[name]["retention.ms"] == str(topic.retention_ms)
        assert configs[name]["segment.ms"] == str(24 * 3600 * 1000)
        assert configs[name]["message.timestamp.type"] == "LogAppendTime"
    assert configs[infra.topic("intake.dlq")]["retention.ms"] == str(14 * 24 * 3600 * 1000)
    assert configs[infra.topic("intake.events")]["retention.ms"] == str(7 * 24 * 3600 * 1000)


@pytest.mark.parametrize("service", ["intake", "evaluation", "agreement", "monitoring"])
def test_every_worker_purges_on_its_schedule(stack: Stack, service: str) -> None:
    """Each worker purges once at start (then every ``retention_purge_interval_seconds``)."""
    done = f'forbear_retention_purge_runs_total{{outcome="done",service="{service}"}}'

    def purged_once() -> bool:
        text = httpx.get(worker_metrics_url(service), timeout=5).text
        runs = [line for line in text.splitlines() if line.startswith("forbear_retention_purge_runs_total")
                and f'service="{service}"' in line and 'outcome="done"' in line]
        return bool(runs) and float(runs[0].rsplit(" ", 1)[1]) >= 1

    assert eventually(purged_once, timeout=60), done
    text = httpx.get(worker_metrics_url(service), timeout=5).text
    last = [line for line in text.splitlines()
            if line.startswith(f'forbear_retention_last_purge_timestamp_seconds{{service="{service}"}}')]
    assert last and float(last[0].rsplit(" ", 1)[1]) > 0

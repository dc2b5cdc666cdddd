"""Dead-letter redrive against the real broker, database and intake worker.

A loan snapshot from core banking breaks intake's handler (a defect in intake's database: a
trigger refuses the row, quoting a national id and a phone number as such errors do); the
worker retries it and dead-letters it. The defect is fixed (the trigger dropped), and the
redrive (``python -m forbear_shared.redrive``, as an operator runs it) applies the snapshot
once; replaying the same dead letter again changes nothing; a dead letter whose event was
applied in the meantime is recognised by the inbox; malformed bytes go back to the
dead-letter topic with their error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from typing import Any

import pytest
from forbear_shared.events import encode

from tests.integration.test_event_backbone import loan_snapshot_event
from tests.support.infra import eventually, producer, read_topic

pytestmark = pytest.mark.integration

NATIONAL_ID = "310101198805051234"
PHONE = "13900001111"


def redrive(infra: Any, *args: str) -> tuple[int, Any]:
    env = {**os.environ, **infra.service_env()}
    done = subprocess.run([sys.executable, "-m", "forbear_shared.redrive", *args, "--json"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    assert done.stdout.lstrip().startswith(("[", "{")), (done.stdout[:2000], done.stderr[-2000:])
    return done.returncode, json.loads(done.stdout)


def intake_dead_letters(infra: Any, origin_key: bytes, count: int) -> list[Any]:
    def found() -> list[Any] | None:
        letters = [m for m in read_topic(infra, "intake.dlq", timeout=5) if m.key == origin_key]
        return letters if len(letters) >= count else None

    result: list[Any] = eventually(found, timeout=90)
    return result


def loan_rows(infra: Any, loan_id: str) -> int:
    with infra.connect("intake") as conn:
        return int(conn.execute("select count(*) as n from loans where loan_id = %s", (loan_id,)).fetchone()["n"])


def inbox_rows(infra: Any, event_id: str) -> int:
    with infra.connect("intake") as conn:
        return int(conn.execute("select count(*) as n from inbox where consumer = 'intake' and event_id = %s",
                                (event_id,)).fetchone()["n"])


def test_a_dead_letter_is_applied_once_after_the_fix_and_a_second_replay_changes_nothing(stack, infra) -> None:
    marker = f"L-redrive-{uuid.uuid4().hex[:8]}"
    with infra.connect("intake") as conn:
        conn.execute(f"""
            create function refuse_{marker.replace('-', '_')}() returns trigger language plpgsql as $$
            begin
              if new.loan_id like '{marker}%' then
                raise exception 'loan refused for borrower {NATIONAL_ID}' using detail = 'phone {PHONE}';
              end if;
              return new;
            end $$""")
        conn.execute(f"create trigger refuse_{marker.replace('-', '_')} before insert on loans for each row "
                     f"execute function refuse_{marker.replace('-', '_')}()")
    fixed_later = loan_snapshot_event(f"{marker}-a")      # replayed after the fix
    resent = loan_snapshot_event(f"{marker}-b")           # core banking sends it again after the fix
    malformed = b"{not json " + marker.encode()
    topic = infra.topic("corebanking.loans")
    kafka = producer(infra)
    try:
        for event in (fixed_later, resent):
            kafka.send(topic, key=marker.encode(), value=encode(event)).get(timeout=30)
        kafka.send(topic, key=marker.encode(), value=malformed).get(timeout=30)
        letters = intake_dead_letters(infra, marker.encode(), 3)

        # what the dead letters say: reasons, origin, and no personal data in the error
        by_value = {m.value: dict(m.headers) for m in letters}
        refused = by_value[encode(fixed_later)]
        assert refused["dlq.reason"] == b"handler_failed"
        error = refused["dlq.error"].decode()
        assert "RaiseException" in error and "loan refused for borrower" in error
        assert NATIONAL_ID not in error and PHONE not in error and "phone" not in error
        assert by_value[malformed]["dlq.reason"] == b"malformed"
        assert loan_rows(infra, f"{marker}-a") == 0

        _, listed = redrive(infra, "list", "--service", "intake")
        ours = {row["dlq_offset"]: row for row in listed if row["origin"].startswith(topic + "/")
                and row["dlq_offset"] in {m.offset for m in letters}}
        assert sorted(row["reason"] for row in ours.values()) == ["handler_failed", "handler_failed", "malformed"]
        assert all(row["redriven"] is None for row in ours.values())
        offset = {m.value: m.offset for m in letters}

        # the fix: the defect is gone; core banking re-sends one of the two snapshots
        with infra.connect("intake") as conn:
            conn.execute(f"drop trigger refuse_{marker.replace('-', '_')} on loans")
            conn.execute(f"drop function refuse_{marker.replace('-', '_')}()")
        kafka.send(topic, key=marker.encode(), value=encode(resent)).get(timeout=30)
        eventually(lambda: loan_rows(infra, f"{marker}-b") == 1, timeout=60)
    finally:
        kafka.close()

    rc, first = redrive(infra, "replay", "--service", "intake", "--actor", "ops-redrive-test",
                        "--offset", str(offset[encode(fixed_later)]), "--offset", str(offset[encode(resent)]))
    assert rc == 0
    assert [(r["outcome"], r["previously"], r["redriven_by"]) for r in first] == [
        ("applied", False, "ops-redrive-test"), ("already_applied", False, "ops-redrive-test")]
    assert loan_rows(infra, f"{marker}-a") == 1 and inbox_rows(infra, str(fixed_later.event_id)) == 1
    assert loan_rows(infra, f"{marker}-b") == 1 and inbox_rows(infra, str(resent.event_id)) == 1

    # the same dead letter replayed again: recognised, nothing done, the first audit row kept
    rc, second = redrive(infra, "replay", "--service", "intake", "--actor", "ops-other",
                         "--offset", str(offset[encode(fixed_later)]))
    assert rc == 0
    assert [(r["outcome"], r["previously"], r["redriven_by"]) for r in second] == [
        ("applied", True, "ops-redrive-test")]
    assert inbox_rows(infra, str(fixed_later.event_id)) == 1
    with infra.connect("intake") as conn:
        audit = conn.execute("select outcome, redriven_by, origin_topic, reason from dead_letter_redrives "
                             "where dlq_offset = %s and consumer = 'intake'", (offset[encode(fixed_later)],)).fetchall()
    assert audit == [{"outcome": "applied", "redriven_by": "ops-redrive-test", "origin_topic": topic,
                      "reason": "handler_failed"}]

    # malformed bytes are still malformed: back to the dead-letter topic, with the error, as a new record
    rc, third = redrive(infra, "replay", "--service", "intake", "--actor", "ops-redrive-test",
                        "--offset", str(offset[malformed]))
    assert rc == 1
    assert third[0]["outcome"] == "dead_lettered" and "not JSON" in third[0]["error"]
    again = intake_dead_letters(infra, marker.encode(), 4)
    [returned] = [m for m in again if m.value == malformed and m.offset != offset[malformed]]
    assert dict(returned.headers)["dlq.origin.topic"].decode() == topic
    assert dict(returned.headers)["dlq.reason"] == b"malformed"

    _, listed = redrive(infra, "list", "--service", "intake")
    states = {row["dlq_offset"]: row["redriven"] for row in listed}
    assert states[offset[encode(fixed_later)]]["outcome"] == "applied"
    assert states[offset[encode(resent)]]["outcome"] == "already_applied"
    assert states[offset[malformed]]["outcome"] == "dead_lettered"
    assert states[returned.offset] is None  # the returned one awaits the next fix

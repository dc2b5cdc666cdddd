"""Dead-letter redrive: list a consumer's dead letters with their reasons, replay them after a fix.

``python -m forbear_shared.redrive list --service intake``
``python -m forbear_shared.redrive replay --service intake --offset 3 --offset 7 --actor ops-lee``
``python -m forbear_shared.redrive replay --service intake --all --actor ops-lee``

A dead letter is replayed into the one consumer that dead-lettered it, through that consumer's
own ``InboxProcessor`` and handlers (the worker's ``consumer()`` wiring), as the record it was
on its origin topic (origin topic, partition and offset; the ``dlq.*`` headers dropped). It is
not republished to the origin topic: that topic has other consumers, which applied the event
long ago (their inboxes would make the copy harmless, but one for which it is still poison
would dead-letter it a second time), the copy would land behind newer events of the same
case, and the topic belongs to its producer's relay.

Idempotent twice over. The inbox row ``(consumer, event_id)`` is written in the transaction of
the effect, so an event that was applied in the meantime (a redelivery, an earlier redrive
cut short) has no second effect (``already_applied``). And every replayed record is recorded
in ``dead_letter_redrives`` (the consumer's schema), keyed by its dead-letter topic, partition
and offset, with who replayed it, when and the outcome: a record replayed twice is replayed
once, the second time is reported and changes nothing. An event that still fails goes back to
the dead-letter topic as a new record with the error (``dead_lettered``); that new record can
be replayed after the next fix.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import importlib
import json
import logging
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import psycopg
from kafka import KafkaConsumer, TopicPartition
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from forbear_shared.events import EventError, decode
from forbear_shared.inbox import InboxProcessor, KafkaDeadLetter, RawRecord, safe_detail
from forbear_shared.outbox import lazy_producer
from forbear_shared.settings import Settings, load_settings
from forbear_shared.topics import CONSUMERS, dead_letter

log = logging.getLogger(__name__)

DLQ_HEADER_PREFIX = "dlq."
OUTCOMES = ("applied", "already_applied", "dead_lettered", "not_handled")


@dataclass(frozen=True)
class DeadLetter:
    """One record of a consumer's dead-letter topic, as ``inbox.KafkaDeadLetter`` wrote it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", "replace")
        return None

    @property
    def reason(self) -> str:
        return self.header("dlq.reason") or "unknown"

    @property
    def error(self) -> str:
        return self.header("dlq.error") or ""

    @property
    def origin(self) -> tuple[str, int, int]:
        return (self.header("dlq.origin.topic") or "", int(self.header("dlq.origin.partition") or -1),
                int(self.header("dlq.origin.offset") or -1))

    def event(self) -> tuple[str | None, str | None]:
        """The event's id and type when the bytes are a valid event (None for malformed ones)."""
        try:
            envelope = decode(self.value).envelope
        except EventError:
            return None, self.header("event_type")
        return str(envelope.event_id), envelope.type

    def origin_record(self) -> RawRecord:
        """The record as the consumer first read it: origin coordinates, its own headers only."""
        topic, partition, offset = self.origin
        headers = tuple((k, v) for k, v in self.headers if not k.startswith(DLQ_HEADER_PREFIX))
        return RawRecord(topic, partition, offset, self.key, self.value, headers)


@dataclass(frozen=True)
class Redriven:
    """What a replay did with one dead letter (``previously``: it had been replayed before, nothing was done)."""

    dlq_offset: int
    event_id: str | None
    event_type: str | None
    reason: str
    outcome: str
    error: str | None
    redriven_by: str
    redriven_at: dt.datetime
    previously: bool = False


def read_dead_letters(bootstrap: str, topic: str, timeout: float = 30.0) -> list[DeadLetter]:
    """Every record of the dead-letter topic, from its beginning to its end as of now."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                             request_timeout_ms=15000)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        if not partitions:
            raise LookupError(f"no dead-letter topic {topic!r} on the broker")
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        found: list[DeadLetter] = []
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic} not read to its end within {timeout:.0f}s")
            for tp, messages in consumer.poll(timeout_ms=200).items():
                found.extend(
                    DeadLetter(m.topic, m.partition, m.offset, m.key, m.value, tuple(m.headers or ()))
                    for m in messages if m.offset < end[tp]
                )
        return sorted(found, key=lambda d: (d.partition, d.offset))
    finally:
        consumer.close()


def redrives(conn: psycopg.Connection[Any], consumer: str, dlq_topic: str) -> dict[tuple[int, int], Redriven]:
    """What has been replayed of ``dlq_topic`` into ``consumer``, by (partition, offset)."""
    try:
        rows = conn.execute(
            "select * from dead_letter_redrives where consumer = %s and dlq_topic = %s",
            (consumer, dlq_topic),
        ).fetchall()
    except psycopg.errors.UndefinedTable:  # the service has not been started since redrives exist
        conn.rollback()
        return {}
    return {(r["dlq_partition"], r["dlq_offset"]): _redriven(r, previously=True) for r in rows}


def _redriven(row: dict[str, Any], *, previously: bool) -> Redriven:
    return Redriven(
        dlq_offset=row["dlq_offset"], event_id=str(row["event_id"]) if row["event_id"] else None,
        event_type=row["event_type"], reason=row["reason"], outcome=row["outcome"], error=row["error"],
        redriven_by=row["redriven_by"], redriven_at=row["redriven_at"], previously=previously,
    )


class _Captured:
    """The dead-letter sink of a replay: publishes like the worker's, and remembers the error."""

    def __init__(self, sink: KafkaDeadLetter) -> None:
        self.sink = sink
        self.detail: str | None = None

    def __call__(self, record: RawRecord, reason: str, detail: str) -> None:
        self.sink(record, reason, detail)
        self.detail = safe_detail(f"{reason}: {detail}")


class Redrive:
    """Replays dead letters of one consumer into that consumer's inbox processor."""

    def __init__(self, settings: Settings, pool: ConnectionPool, processor: InboxProcessor,
                 sink: KafkaDeadLetter) -> None:
        self.settings = settings
        self.pool = pool
        self.processor = processor
        self.sink = sink
        self.consumer = processor.consumer
        self.dlq_topic = settings.topic(dead_letter(self.consumer).name)

    @classmethod
    def for_service(cls, service: str) -> Redrive:
        """The consumer of ``service`` wired as its worker wires it (``entrypoints.worker.consumer``)."""
        if service not in CONSUMERS:
            raise ValueError(f"unknown consumer {service!r} (one of {', '.join(CONSUMERS)})")
        worker = importlib.import_module(f"forbear_{service}.entrypoints.worker")
        spec = worker.consumer(pool_size=3)
        ctx = spec.service.ctx
        settings = ctx.settings
        sink = KafkaDeadLetter(lazy_producer(settings.kafka_bootstrap, f"{service}-redrive"),
                               settings.topic(dead_letter(service).name), service)
        handlers, batch_handlers = spec.inbox_handlers()
        processor = InboxProcessor(ctx.pool, service, handlers, sink, max_retries=settings.consumer_max_retries,
                                   batch_handlers=batch_handlers, projection=spec.inbox_projection())
        return cls(settings, ctx.pool, processor, sink)

    def close(self) -> None:
        self.sink.producers.close(timeout=10)
        self.pool.close()

    def dead_letters(self) -> list[DeadLetter]:
        return read_dead_letters(self.settings.kafka_bootstrap, self.dlq_topic)

    def replay(self, letters: Iterable[DeadLetter], actor: str) -> list[Redriven]:
        return [self.replay_one(letter, actor) for letter in letters]

    def replay_one(self, letter: DeadLetter, actor: str) -> Redriven:
        """Replay one dead letter unless it was replayed before; record and return the outcome.

        A session lock on the record serialises two operators replaying it at once. A failure
        of the database or the broker raises before anything is recorded: replay it again.
        """
        lock = f"forbear-redrive:{self.consumer}:{letter.topic}:{letter.partition}:{letter.offset}"
        with psycopg.connect(self.pool.conninfo, autocommit=True, **(self.pool.kwargs or {})) as conn:
            conn.execute("select pg_advisory_lock(hashtext(%s))", (lock,))
            try:
                done = conn.execute(
                    "select * from dead_letter_redrives where consumer = %s and dlq_topic = %s "
                    "and dlq_partition = %s and dlq_offset = %s",
                    (self.consumer, letter.topic, letter.partition, letter.offset),
                ).fetchone()
                if done is not None:
                    log.info("dead letter replayed before; nothing done",
                             extra={"consumer": self.consumer, "dlq_offset": letter.offset})
                    return _redriven(done, previously=True)
                outcome, error, (event_id, event_type) = self._apply(conn, letter)
                row = conn.execute(
                    "insert into dead_letter_redrives (consumer, dlq_topic, dlq_partition, dlq_offset, event_id, "
                    "event_type, origin_topic, origin_partition, origin_offset, reason, outcome, error, redriven_by) "
                    "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning *",
                    (self.consumer, letter.topic, letter.partition, letter.offset, event_id, event_type,
                     *letter.origin, letter.reason, outcome, error, actor),
                ).fetchone()
            finally:
                conn.execute("select pg_advisory_unlock(hashtext(%s))", (lock,))
        log.info("dead letter replayed", extra={"consumer": self.consumer, "dlq_offset": letter.offset,
                                                "outcome": outcome, "actor": actor})
        assert row is not None
        return _redriven(row, previously=False)

    def _apply(self, conn: psycopg.Connection[Any], letter: DeadLetter) -> tuple[str, str | None,
                                                                                 tuple[str | None, str | None]]:
        event = letter.event()
        event_id, event_type = event
        applied_before = event_id is not None and conn.execute(
            "select 1 from inbox where consumer = %s and event_id = %s", (self.consumer, event_id),
        ).fetchone() is not None
        captured = _Captured(self.sink)
        self.processor.dead_letter = captured
        try:
            self.processor.process([letter.origin_record()])
        finally:
            self.processor.dead_letter = self.sink
        if captured.detail is not None:
            return "dead_lettered", captured.detail, event
        if event_type not in self.processor.handlers and event_type not in self.processor.batch_handlers:
            return "not_handled", None, event
        return ("already_applied" if applied_before else "applied"), None, event


# -- command line ---------------------------------------------------------------------------------


def _print_letters(letters: list[DeadLetter], done: dict[tuple[int, int], Redriven], as_json: bool) -> None:
    rows = []
    for letter in letters:
        event_id, event_type = letter.event()
        topic, partition, offset = letter.origin
        previous = done.get((letter.partition, letter.offset))
        rows.append({
            "dlq_offset": letter.offset, "reason": letter.reason, "error": letter.error, "event_type": event_type,
            "event_id": event_id, "origin": f"{topic}/{partition}@{offset}",
            "redriven": None if previous is None else {
                "outcome": previous.outcome, "by": previous.redriven_by, "at": previous.redriven_at.isoformat()},
        })
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{len(rows)} dead letter(s)")
    for r in rows:
        redriven = r["redriven"]
        state = "pending" if redriven is None else f"redriven {redriven['outcome']} by {redriven['by']} {redriven['at']}"
        print(f"  @{r['dlq_offset']:<6} {r['reason']:<24} {r['event_type'] or '-':<26} {r['origin']:<40} {state}")
        if r["error"]:
            print(f"          {r['error'][:200]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forbear_shared.redrive", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="a consumer's dead letters with their reason and redrive state")
    listing.add_argument("--service", required=True, choices=CONSUMERS)
    listing.add_argument("--json", action="store_true")
    replay = sub.add_parser("replay", help="replay dead letters into the consumer (each at most once)")
    replay.add_argument("--service", required=True, choices=CONSUMERS)
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--offset", type=int, action="append", help="a dead-letter offset (repeatable)")
    which.add_argument("--all", action="store_true", help="every dead letter not replayed yet")
    replay.add_argument("--actor", default=None, help="who replays (recorded; default: the login name)")
    replay.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    if args.command == "list":
        settings = load_settings(args.service)
        topic = settings.topic(dead_letter(args.service).name)
        letters = read_dead_letters(settings.kafka_bootstrap, topic)
        with psycopg.connect(settings.database_url, options=f"-c search_path={args.service}",
                             row_factory=dict_row) as conn:
            done = redrives(conn, args.service, topic)
        _print_letters(letters, done, args.json)
        return 0

    from forbear_shared import logs

    logs.configure(f"{args.service}-redrive")
    redrive = Redrive.for_service(args.service)
    try:
        letters = redrive.dead_letters()
        if args.all:
            with redrive.pool.connection() as conn:
                done = redrives(conn, redrive.consumer, redrive.dlq_topic)
            chosen = [d for d in letters if (d.partition, d.offset) not in done]
        else:
            by_offset = {d.offset: d for d in letters}
            missing = [o for o in args.offset if o not in by_offset]
            if missing:
                print(f"no dead letter at offset(s) {missing} of {redrive.dlq_topic}", file=sys.stderr)
                return 2
            chosen = [by_offset[o] for o in args.offset]
        results = redrive.replay(chosen, args.actor or getpass.getuser())
    finally:
        redrive.close()
    if args.json:
        print(json.dumps([{**asdict(r), "redriven_at": r.redriven_at.isoformat()} for r in results], indent=2))
    else:
        for r in results:
            again = " (replayed before; nothing done)" if r.previously else ""
            print(f"  @{r.dlq_offset:<6} {r.outcome:<16} {r.event_type or '-':<26} by {r.redriven_by}{again}"
                  + (f"\n          {r.error}" if r.error else ""))
    return 1 if any(r.outcome == "dead_lettered" and not r.previously for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

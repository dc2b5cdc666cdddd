"""Worker of the evaluation service: a faust-streaming app, the outbox relay, the retention
purge and /metrics.

``python -m forbear_evaluation.entrypoints.worker``

The faust agent reads intake, agreement and monitoring events as raw bytes and hands each
record, one at a time, to the shared ``InboxProcessor`` (inbox row in the same transaction as
the effect, retries, dead-letter topic). faust acknowledges a record only after the agent's
loop body returned, i.e. after the database commit, and the body never raises:

* a handler failure is the processor's business (retried, then dead-lettered to
  ``evaluation.dlq``), so an exception can never make faust move past an event unseen;
* an infrastructure failure (database down, dead-letter topic unreachable) is retried here,
  forever, on the same record: the partition waits rather than skips.

Redelivery after a crash or a rebalance is harmless: the inbox makes the repeat a no-op.

faust cannot start without a broker (aiokafka's bootstrap fails and the worker crashes), so
the process waits for the broker with backoff before starting it; once running, aiokafka
reconnects by itself and the agent's retries hold the partition while the database is away.
The relay and the dead-letter producer are made on first use and after a failure, as in every
worker (forbear_shared.worker); the metrics port answers /readyz.

faust is configured as a plain consumer: no web server, no tables (Postgres holds the state),
no leader topic, no topic declaration (topics are created explicitly), ``earliest`` offsets
for a new group, and the deployment's topic prefix and consumer group.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import tempfile
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import faust
from forbear_shared import metrics, retry
from forbear_shared.inbox import TRANSIENT, InboxProcessor, KafkaDeadLetter, RawRecord
from forbear_shared.outbox import OutboxRelay, lazy_producer
from forbear_shared.projections import on_business_date_advanced
from forbear_shared.readiness import serve_worker_http
from forbear_shared.retention import purge_loop
from forbear_shared.settings import Settings
from forbear_shared.topics import AGREEMENT_EVENTS, INTAKE_EVENTS, MONITORING_EVENTS, dead_letter
from forbear_shared.worker import WorkerSpec, worker_readiness
from kafka.errors import KafkaConnectionError
from psycopg_pool import ConnectionPool

from forbear_evaluation import bootstrap
from forbear_evaluation.service_layer import appeals, decisions

log = logging.getLogger(__name__)

CONSUMED = (INTAKE_EVENTS.name, AGREEMENT_EVENTS.name, MONITORING_EVENTS.name)
BATCH_MAX = 200
BATCH_WITHIN_SECONDS = 0.02


def _headers(raw: Any) -> tuple[tuple[str, bytes], ...]:
    if not raw:
        return ()
    items: Iterable[Any] = raw.items() if isinstance(raw, dict) else raw
    return tuple((str(k), bytes(v) if v is not None else b"") for k, v in items)


def consumer(pool_size: int = 10) -> WorkerSpec:
    """Which use case handles each event this worker consumes (the faust agent runs them through
    the shared inbox; the dead-letter redrive replays with the same spec)."""
    svc = bootstrap.bootstrap(pool_size)
    return WorkerSpec(
        service=svc,
        topics=list(CONSUMED),
        handlers={
            "case.submitted": decisions.on_case_submitted,
            "case.personal_data_erased": decisions.on_personal_data_erased,
            "offer.countered": decisions.on_offer_countered,
            "representative.authorised": appeals.on_representative_authorised,
            "representative.revoked": appeals.on_representative_revoked,
            "evidence.reviewed": appeals.on_evidence_reviewed,
            "business_date.advanced": on_business_date_advanced,
        },
        loops=[purge_loop(svc.ctx.settings, svc.ctx.pool)],
    )


def build_processor(settings: Settings, pool: ConnectionPool, spec: WorkerSpec) -> InboxProcessor:
    service = settings.service_name
    dlq = KafkaDeadLetter(
        lazy_producer(settings.kafka_bootstrap, f"{service}-dlq"), settings.topic(dead_letter(service).name), service
    )
    handlers, _batch = spec.inbox_handlers()
    return InboxProcessor(pool, service, handlers, dlq, max_retries=settings.consumer_max_retries)


def build_app(settings: Settings, processor: InboxProcessor) -> faust.App:
    brokers = [f"kafka://{b.strip()}" for b in settings.kafka_bootstrap.split(",") if b.strip()]
    app_id = settings.group(settings.service_name)
    app = faust.App(
        app_id,
        broker=brokers,
        # faust keeps a data directory even without tables: outside the working directory
        datadir=str(Path(tempfile.gettempdir()) / f"forbear-faust-{app_id}"),
        autodiscover=False,
        web_enabled=False,
        store="memory://",
        topic_allow_declare=False,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        # as the shared consumers: a crashed member is noticed in seconds, not faust's default minute
        broker_session_timeout=15.0,
        broker_heartbeat_interval=3.0,
        key_serializer="raw",
        value_serializer="raw",
        producer_acks=-1,
    )
    source = app.topic(
        *(settings.topic(name) for name in CONSUMED), key_serializer="raw", value_serializer="raw",
    )
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbox")
    consumer_name = processor.consumer

    async def apply(records: list[RawRecord]) -> None:
        """Settle a batch through the shared inbox; faust acknowledges it only after this returns."""
        loop = asyncio.get_running_loop()
        retrying = retry.Retrying(consumer_name, "consumer")
        while True:
            try:
                with metrics.CONSUMER_DURATION.labels(consumer_name).time():
                    await loop.run_in_executor(executor, processor.process, records)
                return
            except TRANSIENT:
                if retrying.attempt == 0:
                    log.warning("database unavailable; retrying the same events", exc_info=True)
            except Exception:
                # not the events' fault (the processor dead-letters those): e.g. the DLQ is unreachable
                log.exception("could not settle a batch; retrying it", extra={
                    "topic": records[0].topic, "partition": records[0].partition, "offset": records[0].offset})
            wait = retrying.backoff.delay(retrying.attempt)
            retrying.attempt += 1
            metrics.RETRIES.labels(consumer_name, "consumer").inc()
            await asyncio.sleep(wait)

    @app.agent(source, concurrency=1)
    async def evaluation_inbox(stream: faust.StreamT) -> None:  # type: ignore[type-arg]
        # what has arrived in the last few milliseconds is settled in one transaction: under load
        # the queue drains in batches instead of one commit per event
        async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN_SECONDS):
            await apply([
                RawRecord(e.message.topic, e.message.partition, e.message.offset, e.message.key,
                          e.message.value, _headers(e.message.headers))
                for e in events
            ])

    @app.timer(5.0)
    async def observe_lag() -> None:
        consumer = app.consumer
        try:
            for tp in consumer.assignment():
                high = consumer.highwater(tp)
                read = consumer._read_offset.get(tp)  # faust's last read offset of the partition
                if high is not None:
                    lag = high - (read + 1 if read is not None else 0)
                    metrics.CONSUMER_LAG.labels(consumer_name, tp.topic, str(tp.partition)).set(max(0, lag))
        except Exception:  # metrics must never stop the consumer
            log.debug("lag not observed", exc_info=True)

    return app


def main() -> None:
    spec = consumer()
    assert spec.service is not None
    ctx = spec.service.ctx
    settings = ctx.settings
    readiness, probe = worker_readiness(settings, ctx.pool, list(CONSUMED))
    server = serve_worker_http(settings.http_host, settings.metrics_port, readiness)

    stop = threading.Event()
    threading.Thread(target=readiness.run, args=(stop,), name="readiness", daemon=True).start()
    relay = OutboxRelay(ctx.pool, lazy_producer(settings.kafka_bootstrap, f"{ctx.name}-relay"), ctx.name,
                        settings.relay_batch_size)
    relay_thread = threading.Thread(target=relay.run, args=(stop, settings.relay_idle_seconds), name="relay",
                                    daemon=True)
    relay_thread.start()
    loop_threads = [threading.Thread(target=loop, args=(stop,), name=f"loop-{i}", daemon=True)
                    for i, loop in enumerate(spec.loops)]
    for thread in loop_threads:
        thread.start()

    stopping = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: stopping.set())
    try:
        retry.call(lambda: _broker_answers(probe.check), service=ctx.name, operation="kafka_client",
                   stop=stopping)
    except KafkaConnectionError:
        if not stopping.is_set():
            raise
    signal.signal(signal.SIGTERM, previous)
    if stopping.is_set():
        log.info("stopped before the broker answered")
        stop.set()
        relay_thread.join(timeout=30)
        ctx.pool.close()
        return

    app = build_app(settings, build_processor(settings, ctx.pool, spec))

    @app.timer(1.0)
    async def watch_relay() -> None:
        if not relay_thread.is_alive() and not stop.is_set():
            log.error("outbox relay thread died; stopping the worker")
            os.kill(os.getpid(), signal.SIGTERM)

    log.info("worker started", extra={"topics": ",".join(CONSUMED), "metrics_port": settings.metrics_port})
    worker = faust.Worker(app, loglevel=settings.log_level, quiet=True, redirect_stdouts=False,
                          override_logging=False)
    try:
        worker.execute_from_commandline()
    finally:
        stop.set()
        relay_thread.join(timeout=30)
        for thread in loop_threads:
            thread.join(timeout=30)
        server.shutdown()
        probe.close()
        ctx.pool.close()


def _broker_answers(check: Any) -> None:
    problem = check()
    if problem is not None:
        raise KafkaConnectionError(problem)


if __name__ == "__main__":
    main()

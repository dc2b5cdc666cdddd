"""The worker process of a service: its outbox relay, its consumers and its /metrics.

Each part runs in its own thread; SIGTERM/SIGINT stop them cleanly (the current batch
finishes and commits before the process exits).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client import start_http_server
from psycopg_pool import ConnectionPool

from forbear_shared.inbox import BatchHandler, Handler, InboxProcessor, KafkaDeadLetter, KafkaInboxLoop
from forbear_shared.outbox import OutboxRelay, make_producer
from forbear_shared.settings import Settings
from forbear_shared.topics import dead_letter

log = logging.getLogger(__name__)


@dataclass
class WorkerSpec:
    """What a service's worker consumes and how it handles each event type."""

    topics: list[str]
    handlers: dict[str, Handler]
    #: event types applied a run at a time (set-based), e.g. payments
    batch_handlers: dict[str, BatchHandler] = field(default_factory=dict)
    #: extra periodic loops (e.g. a scheduler), each run as ``fn(stop)`` in a thread
    loops: list[Callable[[threading.Event], None]] = field(default_factory=list)
    consume: bool = True


def build_consumer(settings: Settings, pool: ConnectionPool, spec: WorkerSpec) -> KafkaInboxLoop:
    service = settings.service_name
    dlq_producer = make_producer(settings.kafka_bootstrap, f"{service}-dlq")
    processor = InboxProcessor(
        pool,
        service,
        spec.handlers,
        KafkaDeadLetter(dlq_producer, settings.topic(dead_letter(service).name), service),
        max_retries=settings.consumer_max_retries,
        batch_handlers=spec.batch_handlers,
    )
    return KafkaInboxLoop(
        processor,
        settings.kafka_bootstrap,
        settings.group(service),
        [settings.topic(t) for t in spec.topics],
    )


def run_worker(settings: Settings, pool: ConnectionPool, spec: WorkerSpec) -> None:
    service = settings.service_name
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("stopping worker", extra={"signal": signum})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    start_http_server(settings.metrics_port, addr=settings.http_host)

    producer = make_producer(settings.kafka_bootstrap, f"{service}-relay")
    relay = OutboxRelay(pool, producer, service, settings.relay_batch_size)
    threads = [threading.Thread(target=relay.run, args=(stop, settings.relay_idle_seconds), name="relay")]
    if spec.consume and spec.topics:
        consumer = build_consumer(settings, pool, spec)
        threads.append(threading.Thread(target=consumer.run, args=(stop,), name="consumer"))
    for i, loop in enumerate(spec.loops):
        threads.append(threading.Thread(target=loop, args=(stop,), name=f"loop-{i}"))
    for t in threads:
        t.start()
    log.info("worker started", extra={"topics": ",".join(spec.topics), "metrics_port": settings.metrics_port})
    while not stop.wait(0.5):
        dead = [t.name for t in threads if not t.is_alive()]
        if dead:
            log.error("worker thread died", extra={"threads": ",".join(dead)})
            stop.set()
    for t in threads:
        t.join(timeout=30)
    producer.close(timeout=10)
    pool.close()

"""The worker process of a service: its outbox relay, its consumers and its /metrics.

Each part runs in its own thread; SIGTERM/SIGINT stop them cleanly (the current batch
finishes and commits before the process exits). A service with a heavy event flow runs its
relay in a child process instead (``WorkerSpec.relay_process``): publishing then has an
interpreter of its own rather than competing with the consumer for one. The child dies with
the worker (even a SIGKILLed one), a dead child stops the worker, and the worker's /metrics
still reports what the relay published and the outbox backlog.

Worker processes tune Python's cyclic garbage collector (``tune_gc``): a batch of thousands of
events allocates hundreds of thousands of short-lived objects beside long-lived caches, and
with the default thresholds the collector ran so often, over so many live objects, that it
took a fifth of the consumer's time (``make bench``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaProducer
from prometheus_client import start_http_server
from psycopg_pool import ConnectionPool

from forbear_shared import logs, metrics
from forbear_shared.db import make_pool
from forbear_shared.inbox import BatchHandler, Handler, InboxProcessor, KafkaDeadLetter, KafkaInboxLoop
from forbear_shared.outbox import OutboxRelay, make_producer, observe_backlog
from forbear_shared.settings import Settings, load_settings
from forbear_shared.topics import dead_letter

log = logging.getLogger(__name__)


#: collector thresholds of worker processes: the young generation is collected after 100,000
#: net allocations (default 700); the oldest one after 20 x 10 young collections
GC_THRESHOLDS = (100_000, 20, 10)


def tune_gc() -> None:
    """Leave what start-up built (modules, settings, policy) out of every later collection and
    collect less often. Reference counting still frees acyclic garbage at once; cycles are
    collected later, not never."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


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
    #: publish the outbox from a child process instead of a thread
    relay_process: bool = False


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
    tune_gc()

    producer: KafkaProducer | None = None
    child: RelayProcess | None = None
    if spec.relay_process:
        child = RelayProcess(service, pool)
        threads = [threading.Thread(target=child.watch, args=(stop,), name="relay-watch")]
    else:
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
    if child is not None:
        child.stop()
    if producer is not None:
        producer.close(timeout=10)
    pool.close()


class RelayProcess:
    """The outbox relay of ``service`` in a child process, watched from the worker."""

    def __init__(self, service: str, pool: ConnectionPool) -> None:
        context = multiprocessing.get_context("spawn")
        self.service = service
        self.pool = pool  # the worker's own view of the outbox: backlog metrics
        self.published = context.Value("q", 0)
        self.process = context.Process(target=_relay_main, args=(service, self.published, os.getpid()),
                                       name=f"{service}-relay", daemon=True)
        self.process.start()
        self._reported = 0

    def watch(self, stop: threading.Event) -> None:
        """Until ``stop``: report the child's progress as this process's metrics; stop the
        worker if the child died."""
        while not stop.wait(1.0):
            if not self.process.is_alive():
                log.error("outbox relay process died", extra={"exitcode": self.process.exitcode})
                return  # a dead thread stops the worker
            self._report()
        self._report()

    def _report(self) -> None:
        published = int(self.published.value)
        if published > self._reported:
            metrics.OUTBOX_PUBLISHED.labels(self.service).inc(published - self._reported)
            self._reported = published
        try:
            observe_backlog(self.pool, self.service)
        except Exception:  # metrics must never stop the worker
            log.debug("outbox backlog not observed", exc_info=True)

    def stop(self, timeout: float = 30.0) -> None:
        if self.process.is_alive():
            self.process.terminate()  # SIGTERM: the current batch finishes first
            self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)


def _relay_main(service: str, published: Any, parent: int) -> None:
    """Entry point of the relay child: its own settings, pool and producer, from the environment."""
    _die_with_parent(parent)
    settings = load_settings(service)
    logs.configure(service, settings.log_level)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the worker decides when its relay stops

    def count(n: int) -> None:
        with published.get_lock():
            published.value += n

    pool = make_pool(settings.database_url, service, max_size=2, name=f"{service}-relay")
    producer = make_producer(settings.kafka_bootstrap, f"{service}-relay")
    relay = OutboxRelay(pool, producer, service, settings.relay_batch_size, on_published=count)
    tune_gc()
    try:
        relay.run(stop, settings.relay_idle_seconds, observe=False)
    finally:
        producer.close(timeout=10)
        pool.close()


def _die_with_parent(parent: int) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux ``PR_SET_PDEATHSIG``):
    a relay must never outlive its worker, not even a SIGKILLed one."""
    pr_set_pdeathsig = 1
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except OSError:
        log.warning("cannot tie the relay to its worker's lifetime")
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)

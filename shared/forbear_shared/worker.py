"""The worker process of a service: its outbox relay, its consumers and its /metrics.

Each part runs in its own thread; SIGTERM/SIGINT stop them cleanly (the current batch
finishes and commits before the process exits). A service with a heavy event flow runs its
relay in a child process instead (``WorkerSpec.relay_process``): publishing then has an
interpreter of its own rather than competing with the consumer for one. The child dies with
the worker (even a SIGKILLed one), a child that died is started again with backoff, and the
worker's /metrics still reports what the relay published and the outbox backlog.

A worker rides out an outage of the broker or the database: every Kafka client is made when
first needed and made again after a failure, every loop retries with backoff
(forbear_shared.retry), and meanwhile the worker's metrics port answers ``/readyz`` with 503
naming what is away (``forbear_dependency_up``, ``forbear_ready``). It resumes by itself.

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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from psycopg_pool import ConnectionPool

from forbear_shared import logs, metrics
from forbear_shared.db import make_pool
from forbear_shared.events import DecodedEvent
from forbear_shared.inbox import BatchHandler, Handler, InboxProcessor, KafkaDeadLetter, KafkaInboxLoop
from forbear_shared.outbox import OutboxRelay, lazy_producer, observe_backlog
from forbear_shared.readiness import Check, KafkaProbe, Readiness, check_postgres, serve_worker_http
from forbear_shared.retry import Retrying
from forbear_shared.settings import Settings, load_settings
from forbear_shared.topics import dead_letter
from forbear_shared.unit_of_work import Service, UnitOfWork

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


#: a use case on an event: ``use_case(event, uow)`` (forbear_shared.unit_of_work)
EventUseCase = Callable[[DecodedEvent, UnitOfWork[Any]], None]
#: a use case on a run of consecutive fresh events of one type, applied set-based
BatchUseCase = Callable[[list[DecodedEvent], UnitOfWork[Any]], None]


@dataclass
class WorkerSpec:
    """What a service's worker consumes and which use case handles each event type.

    Handlers are use cases, ``(event, uow)``: each gets a unit of work joined to the inbox's
    transaction, so the event is marked handled in the same commit as its effect."""

    service: Service
    topics: list[str]
    handlers: dict[str, EventUseCase]
    #: event types applied a run at a time (set-based), e.g. payments
    batch_handlers: dict[str, BatchUseCase] = field(default_factory=dict)
    #: a read model's projection: every fresh event of a batch in one call, in order (``InboxProcessor``)
    projection: BatchUseCase | None = None
    #: extra periodic loops (e.g. a scheduler), each run as ``fn(stop)`` in a thread
    loops: list[Callable[[threading.Event], None]] = field(default_factory=list)
    consume: bool = True
    #: publish the outbox from a child process instead of a thread
    relay_process: bool = False
    #: run an outbox relay (a read model publishes nothing)
    relay: bool = True

    def inbox_handlers(self) -> tuple[dict[str, Handler], dict[str, BatchHandler]]:
        """The handlers as the inbox calls them, ``(conn, event)`` / ``(conn, events)``."""
        service = self.service

        def on_event(use_case: EventUseCase) -> Handler:
            return lambda conn, event: use_case(event, service.unit_of_work(conn))

        def on_run(use_case: BatchUseCase) -> BatchHandler:
            return lambda conn, events: use_case(events, service.unit_of_work(conn))

        return ({t: on_event(h) for t, h in self.handlers.items()},
                {t: on_run(h) for t, h in self.batch_handlers.items()})

    def inbox_projection(self) -> BatchHandler | None:
        """The projection as the inbox calls it, ``(conn, events)``: the use case ``(events, uow)``
        on a unit of work joined to the inbox's transaction."""
        service, projection = self.service, self.projection
        if projection is None:
            return None
        return lambda conn, events: projection(events, service.unit_of_work(conn))


def periodic(every: float, refresh: Callable[[], object], what: str) -> Callable[[threading.Event], None]:
    """A worker loop (``WorkerSpec.loops``) calling ``refresh`` every ``every`` seconds, e.g. a
    metric's; a failure is logged and never stops the worker."""

    def run(stop: threading.Event) -> None:
        while not stop.wait(every):
            try:
                refresh()
            except Exception as exc:
                # the kind of failure only: a traceback's frames may hold the rows it was reading
                log.warning("%s failed: %s", what, type(exc).__name__)

    return run


def build_consumer(settings: Settings, pool: ConnectionPool, spec: WorkerSpec) -> KafkaInboxLoop:
    service = settings.service_name
    handlers, batch_handlers = spec.inbox_handlers()
    processor = InboxProcessor(
        pool,
        service,
        handlers,
        KafkaDeadLetter(lazy_producer(settings.kafka_bootstrap, f"{service}-dlq"),
                        settings.topic(dead_letter(service).name), service),
        max_retries=settings.consumer_max_retries,
        batch_handlers=batch_handlers,
        projection=spec.inbox_projection(),
    )
    return KafkaInboxLoop(
        processor,
        settings.kafka_bootstrap,
        settings.group(service),
        [settings.topic(t) for t in spec.topics],
    )


def worker_readiness(settings: Settings, pool: ConnectionPool, topics: list[str],
                     extra: dict[str, Check] | None = None) -> tuple[Readiness, KafkaProbe]:
    """The checks behind a worker's /readyz: its database, its broker and the topics it uses."""
    probe = KafkaProbe(settings.kafka_bootstrap, [settings.topic(t) for t in topics])
    checks: dict[str, Check] = {"postgres": lambda: check_postgres(pool), "kafka": probe.check, **(extra or {})}
    return Readiness(settings.service_name, checks), probe


def run_worker(spec: WorkerSpec) -> None:
    """Run the worker of ``spec.service`` until SIGTERM or SIGINT."""
    settings, pool = spec.service.ctx.settings, spec.service.ctx.pool
    service = settings.service_name
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("stopping worker", extra={"signal": signum})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    tune_gc()

    child: RelayProcess | None = None
    extra: dict[str, Check] = {}
    if not spec.relay:
        threads = []
    elif spec.relay_process:
        child = RelayProcess(service, pool)
        extra["relay"] = child.check
        threads = [threading.Thread(target=child.watch, args=(stop,), name="relay-watch")]
    else:
        relay = OutboxRelay(pool, lazy_producer(settings.kafka_bootstrap, f"{service}-relay"), service,
                            settings.relay_batch_size)
        threads = [threading.Thread(target=relay.run, args=(stop, settings.relay_idle_seconds), name="relay")]
    readiness, probe = worker_readiness(settings, pool, spec.topics, extra)
    server = serve_worker_http(settings.http_host, settings.metrics_port, readiness)
    threads.append(threading.Thread(target=readiness.run, args=(stop,), name="readiness"))
    if spec.consume and spec.topics:
        # built in its thread: joining the group waits for a broker that may be away
        threads.append(threading.Thread(target=lambda: build_consumer(settings, pool, spec).run(stop), name="consumer"))
    for i, loop in enumerate(spec.loops):
        threads.append(threading.Thread(target=loop, args=(stop,), name=f"loop-{i}"))
    for t in threads:
        t.start()
    log.info("worker started", extra={"topics": ",".join(spec.topics), "metrics_port": settings.metrics_port})
    while not stop.wait(0.5):
        dead = [t.name for t in threads if not t.is_alive()]
        if dead:
            # the loops retry every failure of Kafka or Postgres: a thread that ended has a bug
            log.error("worker thread died", extra={"threads": ",".join(dead)})
            stop.set()
    for t in threads:
        t.join(timeout=30)
    if child is not None:
        child.stop()
    server.shutdown()
    probe.close()
    pool.close()


class RelayProcess:
    """The outbox relay of ``service`` in a child process, watched from the worker."""

    def __init__(self, service: str, pool: ConnectionPool) -> None:
        self._context = multiprocessing.get_context("spawn")
        self.service = service
        self.pool = pool  # the worker's own view of the outbox: backlog metrics
        self.published = self._context.Value("q", 0)
        self._reported = 0
        self.restarts = 0
        self.process = self._spawn()

    def _spawn(self) -> multiprocessing.process.BaseProcess:
        process = self._context.Process(target=_relay_main, args=(self.service, self.published, os.getpid()),
                                        name=f"{self.service}-relay", daemon=True)
        process.start()
        return process

    def check(self) -> str | None:
        return None if self.process.is_alive() else "outbox relay process not running"

    def watch(self, stop: threading.Event) -> None:
        """Until ``stop``: report the child's progress as this process's metrics; start the child
        again, with backoff, if it died (it retries the broker and the database itself, so a
        death is a crash: counted in ``forbear_retries_total{operation="relay_process"}``)."""
        retrying = Retrying(self.service, "relay_process")
        started = time.monotonic()
        while not stop.wait(1.0):
            self._report()
            if self.process.is_alive():
                if time.monotonic() - started > 60:
                    retrying.succeeded()
                continue
            log.error("outbox relay process died; starting it again", extra={"exitcode": self.process.exitcode})
            retrying.failed(stop)
            if stop.is_set():
                break
            self.restarts += 1
            self.process = self._spawn()
            started = time.monotonic()
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

    pool = make_pool(settings.database_url, service, max_size=2, name=f"{service}-relay",
                     timeout=settings.db_pool_timeout_seconds, statement_timeout_ms=settings.db_statement_timeout_ms)
    relay = OutboxRelay(pool, lazy_producer(settings.kafka_bootstrap, f"{service}-relay"), service,
                        settings.relay_batch_size, on_published=count)
    tune_gc()
    try:
        relay.run(stop, settings.relay_idle_seconds, observe=False)
    finally:
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

"""Riding out an outage: capped exponential backoff with jitter, and what counts as transient.

Every part of a process that talks to Kafka or Postgres retries the same way: a failure that
is the infrastructure's (the broker or the database away, a timeout) waits ``Backoff`` and
tries again, forever, while the process reports itself not ready; a failure that retrying
cannot cure (bad configuration, a migration that fails on a live database) is raised. A
whole fleet restarted together does not hammer a recovering broker in step: each wait is
drawn at random from the upper half of its exponential bound.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import psycopg
import psycopg_pool
from kafka.errors import KafkaError

from forbear_shared import metrics

log = logging.getLogger(__name__)

T = TypeVar("T")

#: SQLSTATE classes and codes of a server that is away or going away (not of a bad statement):
#: 08 connection exceptions, 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect
#: now (starting up or in recovery), 57014 a statement cancelled by statement_timeout
_PG_UNAVAILABLE_CODES = frozenset({"57P01", "57P02", "57P03", "57014"})


def postgres_unavailable(exc: BaseException) -> bool:
    """Is ``exc`` the database being away or too slow, rather than something wrong with a statement?"""
    if isinstance(exc, psycopg_pool.PoolTimeout):
        return True
    if not isinstance(exc, psycopg.OperationalError):
        return False
    code = exc.sqlstate
    return code is None or code.startswith("08") or code in _PG_UNAVAILABLE_CODES


def kafka_unavailable(exc: BaseException) -> bool:
    """Any Kafka client error: the broker away, a timeout, a leader moving. A bad
    configuration surfaces as ``ValueError``/``TypeError``/``KafkaConfigurationError``
    before any connection is tried and is not retried."""
    from kafka.errors import KafkaConfigurationError

    return isinstance(exc, KafkaError) and not isinstance(exc, KafkaConfigurationError)


def transient(exc: BaseException) -> bool:
    return postgres_unavailable(exc) or kafka_unavailable(exc)


@dataclass(frozen=True)
class Backoff:
    """Waits of ``initial * factor**n`` seconds, capped at ``cap``, each drawn from its upper half."""

    initial: float = 0.5
    cap: float = 15.0
    factor: float = 2.0

    def delay(self, attempt: int) -> float:
        """The wait before retry number ``attempt`` (0 for the first retry)."""
        bound = min(self.cap, self.initial * self.factor ** min(attempt, 64))
        return random.uniform(bound / 2, bound)


#: the default for every Kafka and Postgres client of the system
BACKOFF = Backoff()


class Retrying:
    """The backoff state of one loop: ``failed()`` waits the next delay, ``succeeded()`` resets it."""

    def __init__(self, service: str, operation: str, backoff: Backoff = BACKOFF) -> None:
        self.service = service
        self.operation = operation
        self.backoff = backoff
        self.attempt = 0

    def failed(self, stop: threading.Event | None = None) -> float:
        """Count the failure and wait (``stop`` cuts the wait short); return the wait drawn."""
        wait = self.backoff.delay(self.attempt)
        self.attempt += 1
        metrics.RETRIES.labels(self.service, self.operation).inc()
        if stop is None:
            threading.Event().wait(wait)
        else:
            stop.wait(wait)
        return wait

    def succeeded(self) -> None:
        self.attempt = 0


def call(
    fn: Callable[[], T],
    *,
    service: str,
    operation: str,
    retry_if: Callable[[BaseException], bool] = transient,
    stop: threading.Event | None = None,
    backoff: Backoff = BACKOFF,
) -> T:
    """``fn()``, retried with backoff for as long as it fails with an error ``retry_if`` accepts
    (or until ``stop`` is set, which re-raises the last error). Other errors are raised at once."""
    retrying = Retrying(service, operation, backoff)
    while True:
        try:
            return fn()
        except Exception as exc:
            if not retry_if(exc) or (stop is not None and stop.is_set()):
                raise
            log.warning("%s unavailable; retrying", operation,
                        extra={"operation": operation, "error": type(exc).__name__, "attempt": retrying.attempt + 1})
            retrying.failed(stop)

"""What is retried: the broker or the database away, never a bad statement or a bad setting."""

from __future__ import annotations

import psycopg
import psycopg_pool
import pytest
from forbear_shared import retry
from forbear_shared.retry import Backoff, kafka_unavailable, postgres_unavailable
from kafka.errors import KafkaConfigurationError, KafkaConnectionError, KafkaTimeoutError

QUICK = Backoff(initial=0.001, cap=0.002)


@pytest.mark.parametrize("error", [
    psycopg.OperationalError("connection refused"),  # no SQLSTATE: the server never answered
    psycopg.errors.AdminShutdown(),  # 57P01 the server is shutting down
    psycopg.errors.CannotConnectNow(),  # 57P03 starting up or recovering
    psycopg.errors.QueryCanceled(),  # 57014 statement_timeout: too slow now
    psycopg_pool.PoolTimeout("no connection within 5 s"),
])
def test_the_database_away_or_too_slow_is_retried(error: Exception) -> None:
    assert postgres_unavailable(error)
    assert retry.transient(error)


@pytest.mark.parametrize("error", [
    psycopg.errors.UndefinedTable(),  # a migration or a statement that is wrong
    psycopg.errors.LockNotAvailable(),  # an OperationalError of the statement, not of the server
    psycopg.errors.UniqueViolation(),
    ValueError("bad input"),
])
def test_a_statement_that_fails_on_a_live_database_is_not(error: Exception) -> None:
    assert not postgres_unavailable(error)
    assert not retry.transient(error)


def test_the_broker_away_is_retried_and_a_bad_client_setting_is_not() -> None:
    assert kafka_unavailable(KafkaTimeoutError("Unable to bootstrap"))
    assert kafka_unavailable(KafkaConnectionError("111 ECONNREFUSED"))
    assert not kafka_unavailable(KafkaConfigurationError("Unrecognized configs"))


def test_call_retries_until_the_dependency_answers_and_raises_anything_else_at_once() -> None:
    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 4:
            raise psycopg.OperationalError("connection refused")
        return "migrated"

    assert retry.call(flaky, service="test", operation="migrations", backoff=QUICK) == "migrated"
    assert len(attempts) == 4

    def broken() -> None:
        attempts.append(1)
        raise psycopg.errors.UndefinedTable()

    attempts.clear()
    with pytest.raises(psycopg.errors.UndefinedTable):
        retry.call(broken, service="test", operation="migrations", backoff=QUICK)
    assert len(attempts) == 1

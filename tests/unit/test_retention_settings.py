"""Retention settings keep the delivery guarantees: an inbox forgets nothing a topic may deliver again."""

from __future__ import annotations

import pytest
from forbear_shared import topics
from forbear_shared.settings import Settings
from pydantic import ValidationError

HOUR = 3600 * 1000
DAY = 24 * HOUR


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORBEAR_DATABASE_URL", "postgresql://svc:s3cret-pw@db/forbear")
    monkeypatch.setenv("FORBEAR_KAFKA_BOOTSTRAP", "kafka:9092")
    for name in ("INBOX_RETENTION_HOURS", "OUTBOX_RETENTION_HOURS", "IDEMPOTENCY_KEY_HOURS"):
        monkeypatch.delenv(f"FORBEAR_{name}", raising=False)


def test_dead_letters_are_kept_two_weeks_and_events_one() -> None:
    assert topics.dead_letter("intake").retention_ms == 14 * DAY
    assert topics.INTAKE_EVENTS.retention_ms == 7 * DAY
    assert all(t.configs()["message.timestamp.type"] == "LogAppendTime" for t in topics.CATALOGUE)


def test_a_record_may_outlive_its_retention_by_a_segment_and_a_check() -> None:
    # a dead letter: 14 days of retention, a segment of up to 1 day, a check every 5 minutes
    assert topics.dead_letter("monitoring").longest_record_life_ms == 14 * DAY + DAY + 5 * 60 * 1000
    assert topics.longest_redelivery_ms() == 15 * DAY + 5 * 60 * 1000


def test_an_inbox_retention_shorter_than_the_longest_redelivery_plus_a_day_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 15 days 5 minutes round up to 361 hours; plus the 24-hour margin: 385 hours
    monkeypatch.setenv("FORBEAR_INBOX_RETENTION_HOURS", "384")
    with pytest.raises(ValidationError, match="FORBEAR_INBOX_RETENTION_HOURS=384 .* at least 385 hours"):
        Settings()
    monkeypatch.setenv("FORBEAR_INBOX_RETENTION_HOURS", "385")
    assert Settings().inbox_retention_hours == 385


def test_a_longer_topic_retention_raises_the_inbox_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(topics, "CATALOGUE", (*topics.CATALOGUE, topics.Topic("x.dlq", 1, "x", retention_ms=30 * DAY)))
    # 30 days + 1 day + 5 minutes -> 745 hours, plus 24
    assert Settings.minimum_inbox_retention_hours() == 769
    with pytest.raises(ValidationError, match="at least 769 hours"):
        Settings()  # the default 720 hours no longer covers it


def test_an_idempotency_key_is_kept_at_least_the_24_hours_the_api_promises(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().idempotency_key_hours == 24
    monkeypatch.setenv("FORBEAR_IDEMPOTENCY_KEY_HOURS", "23")
    with pytest.raises(ValidationError, match="idempotency_key_hours"):
        Settings()

"""The topic catalogue: every topic the system produces or consumes, with its partitions.

Topics are created explicitly (the broker refuses auto-creation). Case events are keyed by
case id, so the partition count bounds how far a consumer group scales out. A deployment can
prefix every name (``FORBEAR_TOPIC_PREFIX``), which is how test runs share one broker
without seeing each other's events.

Every topic is created with its retention stated (``retention.ms``, ``segment.ms``) and with
broker time as each record's timestamp (``message.timestamp.type=LogAppendTime``): how long
the broker may still hand a record out then depends on these numbers alone, never on a
producer's clock, and the inboxes are kept longer than that (``Settings``; README, "What grows
and how it is bounded").
"""

from __future__ import annotations

from dataclasses import dataclass

HOUR_MS = 3600 * 1000
DAY_MS = 24 * HOUR_MS

#: events stay on their topic a week: a consumer down for days catches up from the topic, and
#: Postgres, not Kafka, is the system of record
EVENTS_RETENTION_MS = 7 * DAY_MS
#: dead letters stay two weeks: time for an operator to find the cause, fix it and redrive
DEAD_LETTER_RETENTION_MS = 14 * DAY_MS
#: a segment rolls at least daily, so retention deletes within a day of a record's expiry
SEGMENT_MS = DAY_MS
#: the broker's retention check interval (``log.retention.check.interval.ms``, 5 minutes by default)
RETENTION_CHECK_MS = 5 * 60 * 1000


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    purpose: str
    retention_ms: int = EVENTS_RETENTION_MS
    segment_ms: int = SEGMENT_MS

    def configs(self) -> dict[str, str]:
        """The topic-level configuration it is created with (and brought back to)."""
        return {
            "cleanup.policy": "delete",
            "retention.ms": str(self.retention_ms),
            "segment.ms": str(self.segment_ms),
            "message.timestamp.type": "LogAppendTime",
        }

    @property
    def longest_record_life_ms(self) -> int:
        """How long after it was appended the broker may still deliver a record.

        Retention deletes whole segments, once the newest record of a segment is older than
        ``retention.ms``; a segment spans at most ``segment.ms``; the check runs every few
        minutes. A record may so outlive ``retention.ms`` by up to a segment and a check.
        """
        return self.retention_ms + self.segment_ms + RETENTION_CHECK_MS


INTAKE_EVENTS = Topic("intake.events", 6, "cases, evidence, statements, contacts, submissions")
EVALUATION_EVENTS = Topic("evaluation.events", 6, "decisions, supervisor reviews")
AGREEMENT_EVENTS = Topic("agreement.events", 6, "offers, acceptances, signatures, activations")
MONITORING_EVENTS = Topic("monitoring.events", 6, "payments, missed instalments, escalation, business date")
CORE_LOANS = Topic("corebanking.loans", 6, "loan snapshots from core banking")
CORE_PAYMENTS = Topic("corebanking.payments", 6, "payments from core banking")
NOTIFICATIONS = Topic("notifications.requested", 3, "reminders, warnings, breach notices to send")
LEGAL_REFERRALS = Topic("legal.referrals", 3, "legal referrals with their dossier")
CREDIT_UPDATES = Topic("credit.updates", 3, "credit standing updates")

CONSUMERS = ("intake", "evaluation", "agreement", "monitoring")


def dead_letter(consumer: str) -> Topic:
    """Each consumer has its own dead-letter topic, so one poison stream never hides another."""
    return Topic(f"{consumer}.dlq", 1, f"events {consumer} could not validate or handle",
                 retention_ms=DEAD_LETTER_RETENTION_MS)


CATALOGUE: tuple[Topic, ...] = (
    INTAKE_EVENTS,
    EVALUATION_EVENTS,
    AGREEMENT_EVENTS,
    MONITORING_EVENTS,
    CORE_LOANS,
    CORE_PAYMENTS,
    NOTIFICATIONS,
    LEGAL_REFERRALS,
    CREDIT_UPDATES,
    *(dead_letter(c) for c in CONSUMERS),
)


def longest_redelivery_ms(topics: tuple[Topic, ...] | None = None) -> int:
    """The longest a consumer may be handed an event again after first reading it: a group that
    lost its offsets (``offsets.retention.minutes``) re-reads its topics from the earliest record
    still there, and a dead letter may be redriven as long as it is kept."""
    return max(t.longest_record_life_ms for t in (CATALOGUE if topics is None else topics))


def full_name(topic: Topic | str, prefix: str = "") -> str:
    name = topic.name if isinstance(topic, Topic) else topic
    return f"{prefix}{name}"

"""The topic catalogue: every topic the system produces or consumes, with its partitions.

Topics are created explicitly (the broker refuses auto-creation). Case events are keyed by
case id, so the partition count bounds how far a consumer group scales out. A deployment can
prefix every name (``FORBEAR_TOPIC_PREFIX``), which is how test runs share one broker
without seeing each other's events.

The topics our workers consume have ``CASE_PARTITIONS`` partitions. The workers' assignor
(range, per topic) gives each member an equal share only when the member count divides the
partition count, and the first members of a group get the remainder of every topic at once:
with 6 partitions, 4 or 5 members run no faster than 3 (the busiest holds a third of each
topic) and a 7th is idle; 12 divides evenly among 1, 2, 3, 4, 6 and 12 members and gives work
to up to 12. The count is chosen with room to grow because adding partitions later moves keys
to other partitions, which breaks a case's order while the old partitions drain; creating 12
instead of 6 cost nothing measurable on the broker (six topics in 0.25-0.32 s against
0.31-0.45 s). Creation is idempotent and never changes an existing topic's partition count.

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


#: partitions of every topic a Forbear worker consumes: the most members a group can keep busy
CASE_PARTITIONS = 12

INTAKE_EVENTS = Topic("intake.events", CASE_PARTITIONS, "cases, evidence, statements, contacts, submissions")
EVALUATION_EVENTS = Topic("evaluation.events", CASE_PARTITIONS, "decisions, supervisor reviews")
AGREEMENT_EVENTS = Topic("agreement.events", CASE_PARTITIONS, "offers, acceptances, signatures, activations")
MONITORING_EVENTS = Topic("monitoring.events", CASE_PARTITIONS,
                          "payments, missed instalments, escalation, business date")
CORE_LOANS = Topic("corebanking.loans", CASE_PARTITIONS, "loan snapshots from core banking")
CORE_PAYMENTS = Topic("corebanking.payments", CASE_PARTITIONS, "payments from core banking")
NOTIFICATIONS = Topic("notifications.requested", 3, "reminders, warnings, breach notices to send")
LEGAL_REFERRALS = Topic("legal.referrals", 3, "legal referrals with their dossier")
CREDIT_UPDATES = Topic("credit.updates", 3, "credit standing updates")

#: every consumer group; ``console`` is the console's worker, the operations read model
CONSUMERS = ("intake", "evaluation", "agreement", "monitoring", "console")


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

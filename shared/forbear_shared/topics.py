"""The topic catalogue: every topic the system produces or consumes, with its partitions.

Topics are created explicitly (the broker refuses auto-creation). Case events are keyed by
case id, so the partition count bounds how far a consumer group scales out. A deployment can
prefix every name (``FORBEAR_TOPIC_PREFIX``), which is how test runs share one broker
without seeing each other's events.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    purpose: str


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
    return Topic(f"{consumer}.dlq", 1, f"events {consumer} could not validate or handle")


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


def full_name(topic: Topic | str, prefix: str = "") -> str:
    name = topic.name if isinstance(topic, Topic) else topic
    return f"{prefix}{name}"

"""The operations read model: the console's own projection of every topic (README, "Read model")."""

from __future__ import annotations

from pathlib import Path

from forbear_shared.topics import (
    AGREEMENT_EVENTS,
    CREDIT_UPDATES,
    EVALUATION_EVENTS,
    INTAKE_EVENTS,
    LEGAL_REFERRALS,
    MONITORING_EVENTS,
    NOTIFICATIONS,
)

SERVICE = "console"
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
#: every topic that tells of a case (core banking's are keyed by loan: monitoring's
#: ``payment.applied`` says what a payment did to an agreement)
TOPICS = [INTAKE_EVENTS.name, EVALUATION_EVENTS.name, AGREEMENT_EVENTS.name, MONITORING_EVENTS.name,
          NOTIFICATIONS.name, LEGAL_REFERRALS.name, CREDIT_UPDATES.name]
#: the read model's tables, emptied by a rebuild (rm_progress is reset)
TABLES = ("rm_case", "rm_timeline", "rm_offer", "rm_agreement", "rm_instalment", "rm_allocation", "rm_payment",
          "rm_notice", "rm_month_end_dpd", "rm_document", "rm_required_document", "rm_near_breach",
          "rm_promise", "rm_appeal")

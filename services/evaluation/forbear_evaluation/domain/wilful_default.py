"""Wilful default is not hardship: the indicators the lender must evaluate and explain.

Negotiation is for borrowers who cannot pay, not for those who will not.  Each
indicator carries a machine-readable reason code and a sentence a credit
officer can read to the borrower.  What the lender does with an indicator
(decline, or route to a supervisor) is policy, decided in ``evaluate``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from forbear_shared import phrasing
from forbear_shared.domain.calendar import add_months
from forbear_shared.domain.money import Money


class WilfulDefaultCode(StrEnum):
    CAPACITY_TO_PAY = "capacity_to_pay"
    REPEATED_NO_CONTACT_DELINQUENCY = "repeated_no_contact_delinquency"
    EVIDENCE_FALSE = "evidence_false"
    DECLARATION_UNTRUE = "declaration_untrue"
    RECENT_AGREEMENT_BROKEN = "recent_agreement_broken"


@dataclass(frozen=True)
class WilfulDefaultIndicator:
    code: WilfulDefaultCode
    explanation: str
    #: the explanation's facts, for the catalogues' ``reason_detail.<code>`` (forbear_shared.phrasing)
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DelinquencyEpisode:
    """An earlier time the borrower was overdue, and whether they ever got in touch."""

    started_on: date
    borrower_made_contact: bool


@dataclass(frozen=True)
class WilfulDefaultRules:
    """Policy numbers for the indicators."""

    no_contact_episodes_threshold: int  # e.g. 2 earlier silent episodes ...
    no_contact_window_months: int  # ... within 24 months
    broken_agreement_window_months: int  # a negotiated agreement broken within 12 months


@dataclass(frozen=True)
class ConductRecord:
    """What the lender knows about the borrower's conduct, as of the evaluation."""

    earlier_delinquencies: tuple[DelinquencyEpisode, ...] = ()
    evidence_rejected_as_false: tuple[str, ...] = ()  # document kinds found false
    declaration_untrue: bool = False
    agreements_broken_on: tuple[date, ...] = ()


def capacity_to_pay(disposable_income: Money, original_instalment: Money) -> WilfulDefaultIndicator | None:
    """A borrower whose disposable income covers the contractual instalment can pay."""
    if disposable_income.amount >= original_instalment.amount:
        return WilfulDefaultIndicator(
            WilfulDefaultCode.CAPACITY_TO_PAY,
            f"disposable income {disposable_income} covers the original instalment {original_instalment}",
            {"disposable": phrasing.money(disposable_income.amount, disposable_income.currency),
             "instalment": phrasing.money(original_instalment.amount, original_instalment.currency)},
        )
    return None


def repeated_no_contact_delinquency(
    episodes: tuple[DelinquencyEpisode, ...], as_of: date, rules: WilfulDefaultRules
) -> WilfulDefaultIndicator | None:
    window_start = add_months(as_of, -rules.no_contact_window_months)
    silent = [e for e in episodes if window_start <= e.started_on < as_of and not e.borrower_made_contact]
    if len(silent) >= rules.no_contact_episodes_threshold:
        return WilfulDefaultIndicator(
            WilfulDefaultCode.REPEATED_NO_CONTACT_DELINQUENCY,
            f"{len(silent)} earlier overdue episodes since {window_start.isoformat()} without any contact "
            f"(threshold {rules.no_contact_episodes_threshold} in {rules.no_contact_window_months} months)",
            {"episodes": len(silent), "since": phrasing.date(window_start),
             "threshold": rules.no_contact_episodes_threshold, "months": rules.no_contact_window_months},
        )
    return None


def evidence_false(rejected_as_false: tuple[str, ...]) -> WilfulDefaultIndicator | None:
    if rejected_as_false:
        return WilfulDefaultIndicator(
            WilfulDefaultCode.EVIDENCE_FALSE,
            "evidence rejected as false: " + ", ".join(sorted(rejected_as_false)),
            {"documents": phrasing.codes("document", sorted(rejected_as_false))},
        )
    return None


def declaration_untrue(untrue: bool) -> WilfulDefaultIndicator | None:
    if untrue:
        return WilfulDefaultIndicator(
            WilfulDefaultCode.DECLARATION_UNTRUE, "the borrower's declaration was found untrue", {}
        )
    return None


def recent_agreement_broken(
    broken_on: tuple[date, ...], as_of: date, rules: WilfulDefaultRules
) -> WilfulDefaultIndicator | None:
    window_start = add_months(as_of, -rules.broken_agreement_window_months)
    recent = sorted(d for d in broken_on if window_start <= d <= as_of)
    if recent:
        return WilfulDefaultIndicator(
            WilfulDefaultCode.RECENT_AGREEMENT_BROKEN,
            f"a negotiated agreement was broken on {recent[-1].isoformat()}, "
            f"within {rules.broken_agreement_window_months} months",
            {"broken_on": phrasing.date(recent[-1]), "months": rules.broken_agreement_window_months},
        )
    return None


def wilful_default_indicators(
    conduct: ConductRecord,
    disposable_income: Money,
    original_instalment: Money,
    as_of: date,
    rules: WilfulDefaultRules,
) -> tuple[WilfulDefaultIndicator, ...]:
    """Every indicator that applies, in a fixed order (capacity first)."""
    found = (
        capacity_to_pay(disposable_income, original_instalment),
        repeated_no_contact_delinquency(conduct.earlier_delinquencies, as_of, rules),
        evidence_false(conduct.evidence_rejected_as_false),
        declaration_untrue(conduct.declaration_untrue),
        recent_agreement_broken(conduct.agreements_broken_on, as_of, rules),
    )
    return tuple(i for i in found if i is not None)

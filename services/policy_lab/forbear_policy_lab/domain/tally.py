"""Additive tallies of one policy on one replication, and the metrics read from them.

A tally holds counts and exact Decimal sums only, so tallies of chunks add up to the same numbers
whatever the chunking, the order or the engine (one process, a pool, a Dask cluster).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from forbear_evaluation.domain.evaluate import Outcome
from forbear_evaluation.domain.value_test import ValueTestAssumptions
from forbear_monitoring.domain.escalation import Stage

from .lifecycle import SHARE_PLACES, AgreementLife, Evaluated, discount, legal_value

_ZERO = Decimal(0)


@dataclass
class Tally:
    borrowers: int = 0
    approved: int = 0
    to_supervisor: int = 0
    declined: int = 0
    awaiting_evidence: int = 0
    decline_reasons: dict[str, int] = field(default_factory=dict)
    agreements: int = 0
    relief: Decimal = _ZERO
    """Sum of (original instalment - plan's monthly payment), money."""
    relief_share: Decimal = _ZERO
    """Sum of that relief as a share of the original instalment (six places)."""
    burden: Decimal = _ZERO
    """Sum of the plan's monthly payment as a share of disposable income (six places)."""
    delinquent: int = 0
    cured: int = 0
    breached: int = 0
    referred: int = 0
    completed: int = 0
    owed: Decimal = _ZERO
    """Everything owed at evaluation, over the whole portfolio."""
    paid: Decimal = _ZERO
    paid_pv: Decimal = _ZERO
    legal: Decimal = _ZERO
    legal_pv: Decimal = _ZERO

    def add(self, other: Tally) -> Tally:
        reasons = dict(self.decline_reasons)
        for code, count in other.decline_reasons.items():
            reasons[code] = reasons.get(code, 0) + count
        return Tally(**{name: getattr(self, name) + getattr(other, name)
                        for name in self.__dataclass_fields__ if name != "decline_reasons"},
                     decline_reasons=dict(sorted(reasons.items())))

    def count_decision(self, evaluated: Evaluated, legal: ValueTestAssumptions) -> None:
        """The decision's part: outcome, decline reason; a declined case's legal recovery."""
        self.borrowers += 1
        self.owed += evaluated.owed.amount
        if evaluated.outcome is Outcome.APPROVE:
            self.approved += 1
        elif evaluated.outcome is Outcome.NEEDS_SUPERVISOR:
            self.to_supervisor += 1
        elif evaluated.outcome is Outcome.NEED_MORE_EVIDENCE:
            self.awaiting_evidence += 1
        else:
            self.declined += 1
            reason = evaluated.decline_reason or "unstated"
            self.decline_reasons[reason] = self.decline_reasons.get(reason, 0) + 1
            nominal, value = legal_value(evaluated.owed, legal)
            self.legal += nominal.amount
            self.legal_pv += value.amount
        if evaluated.offer is not None:
            self.agreements += 1
            monthly = evaluated.offer.plan.monthly_equivalent_payment.amount
            original = evaluated.original_instalment.amount
            self.relief += original - monthly
            if original > 0:
                self.relief_share += ((original - monthly) / original).quantize(SHARE_PLACES)
            self.burden += (monthly / evaluated.disposable.amount).quantize(SHARE_PLACES)

    def count_life(self, life: AgreementLife, legal: ValueTestAssumptions, discount_rate: Decimal,
                   days_to_referral: int) -> None:
        self.delinquent += life.delinquent
        self.cured += life.cured
        self.breached += life.breached
        self.completed += life.final_stage is Stage.COMPLETED
        self.paid += life.paid.amount
        self.paid_pv += life.paid_pv.amount
        if life.referred_balance is not None:
            self.referred += 1
            nominal, at_referral = legal_value(life.referred_balance, legal)
            self.legal += nominal.amount
            self.legal_pv += discount(at_referral, days_to_referral, discount_rate).amount

    def metrics(self) -> dict[str, Decimal | None]:
        """The figures the report prints (shares as fractions, money in the policy currency)."""

        def ratio(a: Decimal | int, b: Decimal | int) -> Decimal | None:
            return Decimal(a) / Decimal(b) if b else None

        figures: dict[str, Decimal | None] = {
            "approval_rate": ratio(self.approved, self.borrowers),
            "supervisor_rate": ratio(self.to_supervisor, self.borrowers),
            "decline_rate": ratio(self.declined, self.borrowers),
            "agreement_rate": ratio(self.agreements, self.borrowers),
            "mean_relief": ratio(self.relief, self.agreements),
            "mean_relief_share": ratio(self.relief_share, self.agreements),
            "burden": ratio(self.burden, self.agreements),
            "delinquency_rate": ratio(self.delinquent, self.agreements),
            "cure_rate": ratio(self.cured, self.delinquent),
            "breach_rate": ratio(self.breached, self.agreements),
            "referral_rate": ratio(self.referred, self.agreements),
            "completion_rate": ratio(self.completed, self.agreements),
            "recovered": self.paid + self.legal,
            "recovered_npv": self.paid_pv + self.legal_pv,
            "recovered_share": ratio(self.paid + self.legal, self.owed),
        }
        for code, count in self.decline_reasons.items():
            figures[f"declined:{code}"] = ratio(count, self.borrowers)
        return figures

"""A borrower's counter-proposal re-enters evaluation with the proposal as a constraint.

The borrower answers an offer with the instalment they say they can pay and/or the term they
want. The lender re-runs its rules on the same case as of today's business date and then:

* if the case itself no longer qualifies (declined, evidence missing), the counter changes
  nothing: the fresh decision stands;
* otherwise it searches a plan that meets the proposal within the policy limits:

  - an instalment alone: the concession waterfall with the target
    ``min(proposed instalment, affordable instalment)`` — the lender never plans above what the
    statement shows affordable, and never gives more concessions than the proposal needs;
  - a term (with or without an instalment): a term extension (a consolidation for several
    loans) over exactly that term, penalties waived, at the contract rate, then lower by policy
    steps down to the floor, until the instalment fits the target; a term the policy forbids is
    refused with the policy field named;

  and the plan must pass the lender value test. A plan that meets the proposal becomes the only
  offer (rank 1). When none does, the counter is declined with the reason, and the fresh
  decision's own offers are offered again: the borrower keeps a way forward.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from forbear_shared import phrasing
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import Policy

from .evaluate import (
    Case,
    Decision,
    Offer,
    Outcome,
    _consolidation_waterfall,
    _value_test,
    evaluate,
    first_due_date_of_plan,
)
from .restructuring import (
    PolicyLimitExceeded,
    RestructuringError,
    RestructuringPlan,
    Waiver,
    allowed_rates,
    consolidation,
    max_penalty_waiver,
    term_extension,
)
from .waterfall import Concession, WaterfallResult, concession_waterfall

COUNTER_MET = "counter_proposal_met"
COUNTER_DECLINED = "counter_proposal_declined"


@dataclass(frozen=True)
class CounterProposal:
    proposed_instalment: Money | None = None
    proposed_term_months: int | None = None

    def __post_init__(self) -> None:
        if self.proposed_instalment is not None and not self.proposed_instalment.is_positive():
            raise ValueError("a proposed instalment must be positive")
        if self.proposed_term_months is not None and self.proposed_term_months < 1:
            raise ValueError("a proposed term is at least one month")

    def describe(self) -> str:
        parts = []
        if self.proposed_instalment is not None:
            parts.append(f"instalment at most {self.proposed_instalment}")
        if self.proposed_term_months is not None:
            parts.append(f"term {self.proposed_term_months} months")
        return " and ".join(parts) or "no terms"

    def phrased(self) -> dict[str, Any]:
        """``describe`` as the catalogues' arguments: the proposal's instalment and term, each an
        optional part."""
        instalment = self.proposed_instalment
        return {
            "instalment": phrasing.part(instalment is not None, "reason_part.proposed_instalment",
                                        amount=phrasing.money(instalment.amount, instalment.currency) if instalment else None),
            "term": phrasing.part(self.proposed_term_months is not None, "reason_part.proposed_term",
                                  months=self.proposed_term_months),
        }


@dataclass(frozen=True)
class CounterDecision:
    """The fresh decision (offers replaced by the counter plan when it is met) and the verdict."""

    decision: Decision
    met: bool
    code: str  # COUNTER_MET or COUNTER_DECLINED
    detail: str
    #: the detail as the catalogues say it: its key (``reason_detail.counter_proposal_*``) and arguments
    key: str = ""
    args: Mapping[str, Any] = field(default_factory=dict)


def _fixed_term_plan(
    case: Case, policy: Policy, term: int, target: Money, first_due: date
) -> tuple[RestructuringPlan | None, tuple[Concession, ...]]:
    """The least generous plan over exactly ``term`` months whose instalment fits ``target``."""
    rules = policy.restructuring
    currency = policy.currency
    build: Callable[[Decimal], RestructuringPlan]
    if len(case.loans) == 1:
        loan = case.loans[0]
        waiver = Waiver(max_penalty_waiver(loan, rules), Money.zero(currency))
        rates = allowed_rates(loan.annual_rate, rules)
        waived = waiver.penalty.is_positive()

        def build(rate: Decimal) -> RestructuringPlan:
            return term_extension(
                loan, rules, new_term_months=term, first_due_date=first_due, waiver=waiver, annual_rate=rate,
                schedules=policy.schedules,
            )
    else:
        waivers = tuple(Waiver(max_penalty_waiver(loan, rules), Money.zero(currency)) for loan in case.loans)
        rates = allowed_rates(max(loan.annual_rate for loan in case.loans), rules)
        waived = any(w.penalty.is_positive() for w in waivers)

        def build(rate: Decimal) -> RestructuringPlan:
            return consolidation(
                case.loans, rules, new_term_months=term, annual_rate=rate, first_due_date=first_due, waivers=waivers,
                schedules=policy.schedules,
            )

    first = (Concession.WAIVE_PENALTIES,) if waived else ()
    for index, rate in enumerate(rates):
        plan = build(rate)
        if plan.monthly_equivalent_payment <= target:
            steps = (Concession.CAPITALISE_ARREARS, Concession.EXTEND_TERM)
            return plan, first + steps + ((Concession.REDUCE_RATE,) if index else ())
    return None, ()


def evaluate_counter(case: Case, policy: Policy, as_of: date, proposal: CounterProposal) -> CounterDecision:
    """Re-evaluate ``case`` as of ``as_of`` with the borrower's ``proposal`` as a constraint."""
    fresh = evaluate(case, policy, as_of)
    if fresh.outcome not in (Outcome.APPROVE, Outcome.NEEDS_SUPERVISOR):
        return CounterDecision(
            fresh, False, COUNTER_DECLINED,
            f"proposal ({proposal.describe()}) not considered: the case is {fresh.outcome.value} on re-evaluation",
            f"reason_detail.{COUNTER_DECLINED}.not_considered",
            {**proposal.phrased(), "outcome": phrasing.code("outcome", fresh.outcome.value)},
        )

    def declined(why: str, because: str, **args: Any) -> CounterDecision:
        return CounterDecision(fresh, False, COUNTER_DECLINED, f"proposal ({proposal.describe()}) declined: {why}",
                               f"reason_detail.{COUNTER_DECLINED}.{because}", {**proposal.phrased(), **args})

    if proposal.proposed_instalment is None and proposal.proposed_term_months is None:
        return declined("it proposes neither an instalment nor a term", "empty")

    affordable = fresh.affordability.affordable_instalment
    target = affordable if proposal.proposed_instalment is None else proposal.proposed_instalment.min(affordable)
    first_due = first_due_date_of_plan(as_of)
    plan: RestructuringPlan | None
    concessions: tuple[Concession, ...]
    if proposal.proposed_term_months is not None:
        try:
            plan, concessions = _fixed_term_plan(case, policy, proposal.proposed_term_months, target, first_due)
        except PolicyLimitExceeded as exc:
            return declined(f"policy limit {exc.limit}: {exc.detail}", "policy_limit", limit=exc.limit)
        except RestructuringError as exc:
            return declined(str(exc), "not_possible", term=proposal.proposed_term_months)
        if plan is None:
            return declined(
                f"no plan over {proposal.proposed_term_months} months within the policy limits "
                f"brings the instalment to {target}", "no_plan_over_term",
                months=proposal.proposed_term_months, target=phrasing.money(target.amount, target.currency),
            )
    else:
        waterfall: WaterfallResult
        if len(case.loans) == 1:
            waterfall = concession_waterfall(case.loans[0], policy.restructuring, target, first_due, policy.schedules)
        else:
            waterfall = _consolidation_waterfall(case.loans, policy, target, first_due)
        plan, concessions = waterfall.plan, waterfall.concessions
        if plan is None:
            return declined(f"no plan within the policy limits brings the instalment to {target}", "no_plan",
                            target=phrasing.money(target.amount, target.currency))

    value = _value_test(plan, policy)
    if not value.passes:
        return declined(
            f"the plan meeting it fails the lender value test (plan NPV {value.plan_npv} "
            f"< legal recovery NPV {value.legal_npv})", "value_test",
            plan_npv=phrasing.money(value.plan_npv.amount, value.plan_npv.currency),
            legal_npv=phrasing.money(value.legal_npv.amount, value.legal_npv.currency),
        )
    offer = Offer(1, "counter_proposal", plan, value, concessions)
    ch = plan.changes
    return CounterDecision(
        replace(fresh, offers=(offer,)),
        True,
        COUNTER_MET,
        f"proposal ({proposal.describe()}) met: {plan.kind.value} {plan.payment_and_term()} "
        f"at {ch.new_annual_rate}; plan NPV {value.plan_npv} "
        f">= legal recovery NPV {value.legal_npv}",
        f"reason_detail.{COUNTER_MET}",
        {**proposal.phrased(), "option": phrasing.code("option", plan.kind.value),
         "instalment_offered": phrasing.money(ch.new_instalment.amount, ch.new_instalment.currency),
         "frequency": phrasing.code("frequency", plan.schedule.frequency.value),
         "instalments": len(plan.schedule.instalments), "rate": phrasing.share(ch.new_annual_rate),
         "plan_npv": phrasing.money(value.plan_npv.amount, value.plan_npv.currency),
         "legal_npv": phrasing.money(value.legal_npv.amount, value.legal_npv.currency)},
    )

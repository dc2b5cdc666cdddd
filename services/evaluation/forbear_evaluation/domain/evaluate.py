"""Evaluate a hardship case: the lender's decision, its reasons and the policy version.

The order of the checks is the order in which a credit officer would stop:

1. Wilful-default indicators listed in ``policy.evaluation.wilful_default.decline_indicators``
   (by default capacity to pay, false evidence, an untrue declaration) decline the case:
   negotiation is for borrowers who cannot pay, not for those who will not.
2. Incomplete evidence asks for the missing documents, or declines the case
   once the evidence deadline has passed.
3. The concession waterfall looks for the first affordable plan; other
   options (arrears instalments, payment deferral) are tried as alternatives.
4. Every plan must pass the lender value test; offers are ranked with the
   waterfall plan first, then the alternatives by expected value to the lender.
5. Remaining wilful-default indicators, or a consolidation above the policy
   threshold, route the case with its offers to a supervisor.

Early contact counts: the DPD at first contact gives the case's priority band
and, for the bands in ``interest_waiver_contact_bands``, the alternatives also
waive accrued interest up to the policy cap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from typing import Any

from forbear_shared import phrasing
from forbear_shared.domain.calendar import add_months
from forbear_shared.domain.hardship import (
    EvidenceCompleteness,
    EvidenceDocument,
    HardshipCategory,
    evidence_completeness,
)
from forbear_shared.domain.money import CENT, Money
from forbear_shared.domain.policy import Policy
from forbear_shared.domain.schedule import Frequency, annuity_payment
from forbear_shared.domain.working_days import roll_due_dates

from .affordability import Affordability, AffordabilityRules, IncomeExpenditureStatement, assess_affordability
from .restructuring import (
    LoanPosition,
    PolicyLimitExceeded,
    RestructuringError,
    RestructuringPlan,
    Waiver,
    allowed_rates,
    arrears_instalments,
    check_reageing_allowed,
    consolidation,
    max_interest_waiver,
    max_penalty_waiver,
    payment_deferral,
    plan_frequency,
    reageing,
    reamortisation,
)
from .value_test import PlanCashFlow, ValueTestResult, assumptions_from_policy, lender_value_test
from .waterfall import (
    Concession,
    ConcessionGrid,
    WaterfallResult,
    annuity_lower_bound,
    concession_waterfall,
    level_plan_payments,
    run_waterfall,
)
from .wilful_default import (
    ConductRecord,
    WilfulDefaultIndicator,
    WilfulDefaultRules,
    wilful_default_indicators,
)

FALSE_EVIDENCE_REASON = "false"
"""The rejection reason a reviewer records for a document found to be false."""


class Outcome(StrEnum):
    APPROVE = "approve"
    NEEDS_SUPERVISOR = "needs_supervisor"
    NEED_MORE_EVIDENCE = "need_more_evidence"
    DECLINE = "decline"


class ReasonCode(StrEnum):
    # wilful default (same codes as wilful_default.WilfulDefaultCode)
    CAPACITY_TO_PAY = "capacity_to_pay"
    REPEATED_NO_CONTACT_DELINQUENCY = "repeated_no_contact_delinquency"
    EVIDENCE_FALSE = "evidence_false"
    DECLARATION_UNTRUE = "declaration_untrue"
    RECENT_AGREEMENT_BROKEN = "recent_agreement_broken"
    # evidence
    STATEMENT_MISSING = "statement_missing"
    EVIDENCE_INCOMPLETE = "evidence_incomplete"
    EVIDENCE_DEADLINE_EXPIRED = "evidence_deadline_expired"
    # plans
    AFFORDABLE_PLAN_FOUND = "affordable_plan_found"
    NO_AFFORDABLE_PLAN = "no_affordable_plan"
    VALUE_TEST_PASSED = "value_test_passed"
    VALUE_TEST_FAILED = "value_test_failed"
    CONSOLIDATION_ABOVE_THRESHOLD = "consolidation_above_threshold"
    # context
    CONTACT_BAND = "contact_band"


@dataclass(frozen=True)
class Reason:
    code: ReasonCode
    detail: str
    #: the detail's facts, typed (forbear_shared.phrasing), for the catalogues' sentence
    #: ``reason_detail.<code>``: the pages say the reason in the reader's language
    args: Mapping[str, Any] = field(default_factory=dict)
    #: the catalogue key when it is not ``reason_detail.<code>`` (a code said in several ways)
    key: str | None = None

    @property
    def phrase_key(self) -> str:
        return self.key or f"reason_detail.{self.code.value}"


@dataclass(frozen=True)
class Case:
    """Everything the evaluation needs about one negotiation case."""

    case_id: str
    borrower_id: str
    hardship: HardshipCategory
    evidence: tuple[EvidenceDocument, ...]
    statement: IncomeExpenditureStatement
    loans: tuple[LoanPosition, ...]
    dpd_at_first_contact: int
    conduct: ConductRecord = ConductRecord()
    evidence_deadline: date | None = None

    def __post_init__(self) -> None:
        if not self.loans:
            raise ValueError("a case concerns at least one loan")
        if any(loan.borrower_id != self.borrower_id for loan in self.loans):
            raise ValueError("every loan of a case belongs to the case's borrower")
        if self.dpd_at_first_contact < 0:
            raise ValueError("DPD at first contact cannot be negative")


@dataclass(frozen=True)
class Offer:
    rank: int  # 1 is the lender's recommendation
    source: str  # "waterfall" or "alternative"
    plan: RestructuringPlan
    value_test: ValueTestResult
    concessions: tuple[Concession, ...]


@dataclass(frozen=True)
class Decision:
    case_id: str
    outcome: Outcome
    reasons: tuple[Reason, ...]
    offers: tuple[Offer, ...]
    policy_version: str
    as_of: date
    priority: str  # the early-contact band of DPD at first contact
    evidence: EvidenceCompleteness
    affordability: Affordability
    indicators: tuple[WilfulDefaultIndicator, ...]
    waterfall: WaterfallResult | None

    @property
    def reason_codes(self) -> tuple[ReasonCode, ...]:
        return tuple(r.code for r in self.reasons)


def deadline_as_seen(deadline: date | None, intake_says_passed: bool, as_of: date) -> date | None:
    """The evidence deadline as the rules apply it on ``as_of``.

    Intake owns the deadline and says when it has passed; its word is final even if our
    projection of the business date lags a day behind, so a passed deadline is taken as the day
    before ``as_of`` at the latest.
    """
    if intake_says_passed:
        yesterday = as_of - timedelta(days=1)
        return yesterday if deadline is None or deadline >= as_of else deadline
    return deadline


def first_due_date_of_plan(as_of: date) -> date:
    """A new plan's first instalment falls due one month after the business date."""
    return add_months(as_of, 1)


def _value_test(plan: RestructuringPlan, policy: Policy) -> ValueTestResult:
    assumptions = assumptions_from_policy(policy.evaluation.lender_value, plan.currency)
    flows = tuple(
        PlanCashFlow(payment, balance)
        for payment, balance in zip(plan.monthly_payments(), plan.balances_before(), strict=True)
    )
    return lender_value_test(flows, plan.owed_before, assumptions, plan.schedule.frequency)


def _consolidation_waterfall(
    loans: tuple[LoanPosition, ...], policy: Policy, affordable: Money, first_due: date
) -> WaterfallResult:
    """The waterfall for several loans of one borrower merged into one (债务重组).

    Same order; the merged loan starts afresh, so its whole term is within the
    policy cap, and it starts at the highest contract rate of the merged loans.
    The consolidation option has no principal deferral.
    """
    rules = policy.restructuring
    waivers = tuple(Waiver(max_penalty_waiver(loan, rules), Money.zero(loan.currency)) for loan in loans)
    base = max(1, max(loan.remaining_term_months for loan in loans))
    highest = max(loan.annual_rate for loan in loans)
    frequency = plan_frequency(loans, policy.schedules)
    grid = ConcessionGrid(
        base_term=min(base, rules.max_total_term_months),
        max_term=rules.max_total_term_months,
        rates=allowed_rates(highest, rules),
        max_deferred_principal=Money.zero(loans[0].currency),
        frequency=frequency,
    )

    def build(term: int, rate: Decimal, deferred: Money) -> RestructuringPlan:
        return consolidation(
            loans, rules, new_term_months=term, annual_rate=rate, first_due_date=first_due, waivers=waivers,
            schedules=policy.schedules,
        )

    first = (Concession.WAIVE_PENALTIES,) if any(w.penalty.is_positive() for w in waivers) else ()

    def merged_principal() -> Money:  # as ``consolidation`` computes it: balances and arrears after the waivers
        return Money.total((loan.total_owed - w.total for loan, w in zip(loans, waivers, strict=True)), loans[0].currency)

    return run_waterfall(
        build, grid, affordable, first_concessions=first, lower_bound=annuity_lower_bound(merged_principal, frequency),
        payment=level_plan_payments(merged_principal, first_due, frequency),
    )


def _product_alternatives(
    loan: LoanPosition, policy: Policy, affordable: Affordability, first_due: date, as_of: date, waiver: Waiver
) -> list[RestructuringPlan]:
    """Re-amortisation when it fits and the policy allows it; otherwise the shortest re-aged plan
    that fits (the fewest new instalments, up to ``reageing.max_instalments``).

    Re-amortisation comes first because it changes least: same term, same due dates, no
    arrears capitalised. Re-ageing resets DPD to 0 and is limited in how often it may be used,
    so it is offered only when re-amortising does not fit.
    """
    found: list[RestructuringPlan] = []
    rules = policy.restructuring
    if policy.reamortisation.allowed and loan.overdue_principal.is_positive():
        try:
            plan = reamortisation(loan, policy.reamortisation, policy.schedules, rules,
                                  first_due_date=first_due, as_of=as_of, waiver=waiver)
        except (PolicyLimitExceeded, RestructuringError):
            pass
        else:
            if affordable.can_afford(plan.monthly_equivalent_payment):
                return [plan]
    if not policy.reageing.allowed:
        return found
    try:
        check_reageing_allowed(loan, policy.reageing, as_of)
    except PolicyLimitExceeded:
        return found
    balance = (loan.total_owed - waiver.total).amount
    limit = affordable.affordable_instalment.amount
    for count in range(1, policy.reageing.max_instalments + 1):
        if balance / count > limit:  # the principal parts alone are above the budget
            continue
        try:
            plan = reageing(loan, policy.reageing, policy.schedules, rules, instalments=count, as_of=as_of,
                            waiver=waiver)
        except (PolicyLimitExceeded, RestructuringError):
            break
        if affordable.can_afford(plan.monthly_equivalent_payment):
            found.append(plan)
            break
    return found


def _alternatives(
    loan: LoanPosition, policy: Policy, affordable: Affordability, first_due: date, generous_waiver: bool,
    as_of: date | None = None,
) -> tuple[RestructuringPlan, ...]:
    """Other options the borrower can afford within the limits (single loan only).

    * arrears instalments: the fewest parts (≤ the policy maximum) that fit;
    * payment deferral: the shortest pause whose resumed payments fit;
    * re-amortisation, or else re-ageing, where the policy allows them (``_product_alternatives``).
    """
    rules = policy.restructuring
    penalty = max_penalty_waiver(loan, rules)
    interest = max_interest_waiver(loan, rules) if generous_waiver else Money.zero(loan.currency)
    waiver = Waiver(penalty, interest)  # penalty to its cap first, so interest may follow
    # Plans that cannot be affordable are not built (the first of each kind always is, so that
    # inputs no plan can be built from fail as before): the result is the same, only cheaper.
    limit = affordable.affordable_instalment.amount
    found: list[RestructuringPlan] = []
    first_regular: Decimal | None = None  # the regular schedule's first payment: the same whatever the parts
    frequency = policy.schedules.frequency_for(loan.frequency)
    regular_instalments = frequency.periods_in_months(loan.remaining_term_months)
    for parts in range(1, min(rules.max_arrears_instalments, regular_instalments) + 1):
        if first_regular is not None:
            # The first month pays the regular instalment and the first arrears part, which is
            # the arrears split evenly and truncated to the cent (the last part takes the residue).
            arrears = (loan.arrears - waiver.total).amount
            if first_regular + (arrears / parts).quantize(CENT, rounding=ROUND_DOWN) > limit:
                continue
        try:
            plan = arrears_instalments(loan, rules, parts=parts, first_due_date=first_due, waiver=waiver,
                                       schedules=policy.schedules)
        except (PolicyLimitExceeded, RestructuringError):
            break
        if affordable.can_afford(plan.monthly_equivalent_payment):
            found.append(plan)
            break
        if frequency is Frequency.MONTHLY:  # the shortcut compares a month's payment with the budget
            first_regular = plan.schedule.instalments[0].total.amount
    deferral_bound: Money | None = None  # the same for every length of deferral
    for months in range(1, rules.max_deferral_months + 1):
        if deferral_bound is not None and deferral_bound > affordable.affordable_instalment:  # monthly plans only
            # None could be affordable: later lengths either break a limit or are not built.
            break
        try:
            plan = payment_deferral(loan, rules, months=months, first_due_date=first_due, waiver=waiver,
                                    schedules=policy.schedules)
        except (PolicyLimitExceeded, RestructuringError):
            break
        if affordable.can_afford(plan.monthly_equivalent_payment):
            found.append(plan)
            break
        deferral_bound = _resumed_payment_bound(plan)
    if as_of is not None:
        found.extend(_product_alternatives(loan, policy, affordable, first_due, as_of, Waiver(penalty, Money.zero(loan.currency))))
    return tuple(found)


def _resumed_payment_bound(plan: RestructuringPlan) -> Money | None:
    """A lower bound of the peak payment of ANY deferral of the same loan (None when unknown).

    After a capitalising deferral the balance is at least the principal the plan started from,
    so the first resumed payment is at least ``min(annuity on that principal, principal)``
    (interest and the fee only add to it), as long as the annuity is a level payment: a
    positive rate and at least two repayments.
    """
    changes = plan.changes
    if plan.schedule.frequency is not Frequency.MONTHLY:
        return None  # ``annuity_payment`` is the monthly level payment
    repayments = plan.schedule.term - changes.deferral_months
    rate = changes.new_annual_rate
    principal = plan.schedule.principal
    if repayments < 2 or rate <= 0 or not principal.is_positive():
        return None
    return annuity_payment(principal, rate, repayments).min(principal)


def _on_working_days(offer: Offer, policy: Policy) -> Offer:
    """The offer's plan with its due dates on the lender's working days (``roll_due_dates``):
    where an offer's schedule is fixed, before it is published, so the borrower, the
    agreement and monitoring all see the same dates. Amounts are unchanged."""
    calendar, roll = policy.working_calendar, policy.calendar.due_date_roll
    plan = offer.plan
    arrears = plan.arrears_schedule
    rolled = replace(
        plan,
        schedule=roll_due_dates(plan.schedule, calendar, roll),
        arrears_schedule=roll_due_dates(arrears, calendar, roll) if arrears is not None else None,
    )
    return offer if rolled == plan else replace(offer, plan=rolled)


def evaluate(case: Case, policy: Policy, as_of: date) -> Decision:
    """Decide a case as of the lender's business date ``as_of``."""
    ev = policy.evaluation
    currency = policy.currency
    priority = ev.contact_band(case.dpd_at_first_contact)
    contact_reason = Reason(
        ReasonCode.CONTACT_BAND, f"first contact at DPD {case.dpd_at_first_contact}: priority band {priority}",
        {"dpd": case.dpd_at_first_contact, "band": phrasing.code("contact_band", priority)},
    )
    completeness = evidence_completeness(case.hardship, case.evidence)
    affordability = assess_affordability(
        case.statement,
        AffordabilityRules(ev.affordable_share_of_disposable_income, ev.dti_ceiling),
    )
    false_documents = tuple(
        d.document_type.value for d in completeness.rejected if d.rejection_reason == FALSE_EVIDENCE_REASON
    )
    conduct = ConductRecord(
        earlier_delinquencies=case.conduct.earlier_delinquencies,
        evidence_rejected_as_false=tuple(sorted(set(case.conduct.evidence_rejected_as_false + false_documents))),
        declaration_untrue=case.conduct.declaration_untrue,
        agreements_broken_on=case.conduct.agreements_broken_on,
    )
    wd = ev.wilful_default
    # a month's worth, as the income it is compared with (a weekly loan's instalment x 52 / 12)
    original_instalment = Money.total((loan.monthly_contractual_instalment for loan in case.loans), currency)
    indicators = wilful_default_indicators(
        conduct,
        affordability.disposable_income,
        original_instalment,
        as_of,
        WilfulDefaultRules(
            wd.no_contact_delinquencies_threshold, wd.no_contact_lookback_months, wd.broken_agreement_lookback_months
        ),
    )
    indicator_reasons = tuple(Reason(ReasonCode(i.code.value), i.explanation, i.args) for i in indicators)

    def decide(
        outcome: Outcome, reasons: tuple[Reason, ...], offers: tuple[Offer, ...] = (),
        waterfall: WaterfallResult | None = None,
    ) -> Decision:
        offers = tuple(_on_working_days(o, policy) for o in offers)
        return Decision(
            case.case_id, outcome, reasons + (contact_reason,), offers, policy.version, as_of, priority,
            completeness, affordability, indicators, waterfall,
        )

    if any(i.code.value in wd.decline_indicators for i in indicators):
        return decide(Outcome.DECLINE, indicator_reasons)

    if not completeness.is_complete:
        missing = ", ".join(t.value for t in completeness.missing)
        documents = phrasing.codes("document", (t.value for t in completeness.missing))
        if case.evidence_deadline is not None and as_of > case.evidence_deadline:
            return decide(
                Outcome.DECLINE,
                indicator_reasons + (Reason(
                    ReasonCode.EVIDENCE_DEADLINE_EXPIRED,
                    f"deadline {case.evidence_deadline.isoformat()} passed without: {missing}",
                    {"deadline": phrasing.date(case.evidence_deadline), "missing": documents},
                ),),
            )
        return decide(
            Outcome.NEED_MORE_EVIDENCE,
            indicator_reasons + (Reason(ReasonCode.EVIDENCE_INCOMPLETE, f"missing: {missing}", {"missing": documents}),),
        )

    first_due = first_due_date_of_plan(as_of)
    affordable = affordability.affordable_instalment
    if len(case.loans) == 1:
        loan = case.loans[0]
        waterfall = concession_waterfall(loan, policy.restructuring, affordable, first_due, policy.schedules)
        alternatives = _alternatives(
            loan, policy, affordability, first_due, generous_waiver=priority in ev.interest_waiver_contact_bands,
            as_of=as_of,
        )
    else:
        waterfall = _consolidation_waterfall(case.loans, policy, affordable, first_due)
        alternatives = ()

    reasons: list[Reason] = list(indicator_reasons)
    candidates: list[tuple[str, RestructuringPlan, tuple[Concession, ...]]] = []
    if waterfall.plan is not None:
        candidates.append(("waterfall", waterfall.plan, waterfall.concessions))
        plan = waterfall.plan
        reasons.append(Reason(
            ReasonCode.AFFORDABLE_PLAN_FOUND,
            f"{plan.kind.value}: {plan.payment_and_term()} at {plan.changes.new_annual_rate} "
            f"(affordable {affordable}; concessions: {', '.join(c.value for c in waterfall.concessions)})",
            {"option": phrasing.code("option", plan.kind.value),
             "instalment": phrasing.money(plan.changes.new_instalment.amount, currency),
             "frequency": phrasing.code("frequency", plan.schedule.frequency.value),
             "instalments": len(plan.schedule.instalments), "rate": phrasing.share(plan.changes.new_annual_rate),
             "affordable": phrasing.money(affordable.amount, currency),
             "concessions": phrasing.codes("concession", (c.value for c in waterfall.concessions))},
        ))
    else:
        generous = waterfall.most_generous
        reasons.append(Reason(
            ReasonCode.NO_AFFORDABLE_PLAN,
            f"no plan within the policy limits fits the affordable instalment {affordable}"
            + (f" (most generous: {generous.changes.new_instalment})" if generous is not None else ""),
            {"affordable": phrasing.money(affordable.amount, currency),
             "most_generous": phrasing.part(generous is not None, "reason_part.most_generous", instalment=phrasing.money(
                 generous.changes.new_instalment.amount, currency) if generous is not None else None)},
        ))
    candidates.extend(("alternative", plan, ()) for plan in alternatives)

    passing: list[tuple[str, RestructuringPlan, tuple[Concession, ...], ValueTestResult]] = []
    for source, plan, concessions in candidates:
        result = _value_test(plan, policy)
        code = ReasonCode.VALUE_TEST_PASSED if result.passes else ReasonCode.VALUE_TEST_FAILED
        reasons.append(Reason(
            code, f"{source} {plan.kind.value}: plan NPV {result.plan_npv} vs legal recovery NPV {result.legal_npv}",
            {"source": phrasing.code("plan_source", source), "option": phrasing.code("option", plan.kind.value),
             "plan_npv": phrasing.money(result.plan_npv.amount, currency),
             "legal_npv": phrasing.money(result.legal_npv.amount, currency)},
        ))
        if result.passes:
            passing.append((source, plan, concessions, result))

    waterfall_first = [p for p in passing if p[0] == "waterfall"]
    others = sorted((p for p in passing if p[0] != "waterfall"), key=lambda p: p[3].plan_npv, reverse=True)
    offers = tuple(
        Offer(rank, source, plan, result, concessions)
        for rank, (source, plan, concessions, result) in enumerate(waterfall_first + others, start=1)
    )
    if not offers:
        return decide(Outcome.DECLINE, tuple(reasons), waterfall=waterfall)

    for offer in offers:
        if offer.plan.needs_supervisor:
            reasons.append(Reason(
                ReasonCode.CONSOLIDATION_ABOVE_THRESHOLD, offer.plan.supervisor_reason or "",
                {"balance": phrasing.money(offer.plan.schedule.principal.amount, currency),
                 "threshold": phrasing.money(policy.restructuring.consolidation_supervisor_threshold, currency)},
            ))
    if indicator_reasons or any(o.plan.needs_supervisor for o in offers):
        return decide(Outcome.NEEDS_SUPERVISOR, tuple(reasons), offers, waterfall)
    return decide(Outcome.APPROVE, tuple(reasons), offers, waterfall)

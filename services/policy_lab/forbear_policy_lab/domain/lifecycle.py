"""One borrower's case under one policy: the services' own rules, in the order they apply.

1. ``forbear_evaluation.domain.evaluate.evaluate``: the decision, its reasons, its offers.
2. The borrower's choice: the offer with the lowest monthly payment (``RestructuringPlan.monthly_equivalent_payment``), the
   lender's rank breaking ties; a case routed to a supervisor is taken to be signed off with the
   same offers (the lab does not model the supervisor's judgement).
3. The agreement's schedule is the offer's ``plan.schedule`` as the agreement service activates
   it: an arrears-instalments plan's interest-free parts on top of its first instalments
   (``Schedule.with_parts``).
4. Month by month: on each due date, and on the day after a notice (reminder, warning, breach
   notice), the behaviour model (``behaviour``) says what is paid, and
   ``forbear_shared.domain.allocation.apply_payment`` allocates it; every close of business on
   which something can change, ``forbear_monitoring.domain.escalation.review`` moves the ladder
   (reminder, warning, breach notice, legal referral; cure; completion), exactly as the
   monitoring service's sweep does. Days on which the agreement is current and nothing unpaid is
   past its due date are skipped: the ladder cannot move on them.
   A balloon (principal the waterfall deferred to the last instalment) falls due like any
   instalment and is paid by the same rule: rarely, since it is many months of income, so such
   plans mostly end in referral unless the lender refinances it (the lab does not model that).
5. Money: what the borrower paid (``recovered``) and its present value on the evaluation date;
   a declined case, or a referred agreement, recovers ``legal_recovery_npv`` of what is owed
   (the value test's own formula) under the book's legal assumptions, the same for every policy.

Discounting: the value test's monthly rate ``d / 12``; a payment ``t`` days after the evaluation
date is worth ``amount / (1 + d / 12) ** (t * 12 / 365)``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from forbear_evaluation.domain.evaluate import Case, Decision, Offer, Outcome, ReasonCode, evaluate
from forbear_evaluation.domain.value_test import ValueTestAssumptions, legal_recovery_npv
from forbear_monitoring.domain.escalation import EscalationLadder, Stage, review
from forbear_shared.domain.allocation import Payment, apply_payment
from forbear_shared.domain.arrears import LoanLedger, arrears_as_of, oldest_unpaid_due_date
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import Policy

from .behaviour import BehaviourModel, Choice

TAIL_DAYS = 120
"""Closes of business run after the last due date, so arrears left then reach a cure or a
referral (a breach notice at DPD 15 and its 14-day remedy fit well inside)."""
SHARE_PLACES = Decimal("0.000001")
"""Shares (burden, relief) are summed to six places, so sums are exact in any order."""

NOTICES = frozenset({Stage.REMINDER, Stage.WARNING, Stage.BREACH_NOTICE})
"""Steps that send the borrower a letter; the day after one, the borrower may pay the arrears."""
_NOT_DECISIVE = frozenset({ReasonCode.CONTACT_BAND, ReasonCode.AFFORDABLE_PLAN_FOUND, ReasonCode.VALUE_TEST_PASSED})


@dataclass(frozen=True, slots=True)
class Evaluated:
    """What the evaluation decided for one borrower, reduced to what the lab needs."""

    borrower_id: str
    outcome: Outcome
    decline_reason: str | None
    """The first reason that decided a decline (not the contact band, not a plan found)."""
    owed: Money
    """Everything owed on the case's loans at evaluation (what legal action would claim)."""
    offer: Offer | None
    """The offer the borrower takes (None: no agreement)."""
    disposable: Money
    original_instalment: Money


@dataclass(frozen=True, slots=True)
class AgreementLife:
    """How one agreement ended, and what it paid."""

    final_stage: Stage
    delinquent: bool
    """It went past current at least once (a reminder was sent)."""
    cured: bool
    breached: bool
    """A breach notice was served."""
    referred_on: date | None
    referred_balance: Money | None
    paid: Money
    paid_pv: Money
    closed_on: date


def decisive_reason(decision: Decision) -> str | None:
    if decision.outcome is not Outcome.DECLINE:
        return None
    for reason in decision.reasons:
        if reason.code not in _NOT_DECISIVE:
            return reason.code.value
    return None


def chosen_offer(decision: Decision) -> Offer | None:
    """The borrower's pick: the lowest monthly payment, then the lender's rank."""
    if decision.outcome not in (Outcome.APPROVE, Outcome.NEEDS_SUPERVISOR) or not decision.offers:
        return None
    return min(decision.offers, key=lambda o: (o.plan.monthly_equivalent_payment, o.rank))


def evaluate_case(case: Case, policy: Policy, as_of: date) -> Evaluated:
    decision = evaluate(case, policy, as_of)
    owed = Money.total((loan.total_owed for loan in case.loans), policy.currency)
    instalment = Money.total((loan.contractual_instalment for loan in case.loans), policy.currency)
    return Evaluated(case.borrower_id, decision.outcome, decisive_reason(decision), owed, chosen_offer(decision),
                     decision.affordability.disposable_income, instalment)


def discount(amount: Money, days: int, annual_rate: Decimal) -> Money:
    """``amount`` paid ``days`` after the evaluation date, valued on the evaluation date."""
    if days <= 0 or annual_rate == 0:
        return amount
    return Money.of(amount.amount / _growth(days, annual_rate), amount.currency)


@lru_cache(maxsize=8192)
def _growth(days: int, annual_rate: Decimal) -> Decimal:
    """``(1 + d / 12) ** (days x 12 / 365)``, once per day count: a book's due dates repeat."""
    return (Decimal(1) + annual_rate / 12) ** (Decimal(days) * 12 / 365)


def legal_value(owed: Money, legal: ValueTestAssumptions) -> tuple[Money, Money]:
    """What legal action recovers of ``owed`` (nominal, and valued on the day of the referral)."""
    nominal = legal_recovery_npv(owed, replace(legal, annual_discount_rate=Decimal(0)))
    return nominal, legal_recovery_npv(owed, legal)


def live_agreement(evaluated: Evaluated, policy: Policy, as_of: date, behaviour: BehaviourModel,
                   rng: random.Random, discount_rate: Decimal) -> AgreementLife:
    """The agreement of ``evaluated.offer`` from activation on ``as_of`` to its end."""
    assert evaluated.offer is not None
    plan = evaluated.offer.plan
    schedule = plan.schedule if plan.arrears_schedule is None else plan.schedule.with_parts(plan.arrears_schedule)
    currency = schedule.currency
    ladder = EscalationLadder(policy)
    state = ladder.start(as_of)
    ledger = LoanLedger.open(schedule, policy)
    disposable = evaluated.disposable.amount
    due_on = {i.due_date: i for i in schedule.instalments}
    due_dates = sorted(due_on)
    paid = Money.zero(currency)
    paid_pv = Money.zero(currency)
    delinquent = cured = breached = False
    referred_on: date | None = None
    referred_balance: Money | None = None
    end = due_dates[-1] + timedelta(days=TAIL_DAYS)
    day = due_dates[0]
    next_due = 1  # index into due_dates of the first due date after ``day``
    references = 0
    prompted = False  # a notice was sent at the last close of business
    while day <= end:
        instalment = due_on.get(day)
        amount: Money | None = None
        if instalment is not None:
            owed_now = ledger.outstanding(instalment.number).total
            all_due = arrears_as_of(ledger, as_of=day, policy=policy).total + owed_now
            choice = behaviour.choose(rng.random(), all_due=all_due.amount, instalment=instalment.total.amount,
                                      disposable=disposable)
            amount = {Choice.ALL_DUE: all_due, Choice.INSTALMENT: instalment.total}.get(choice)
        elif prompted:
            all_due = arrears_as_of(ledger, as_of=day, policy=policy).total
            if all_due.is_positive() and behaviour.answers_notice(rng.random(), all_due=all_due.amount,
                                                                  disposable=disposable):
                amount = all_due
        prompted = False
        if amount is not None and amount.is_positive():
            references += 1
            ledger, statement = apply_payment(ledger, Payment(f"p{references}", day, amount), policy)
            taken = amount - statement.unapplied
            paid = paid + taken
            paid_pv = paid_pv + discount(taken, (day - as_of).days, discount_rate)
        quiet = state.stage is Stage.CURRENT and not ledger.is_fully_paid and \
            oldest_unpaid_due_date(ledger, as_of=day + timedelta(days=1)) is None
        if not quiet:
            outcome = review(ladder, state, ledger, as_of=day, policy=policy, escalate=True, referral_block=None,
                             blocked_since=None, broken_agreements=0)
            prompted = any(step.to_stage in NOTICES for step in outcome.steps)
            for step in outcome.steps:
                delinquent |= step.to_stage is Stage.REMINDER
                breached |= step.to_stage is Stage.BREACH_NOTICE
                cured |= step.to_stage is Stage.CURRENT
            state = outcome.state
            if outcome.referred:
                referred_on, referred_balance = day, outcome.outstanding
            if state.is_final:
                break
        while next_due < len(due_dates) and due_dates[next_due] <= day:
            next_due += 1
        if quiet and next_due < len(due_dates):
            day = due_dates[next_due]  # nothing can move before the next due date
        else:
            day += timedelta(days=1)
    return AgreementLife(state.stage, delinquent, cured, breached, referred_on, referred_balance,
                         paid, paid_pv, day)

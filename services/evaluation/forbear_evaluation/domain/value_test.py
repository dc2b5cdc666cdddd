"""Lender value test: is the modified loan worth more to the lender than going to court?

Modelled on the US HAMP net-present-value test: a modification is approved only
when the expected present value of the modified loan, allowing for the chance
that the borrower defaults again, is at least the expected present value of
recovering the debt through legal action.

The model, exactly (all rates are decimals, months are whole):

* Monthly discount factor ``v = 1 / (1 + d / 12)`` where ``d`` is the policy's
  annual discount rate (the lender's cost of funds).
* ``h`` is the monthly re-default probability: each month the borrower still
  performing stops paying with probability ``h``.  The policy gives the
  12-month probability ``p``; ``h = 1 - (1 - p) ** (1/12)``.  Survival to
  month ``t`` is ``S_t = (1 - h) ** t`` (``S_0 = 1``).
* The plan's scheduled payments are ``P_1 .. P_n`` (month 1 is the first due
  date); ``B_t`` is what the borrower owes just before payment ``t`` (for
  ``t = 1`` that is the whole restructured balance).
* A borrower who re-defaults in month ``t`` (probability ``S_{t-1} * h``) does
  not pay ``P_t``; the lender then recovers ``N(B_t)`` after ``L`` more months,
  where ``N(B) = max(0, B * rho - C)`` with recovery rate ``rho`` and legal
  costs ``C``.

    plan NPV  = sum_t S_t * P_t * v**t  +  sum_t S_{t-1} * h * N(B_t) * v**(t + L)
    legal NPV = N(B_0) * v**L        where B_0 is everything owed today

A plan of another frequency (weekly, fortnightly, every 15 days) is valued per period of its
own: with ``m`` periods a year (52, 26, 365/15; ``Frequency.periods_per_year``) the period's
discount factor is ``v_p = 1 / (1 + d / m)``, its re-default probability
``h_p = 1 - (1 - p) ** (1/m)`` (so ``1 - (1 - h_p)**m = p``), ``t`` counts the plan's periods,
and the ``L`` months to recover stay months:

    plan NPV  = sum_t S_t * P_t * v_p**t  +  sum_t S_{t-1} * h_p * N(B_t) * v_p**t * v**L

Monthly (``m = 12``) this is the formula above.

Both values are rounded to cents (ROUND_HALF_UP) and compared rounded: the
plan passes when ``plan NPV >= legal NPV``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import LenderValuePolicy
from forbear_shared.domain.schedule import Frequency

_ONE = Decimal(1)
_MONTHS_PER_YEAR = Decimal(12)


@dataclass(frozen=True)
class ValueTestAssumptions:
    """The policy's assumptions for the value test (see the module docstring)."""

    annual_discount_rate: Decimal
    monthly_redefault_probability: Decimal
    recovery_rate: Decimal
    legal_costs: Money
    months_to_recover: int

    def redefault_probability_per_period(self, frequency: Frequency) -> Decimal:
        """``h_p`` of a period of ``frequency``: the same survival over a year as the monthly
        ``h``, ``(1 - h_p)**m = (1 - h)**12 = 1 - p``, so ``h_p = 1 - (1 - h) ** (12/m)``."""
        if frequency is Frequency.MONTHLY:
            return self.monthly_redefault_probability
        exponent = _MONTHS_PER_YEAR / frequency.periods_per_year
        return _ONE - (_ONE - self.monthly_redefault_probability) ** exponent

    def discount_factor_per_period(self, frequency: Frequency) -> Decimal:
        """``v_p = 1 / (1 + d / m)`` for ``m`` periods of ``frequency`` a year (monthly: d / 12)."""
        return _ONE / (_ONE + self.annual_discount_rate / frequency.periods_per_year)


def monthly_hazard(twelve_month_probability: Decimal) -> Decimal:
    """The constant monthly re-default probability ``h`` with ``1 - (1 - h)**12 = p``.

    The policy states re-default as a 12-month probability (how lenders
    measure it); the model needs it per month.  For p = 0.3:
    h = 1 - 0.7 ** (1/12) = 0.0292855...
    """
    return _ONE - (_ONE - twelve_month_probability) ** (_ONE / _MONTHS_PER_YEAR)


def assumptions_from_policy(policy: LenderValuePolicy, currency: str) -> ValueTestAssumptions:
    return ValueTestAssumptions(
        annual_discount_rate=policy.annual_discount_rate,
        monthly_redefault_probability=monthly_hazard(policy.redefault_probability),
        recovery_rate=policy.recovery_rate,
        legal_costs=Money(policy.legal_costs, currency),
        months_to_recover=policy.months_to_recover,
    )


@dataclass(frozen=True)
class PlanCashFlow:
    """One scheduled payment of the plan and what is owed just before it."""

    payment: Money
    balance_before: Money


@dataclass(frozen=True)
class ValueTestResult:
    plan_npv: Money
    legal_npv: Money

    @property
    def passes(self) -> bool:
        return self.plan_npv >= self.legal_npv

    @property
    def margin(self) -> Money:
        """How much better (positive) or worse the plan is than legal recovery."""
        return self.plan_npv - self.legal_npv


def _net_legal_recovery(balance: Decimal, a: ValueTestAssumptions) -> Decimal:
    return max(Decimal(0), balance * a.recovery_rate - a.legal_costs.amount)


def _discount_factor(a: ValueTestAssumptions) -> Decimal:
    return a.discount_factor_per_period(Frequency.MONTHLY)


def legal_recovery_npv(owed_today: Money, a: ValueTestAssumptions) -> Money:
    """Expected present value of handing the whole debt to legal action today."""
    v = _discount_factor(a)
    return Money.of(_net_legal_recovery(owed_today.amount, a) * v**a.months_to_recover, owed_today.currency)


def plan_npv(
    cash_flows: Sequence[PlanCashFlow], a: ValueTestAssumptions, currency: str = "CNY",
    frequency: Frequency = Frequency.MONTHLY,
) -> Money:
    """Expected present value of the plan's payments (one a period of ``frequency``), allowing
    for re-default."""
    v = a.discount_factor_per_period(frequency)
    h = a.redefault_probability_per_period(frequency)
    recovery_delay = _discount_factor(a) ** a.months_to_recover  # v**L: L is in months
    survival_before = _ONE  # S_{t-1}
    total = Decimal(0)
    for t, flow in enumerate(cash_flows, start=1):
        survival = survival_before * (_ONE - h)
        total += survival * flow.payment.amount * v**t
        total += (
            survival_before
            * h
            * _net_legal_recovery(flow.balance_before.amount, a)
            * (v ** (t + a.months_to_recover) if frequency is Frequency.MONTHLY else v**t * recovery_delay)
        )
        survival_before = survival
    return Money.of(total, currency)


def lender_value_test(
    cash_flows: Sequence[PlanCashFlow], owed_today: Money, a: ValueTestAssumptions,
    frequency: Frequency = Frequency.MONTHLY,
) -> ValueTestResult:
    return ValueTestResult(
        plan_npv=plan_npv(cash_flows, a, owed_today.currency, frequency),
        legal_npv=legal_recovery_npv(owed_today, a),
    )

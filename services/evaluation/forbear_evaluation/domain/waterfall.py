"""The concession waterfall (cf. HAMP and the Fannie Mae / Freddie Mac Flex modification).

Concessions are applied in a fixed order, each only as far as needed, and the
waterfall STOPS at the first plan whose monthly payment the borrower can
afford (``RestructuringPlan.monthly_equivalent_payment <= affordable instalment``: the peak
payment itself for a monthly plan, x 52 / 12 for a weekly one):

1. waive penalty interest (up to ``penalty_waiver_max_share``);
2. capitalise the arrears over the remaining term at the contract rate;
3. extend the term one month at a time up to the cap
   (``max_total_term_months`` counted from the loan's start);
4. at the longest term, lower the rate by ``rate_step`` at a time down to ``rate_floor``;
5. only if ``principal_deferral_allowed``: at the longest term and the floor
   rate, set aside the smallest amount of principal (to the cent, at most
   ``principal_deferral_max_share``) as an interest-free balloon.

Within a step the search is linear and ascending (one month, one rate step,
one cent at a time), so the plan returned is the least generous affordable
one at that step. Terms are months; a plan at a frequency in days has
``Frequency.periods_in_months`` of its instalments in them (``restructuring``).

The order puts the cheapest concessions for the lender first: penalties are
the lender's charge for the delay, a longer term keeps every yuan of
interest, a lower rate gives up income, and deferred principal is at risk
until maturity.  If nothing within the limits is affordable, the result says
so and carries the most generous plan tried, for the record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from forbear_shared.domain.calendar import DayCount
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import RestructuringPolicy, SchedulePolicy
from forbear_shared.domain.schedule import Frequency, annuity_payment

from .restructuring import (
    MONTHLY_ONLY,
    LoanPosition,
    RestructuringPlan,
    Waiver,
    allowed_rates,
    level_plan_payment,
    max_penalty_waiver,
    term_extension,
)


class Concession(StrEnum):
    WAIVE_PENALTIES = "waive_penalties"
    CAPITALISE_ARREARS = "capitalise_arrears"
    EXTEND_TERM = "extend_term"
    REDUCE_RATE = "reduce_rate"
    DEFER_PRINCIPAL = "defer_principal"


PlanBuilder = Callable[[int, Decimal, Money], RestructuringPlan]
"""Builds the modified plan for (term in months, annual rate, deferred principal)."""

PaymentBound = Callable[[int, Decimal, Money], Money | None]
"""A cheap lower bound of the plan's ``peak_regular_payment`` for (term, rate, deferred), or None.

The waterfall skips building a plan whose bound is already above the affordable instalment:
such a plan cannot be affordable, so the result is the same as building it and looking.
"""


def level_plan_payments(
    principal_of: Callable[[], Money], first_due_date: date, frequency: Frequency = Frequency.MONTHLY
) -> PaymentBound:
    """The exact ``monthly_equivalent_payment`` of the plan ``term_extension`` (or, without a
    deferral, ``consolidation``) builds for (term, rate, deferred) on the principal ``principal_of``
    gives (asked once), from ``restructuring.level_plan_payment``: a bound that is the payment
    itself, so the waterfall builds the first plan, the one it keeps and no other."""
    principal: list[Money] = []

    def payment(term: int, rate: Decimal, deferred: Money) -> Money:
        if not principal:
            principal.append(principal_of())
        return level_plan_payment(principal[0], rate, new_term_months=term, first_due_date=first_due_date,
                                  deferred_principal=deferred, frequency=frequency)

    return payment


def annuity_lower_bound(
    principal_of: Callable[[], Money], frequency: Frequency = Frequency.MONTHLY
) -> PaymentBound:
    """The bound for a plan built by ``build_schedule(principal, rate, repayments=term,
    balloon=deferred, balloon_bears_interest=False)`` (no deferral, no interest-only periods).

    With two or more repayments and a positive rate, the first instalment is not the last and
    is ``min(annuity, interest-bearing balance + interest)`` when the annuity covers the
    interest, or the interest alone when it does not; either way it is at least
    ``min(annuity, bearing)``, where ``annuity`` is the rounded level payment on the bearing
    balance (``annuity_payment`` rounds the schedule builder's formula the same way).  The peak
    payment is at least the first.  A zero rate (equal principal parts, truncated) or a single
    repayment get no bound: those plans are built.  ``principal_of`` gives the plans' principal
    (asked once, after the first plan was built). Plans at another ``frequency`` than monthly
    get no bound either (``annuity_payment`` is the monthly level payment).
    """
    principal: list[Money] = []

    def bound(term: int, rate: Decimal, deferred: Money) -> Money | None:
        if term < 2 or rate <= 0 or frequency is not Frequency.MONTHLY:
            return None
        if not principal:
            principal.append(principal_of())
        bearing = principal[0] - deferred
        if not bearing.is_positive():
            return None
        return annuity_payment(bearing, rate, term).min(bearing)

    return bound


@dataclass(frozen=True)
class ConcessionGrid:
    """Every combination the waterfall may use, within the policy's limits."""

    base_term: int  # the remaining term: capitalising arrears does not extend it
    max_term: int  # the longest term the policy allows for this loan
    rates: tuple[Decimal, ...]  # contract rate first, then policy steps down to the floor
    max_deferred_principal: Money  # zero when the policy does not allow principal deferral
    frequency: Frequency = Frequency.MONTHLY  # the plans' (the terms stay months)

    @property
    def terms(self) -> tuple[int, ...]:
        return tuple(range(self.base_term, self.max_term + 1))


@dataclass(frozen=True)
class WaterfallResult:
    plan: RestructuringPlan | None  # the first affordable plan, or None
    concessions: tuple[Concession, ...]  # the steps that were needed, in order
    affordable_instalment: Money
    plans_tried: int
    most_generous: RestructuringPlan | None  # the last plan tried when none was affordable

    @property
    def found(self) -> bool:
        return self.plan is not None


def grid_for_loan(
    loan: LoanPosition, policy: RestructuringPolicy, principal: Money, frequency: Frequency = Frequency.MONTHLY
) -> ConcessionGrid:
    base = max(loan.remaining_term_months, 1)
    longest = max(base, policy.max_total_term_months - loan.months_elapsed)
    deferrable = Money.zero(loan.currency)
    if policy.principal_deferral_allowed:
        # An interest-free balloon must leave something to amortise.
        deferrable = principal.times(policy.principal_deferral_max_share).min(
            principal - Money.of("0.01", loan.currency)
        ).clamp_non_negative()
    return ConcessionGrid(base, longest, allowed_rates(loan.annual_rate, policy), deferrable, frequency)


def run_waterfall(
    build: PlanBuilder,
    grid: ConcessionGrid,
    affordable_instalment: Money,
    *,
    first_concessions: tuple[Concession, ...] = (),
    lower_bound: PaymentBound | None = None,
    payment: PaymentBound | None = None,
) -> WaterfallResult:
    """Walk the grid in waterfall order and stop at the first affordable plan.

    With ``lower_bound``, a plan that cannot be affordable is counted as tried but not built
    (the first one always is, so that inputs no plan can be built from fail as before); the
    last plan tried is built only if it is needed as the most generous one. ``payment`` is a
    plan's ``monthly_equivalent_payment`` itself, computed without building it: asked when the
    (cheaper) lower bound does not rule the plan out, so only an affordable plan is built.
    """
    zero = Money.zero(affordable_instalment.currency)
    tried = 0
    last: RestructuringPlan | None = None
    skipped: tuple[int, Decimal, Money] | None = None  # the last plan tried, when it was not built

    def attempt(term: int, rate: Decimal, deferred: Money) -> RestructuringPlan | None:
        nonlocal tried, last, skipped
        tried += 1
        if tried > 1:
            for known in (lower_bound, payment):
                bound = known(term, rate, deferred) if known is not None else None
                if bound is not None and bound > affordable_instalment:
                    skipped = (term, rate, deferred)
                    return None
        plan = build(term, rate, deferred)
        last, skipped = plan, None
        return plan if plan.monthly_equivalent_payment <= affordable_instalment else None

    def most_generous() -> RestructuringPlan | None:
        return build(*skipped) if skipped is not None else last

    def done(plan: RestructuringPlan, *steps: Concession) -> WaterfallResult:
        return WaterfallResult(plan, first_concessions + steps, affordable_instalment, tried, None)

    contract_rate = grid.rates[0]
    plan = attempt(grid.base_term, contract_rate, zero)
    if plan is not None:
        return done(plan, Concession.CAPITALISE_ARREARS)
    for term in grid.terms[1:]:
        plan = attempt(term, contract_rate, zero)
        if plan is not None:
            return done(plan, Concession.CAPITALISE_ARREARS, Concession.EXTEND_TERM)
    extended = (Concession.EXTEND_TERM,) if grid.max_term > grid.base_term else ()
    for rate in grid.rates[1:]:
        plan = attempt(grid.max_term, rate, zero)
        if plan is not None:
            return done(plan, Concession.CAPITALISE_ARREARS, *extended, Concession.REDUCE_RATE)
    reduced = (Concession.REDUCE_RATE,) if len(grid.rates) > 1 else ()
    if grid.max_deferred_principal.is_positive():
        floor = grid.rates[-1]
        most = attempt(grid.max_term, floor, grid.max_deferred_principal)
        if most is not None:
            # The smallest affordable deferral, to the cent.  The level payment
            # on P - D is (P - D) * a, so no D more than 2n cents below
            # P - A / a can be affordable; scan upwards from there.  (A bisection
            # would not do: the residue on the last instalment makes the peak
            # payment jump by a few cents between neighbouring amounts.)
            # A plan in days: n of its periods, its period rate, the budget per period.
            principal = most.schedule.principal.amount
            frequency = grid.frequency
            n = frequency.periods_in_months(grid.max_term)
            r = floor / 12 if frequency is Frequency.MONTHLY else frequency.regular_rate(floor, DayCount.THIRTY_360)
            budget = affordable_instalment.amount
            if frequency is not Frequency.MONTHLY:
                budget = budget * Decimal(12) / frequency.periods_per_year
            factor = Decimal(1) / n if r == 0 else r / (Decimal(1) - (Decimal(1) + r) ** -n)
            estimate = principal - budget / factor
            cent = max(1, int(estimate * 100) - 2 * n)
            cap = int(grid.max_deferred_principal.amount * 100)
            best = most
            while cent < cap:
                candidate = attempt(grid.max_term, floor, Money(Decimal(cent) / 100, zero.currency))
                if candidate is not None:
                    best = candidate
                    break
                cent += 1
            return done(best, Concession.CAPITALISE_ARREARS, *extended, *reduced, Concession.DEFER_PRINCIPAL)
    return WaterfallResult(None, (), affordable_instalment, tried, most_generous())


def concession_waterfall(
    loan: LoanPosition,
    policy: RestructuringPolicy,
    affordable_instalment: Money,
    first_due_date: date,
    schedules: SchedulePolicy = MONTHLY_ONLY,
) -> WaterfallResult:
    """The waterfall for one loan: waive penalties, then term, rate, principal deferral; the
    plans at the loan's frequency where ``schedules`` allows it."""
    penalty = max_penalty_waiver(loan, policy)
    waiver = Waiver(penalty, Money.zero(loan.currency))
    principal = loan.total_owed - waiver.total
    frequency = schedules.frequency_for(loan.frequency)
    grid = grid_for_loan(loan, policy, principal, frequency)

    def build(term: int, rate: Decimal, deferred: Money) -> RestructuringPlan:
        return term_extension(
            loan, policy, new_term_months=term, first_due_date=first_due_date,
            waiver=waiver, annual_rate=rate, deferred_principal=deferred, schedules=schedules,
        )

    first = (Concession.WAIVE_PENALTIES,) if penalty.is_positive() else ()
    return run_waterfall(
        build, grid, affordable_instalment, first_concessions=first,
        lower_bound=annuity_lower_bound(lambda: principal, frequency),
        payment=level_plan_payments(lambda: principal, first_due_date, frequency),
    )

"""Repayment options: each builds a NEW schedule and states exactly what changed.

The options are the product brief's table (展期, 减免利息, 分期偿还, 债务重组,
延期还款).  Every limit comes from ``Policy.restructuring``; an option that
would break one raises ``PolicyLimitExceeded`` naming the policy field, so a
credit officer can find the number in the policy file. Re-amortisation and
re-ageing (core-banking tools, cf. Apache Fineract) have their own sections,
``Policy.reamortisation`` and ``Policy.reageing``, and keep the loan's repayment
method and frequency where ``Policy.schedules`` allows them.

Schedules are built by the shared builders (``forbear_shared.domain.schedule``):
a restructured plan starts one month before its first due date and is priced
30/360 like the contract, so its numbers match what the agreement service signs.

Every option builds its plan at the loan's frequency where ``Policy.schedules`` allows it
(``SchedulePolicy.frequency_for``; monthly otherwise). Terms are stated in the policy's units:
the loan's remaining term, a new term, a deferral and the limits ``max_total_term_months`` and
``max_deferral_months`` are months; a plan in days has ``Frequency.periods_in_months`` of its
periods in them, ``floor(months x periods per year / 12)`` (a 12-month term of a fortnightly
loan is 26 fortnights, of a weekly one 52 weeks, of a 15-day one 24 periods), so no plan runs
longer than its months. Counts of instalments (``max_arrears_instalments``, the arrears parts)
are instalments of the plan. A plan in days falls due first one period after its start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cached_property

from forbear_shared.domain.apr import AnnualisedRate, annualised_rate_of_payments
from forbear_shared.domain.calendar import add_days, add_months
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import ReageingPolicy, ReamortisationPolicy, RestructuringPolicy, SchedulePolicy
from forbear_shared.domain.schedule import (
    DeferredInterest,
    Frequency,
    InstalmentKind,
    RepaymentMethod,
    Schedule,
    build_schedule,
    level_peak_payment,
)


class RestructuringError(ValueError):
    """An option that cannot be built from these inputs."""


class PolicyLimitExceeded(RestructuringError):
    """An option would break a policy limit; ``limit`` is the policy field's name."""

    def __init__(self, limit: str, detail: str) -> None:
        super().__init__(f"policy limit {limit}: {detail}")
        self.limit = limit
        self.detail = detail


class OptionKind(StrEnum):
    TERM_EXTENSION = "term_extension"  # 展期, also the waterfall's modification
    ARREARS_INSTALMENTS = "arrears_instalments"  # 分期偿还 (N = 1: waiver and settle)
    CONSOLIDATION = "consolidation"  # 债务重组
    PAYMENT_DEFERRAL = "payment_deferral"  # 延期还款
    REAMORTISATION = "reamortisation"  # overdue principal spread over the remaining instalments
    REAGEING = "reageing"  # the unpaid balance as N new instalments, DPD back to 0


@dataclass(frozen=True)
class LoanPosition:
    """One overdue loan as of the evaluation's business date."""

    loan_id: str
    borrower_id: str
    outstanding_principal: Money  # principal not yet due
    overdue_principal: Money
    overdue_interest: Money  # contractual interest accrued and unpaid
    penalty_interest: Money  # 罚息
    fees: Money
    annual_rate: Decimal
    original_term_months: int
    remaining_term_months: int  # months not yet due (a monthly loan's instalments); see the module docstring
    contractual_instalment: Money
    repayment_method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALMENT
    frequency: Frequency = Frequency.MONTHLY
    next_due_date: date | None = None  # the next instalment's due date under the contract
    reaged_on: tuple[date, ...] = ()  # business dates of earlier re-ageings of this loan
    consecutive_payments: int = 0  # full instalments paid in a row, most recent last

    def __post_init__(self) -> None:
        for name in ("outstanding_principal", "overdue_principal", "overdue_interest", "penalty_interest", "fees"):
            if getattr(self, name).is_negative():
                raise RestructuringError(f"loan {self.loan_id}: {name} must not be negative")
        if not 0 <= self.remaining_term_months <= self.original_term_months:
            raise RestructuringError(f"loan {self.loan_id}: remaining term must be within the original term")
        if self.consecutive_payments < 0:
            raise RestructuringError(f"loan {self.loan_id}: consecutive payments must not be negative")

    @property
    def currency(self) -> str:
        return self.outstanding_principal.currency

    @property
    def months_elapsed(self) -> int:
        return self.original_term_months - self.remaining_term_months

    @property
    def monthly_contractual_instalment(self) -> Money:
        """The contractual instalment as a monthly amount (weekly x 52 / 12, fortnightly x 26 / 12,
        every 15 days x (365/15) / 12), to compare with a monthly income."""
        if self.frequency is Frequency.MONTHLY:
            return self.contractual_instalment
        return self.contractual_instalment.times(self.frequency.periods_per_year / Decimal(12))

    @property
    def arrears(self) -> Money:
        return self.overdue_principal + self.overdue_interest + self.penalty_interest + self.fees

    @property
    def total_owed(self) -> Money:
        return self.outstanding_principal + self.arrears


@dataclass(frozen=True)
class Waiver:
    """Penalty interest and accrued interest forgiven (减免)."""

    penalty: Money
    interest: Money

    @property
    def total(self) -> Money:
        return self.penalty + self.interest

    @classmethod
    def none(cls, currency: str) -> Waiver:
        return cls(Money.zero(currency), Money.zero(currency))


def max_penalty_waiver(loan: LoanPosition, policy: RestructuringPolicy) -> Money:
    return loan.penalty_interest.times(policy.penalty_waiver_max_share)


def max_interest_waiver(loan: LoanPosition, policy: RestructuringPolicy) -> Money:
    return loan.overdue_interest.times(policy.interest_waiver_max_share)


def waive(
    loan: LoanPosition, amount: Money, policy: RestructuringPolicy, *, evidence_complete: bool
) -> Waiver:
    """Waive ``amount``: penalty interest first, then part of the accrued interest.

    Penalty goes first because it is the lender's charge for the delay
    itself; accrued interest is the price of the money and is forgiven only
    beyond that, within its cap, and only with complete evidence.
    """
    if amount.is_negative():
        raise RestructuringError("a waiver cannot be negative")
    penalty_cap = max_penalty_waiver(loan, policy)
    penalty = amount.min(penalty_cap)
    interest = amount - penalty
    if interest.is_positive():
        interest_cap = max_interest_waiver(loan, policy)
        if interest > interest_cap:
            raise PolicyLimitExceeded(
                "interest_waiver_max_share",
                f"waiving {amount} needs {interest} of accrued interest, above the cap {interest_cap} "
                f"({policy.interest_waiver_max_share} of {loan.overdue_interest}) after the penalty cap {penalty_cap}",
            )
        if policy.interest_waiver_requires_complete_evidence and not evidence_complete:
            raise PolicyLimitExceeded(
                "interest_waiver_requires_complete_evidence", "accrued interest is waived only with complete evidence"
            )
    return Waiver(penalty, interest)


@dataclass(frozen=True)
class ChangeStatement:
    """What the option changes, old against new, to the cent."""

    old_instalment: Money
    new_instalment: Money  # highest regular payment of a period of the new plan (balloon excluded)
    old_remaining_term_months: int
    new_term_months: int  # the plan's instalments: months for a monthly plan, else periods of its frequency
    old_annual_rate: Decimal
    new_annual_rate: Decimal
    capitalised_arrears: Money  # arrears (after waivers) added to the new principal
    waived_penalty: Money
    waived_interest: Money
    fees_charged: Money  # new fees the option charges (e.g. the deferral fee)
    deferred_principal: Money  # interest-free balloon set aside to the last instalment
    deferral_months: int  # months, as the policy states them (the schedule has their periods)
    arrears_instalments: int  # N parts of arrears paid on top of the regular instalment


@dataclass(frozen=True)
class RestructuringPlan:
    """A proposed plan: the new schedule(s) and the statement of changes."""

    kind: OptionKind
    loan_ids: tuple[str, ...]
    schedule: Schedule
    changes: ChangeStatement
    arrears_schedule: Schedule | None = None  # interest-free arrears parts, same due dates
    needs_supervisor: bool = False
    supervisor_reason: str | None = None
    owed_before: Money = field(default_factory=Money.zero)

    @property
    def currency(self) -> str:
        return self.schedule.currency

    def monthly_payments(self) -> tuple[Money, ...]:
        """What the borrower pays each period (a month, or the plan's frequency), arrears parts included."""
        payments = [i.total for i in self.schedule.instalments]
        if self.arrears_schedule is not None:
            for index, part in enumerate(self.arrears_schedule.instalments):
                payments[index] = payments[index] + part.total
        return tuple(payments)

    def balances_before(self) -> tuple[Money, ...]:
        """What the borrower owes just before each monthly payment (value test input)."""
        balances = []
        for index, instalment in enumerate(self.schedule.instalments):
            owed = instalment.opening_balance + instalment.capitalised_interest
            if self.arrears_schedule is not None and index < self.arrears_schedule.term:
                owed = owed + self.arrears_schedule.instalments[index].opening_balance
            balances.append(owed)
        return tuple(balances)

    def annualised_rate(self) -> AnnualisedRate:
        """The APR disclosed with the plan (``forbear_shared.domain.apr``): the balance the plan
        starts from (arrears parts included) against every payment the borrower makes."""
        amount = self.schedule.principal
        if self.arrears_schedule is not None:
            amount = amount + self.arrears_schedule.principal
        return annualised_rate_of_payments(
            amount, self.schedule.start_date, [i.due_date for i in self.schedule.instalments],
            self.monthly_payments(), self.schedule.frequency,
        )

    @property
    def monthly_equivalent_payment(self) -> Money:
        """The peak regular payment as a monthly amount, to compare with a monthly budget:
        a weekly payment x 52 / 12, a fortnightly one x 26 / 12, a 15-day one x (365/15) / 12."""
        return monthly_equivalent(self.peak_regular_payment, self.schedule.frequency)

    def payment_and_term(self) -> str:
        """"1328.13 CNY a month over 46 months", or for a plan in days "304.99 CNY a week over 95
        weekly instalments (1321.62 CNY a month)"."""
        ch = self.changes
        frequency = self.schedule.frequency
        if frequency is Frequency.MONTHLY:
            return f"{ch.new_instalment} a month over {ch.new_term_months} months"
        return (f"{ch.new_instalment} {_PER_PERIOD[frequency]} over {ch.new_term_months} {frequency.value} "
                f"instalments ({self.monthly_equivalent_payment} a month)")

    @cached_property
    def peak_regular_payment(self) -> Money:
        """The highest payment of a period, leaving out an interest-free balloon.

        Affordability is judged on this: the balloon is due at maturity (to be
        refinanced or settled then), not out of monthly income. Read once per plan (the plan is
        immutable; a plan ``replace``d from it reads its own).
        """
        payments = list(self.monthly_payments())
        last = self.schedule.instalments[-1]
        if last.kind is InstalmentKind.BALLOON:
            payments[-1] = payments[-1] - self.changes.deferred_principal
        return max(payments)


def monthly_equivalent(payment: Money, frequency: Frequency) -> Money:
    """A payment of one period of ``frequency`` as a monthly amount (x periods per year / 12)."""
    if frequency is Frequency.MONTHLY:
        return payment
    return payment.times(frequency.periods_per_year / Decimal(12))


_PER_PERIOD = {Frequency.WEEKLY: "a week", Frequency.FORTNIGHTLY: "a fortnight", Frequency.EVERY_15_DAYS: "every 15 days"}


# ---------------------------------------------------------------------------
# Limit checks shared by the options
# ---------------------------------------------------------------------------


def _check_total_term(elapsed: int, new_term: int, remaining: int, policy: RestructuringPolicy) -> None:
    total = elapsed + new_term
    if new_term > max(remaining, 1) and total > policy.max_total_term_months:
        raise PolicyLimitExceeded(
            "max_total_term_months",
            f"{elapsed} months elapsed + {new_term} new = {total} months, above {policy.max_total_term_months}",
        )


def _check_rate(contract_rate: Decimal, new_rate: Decimal, policy: RestructuringPolicy) -> None:
    if new_rate > contract_rate:
        raise RestructuringError(f"a restructuring never raises the rate ({new_rate} > {contract_rate})")
    if new_rate == contract_rate:
        return
    if new_rate < policy.rate_floor:
        raise PolicyLimitExceeded("rate_floor", f"rate {new_rate} is below the floor {policy.rate_floor}")
    steps = (contract_rate - new_rate) / policy.rate_step
    if new_rate != policy.rate_floor and steps != steps.to_integral_value():
        raise PolicyLimitExceeded(
            "rate_step", f"a reduction from {contract_rate} to {new_rate} is not a whole number of {policy.rate_step} steps"
        )


def allowed_rates(contract_rate: Decimal, policy: RestructuringPolicy) -> tuple[Decimal, ...]:
    """The contract rate, then one policy step lower at a time, ending at the floor."""
    rates = [contract_rate]
    rate = contract_rate - policy.rate_step
    while rate > policy.rate_floor:
        rates.append(rate)
        rate -= policy.rate_step
    if contract_rate > policy.rate_floor:
        rates.append(policy.rate_floor)
    return tuple(rates)


def _check_principal_deferral(deferred: Money, principal: Money, policy: RestructuringPolicy) -> None:
    if not deferred.is_positive():
        return
    if not policy.principal_deferral_allowed:
        raise PolicyLimitExceeded("principal_deferral_allowed", "this policy does not allow principal deferral")
    cap = principal.times(policy.principal_deferral_max_share)
    if deferred > cap:
        raise PolicyLimitExceeded(
            "principal_deferral_max_share",
            f"deferring {deferred} is above {policy.principal_deferral_max_share} of {principal} = {cap}",
        )


def _check_waiver(loan: LoanPosition, waiver: Waiver, policy: RestructuringPolicy) -> None:
    if waiver.penalty > max_penalty_waiver(loan, policy):
        raise PolicyLimitExceeded(
            "penalty_waiver_max_share", f"waived penalty {waiver.penalty} is above the cap of {loan.penalty_interest}"
        )
    if waiver.interest.is_positive():
        if waiver.penalty < max_penalty_waiver(loan, policy):
            raise RestructuringError("penalty interest is waived before any accrued interest")
        if waiver.interest > max_interest_waiver(loan, policy):
            raise PolicyLimitExceeded(
                "interest_waiver_max_share", f"waived interest {waiver.interest} is above the cap of {loan.overdue_interest}"
            )


MONTHLY_ONLY = SchedulePolicy()
"""The schedules section that allows monthly plans only (an option's default)."""


def plan_frequency(loans: Sequence[LoanPosition], schedules: SchedulePolicy) -> Frequency:
    """The frequency of the plan for ``loans``: their common frequency where the policy allows it
    (``SchedulePolicy.frequency_for``); loans of different frequencies merged into one get the
    policy's first."""
    frequencies = {loan.frequency for loan in loans}
    if len(frequencies) != 1:
        return schedules.frequencies[0]
    return schedules.frequency_for(frequencies.pop())


def plan_dates(first_due_date: date, frequency: Frequency) -> tuple[date, date]:
    """(start, first due date) of a restructured plan: it starts one month before
    ``first_due_date``, and a plan in days falls due first one of its periods after that start
    (a monthly plan on ``first_due_date`` itself)."""
    start = add_months(first_due_date, -1)
    days = frequency.period_days
    return start, first_due_date if days is None else add_days(start, days)


def _capitalise(loan: LoanPosition, waiver: Waiver) -> tuple[Money, Money]:
    """New principal and the arrears it capitalises, after the waiver."""
    arrears = loan.arrears - waiver.total
    return loan.outstanding_principal + arrears, arrears


# ---------------------------------------------------------------------------
# The options
# ---------------------------------------------------------------------------


def term_extension(
    loan: LoanPosition,
    policy: RestructuringPolicy,
    *,
    new_term_months: int,
    first_due_date: date,
    waiver: Waiver | None = None,
    annual_rate: Decimal | None = None,
    deferred_principal: Money | None = None,
    schedules: SchedulePolicy = MONTHLY_ONLY,
) -> RestructuringPlan:
    """展期: capitalise the arrears and spread the balance over ``new_term_months``.

    The waterfall's modification is this option with, optionally, a lower rate
    (in policy steps, not below the floor) and an interest-free principal
    deferral (only if the policy allows it). At the loan's frequency (where ``schedules``
    allows it) the plan has ``periods_in_months(new_term_months)`` instalments: 12 months of
    a fortnightly loan are 26 fortnightly instalments.
    """
    currency = loan.currency
    waiver = waiver or Waiver.none(currency)
    rate = loan.annual_rate if annual_rate is None else annual_rate
    deferred = deferred_principal or Money.zero(currency)
    if new_term_months < 1:
        raise RestructuringError("the new term needs at least one instalment")
    _check_waiver(loan, waiver, policy)
    _check_total_term(loan.months_elapsed, new_term_months, loan.remaining_term_months, policy)
    _check_rate(loan.annual_rate, rate, policy)
    principal, capitalised = _capitalise(loan, waiver)
    _check_principal_deferral(deferred, principal, policy)
    frequency = schedules.frequency_for(loan.frequency)
    start, first_due = plan_dates(first_due_date, frequency)
    schedule = build_schedule(
        principal,
        rate,
        repayments=frequency.periods_in_months(new_term_months),
        first_due_date=first_due,
        start_date=start,
        balloon=deferred if deferred.is_positive() else None,
        balloon_bears_interest=False,
        frequency=frequency,
    )
    plan = RestructuringPlan(
        kind=OptionKind.TERM_EXTENSION,
        loan_ids=(loan.loan_id,),
        schedule=schedule,
        changes=_changes(loan, schedule, rate, capitalised, waiver, deferred=deferred),
        owed_before=loan.total_owed,
    )
    return _with_new_instalment(plan)


def level_plan_payment(
    principal: Money,
    annual_rate: Decimal,
    *,
    new_term_months: int,
    first_due_date: date,
    deferred_principal: Money | None = None,
    frequency: Frequency = Frequency.MONTHLY,
) -> Money:
    """``monthly_equivalent_payment`` of the plan ``term_extension`` builds on ``principal`` (its
    capitalised balance) at ``annual_rate`` over ``new_term_months``, with ``deferred_principal``
    as its interest-free balloon, without building it (``level_peak_payment``); without a
    deferral, also that of ``consolidation``'s plan. The waterfall looks at many such plans and
    keeps one."""
    start, first_due = plan_dates(first_due_date, frequency)
    deferred = deferred_principal if deferred_principal is not None and deferred_principal.is_positive() else None
    peak = level_peak_payment(
        principal, annual_rate, repayments=frequency.periods_in_months(new_term_months), first_due_date=first_due,
        start_date=start, interest_free_balloon=deferred, frequency=frequency,
    )
    return monthly_equivalent(peak, frequency)


def arrears_instalments(
    loan: LoanPosition,
    policy: RestructuringPolicy,
    *,
    parts: int,
    first_due_date: date,
    waiver: Waiver | None = None,
    schedules: SchedulePolicy = MONTHLY_ONLY,
) -> RestructuringPlan:
    """分期偿还: the overdue amount in ``parts`` interest-free parts on top of the regular instalment.

    The regular schedule continues on the principal not yet due, at the
    contract rate, over the remaining term.  ``parts = 1`` with a waiver is
    the plain "waive and settle" option.  Residue of the split is on the last part.
    At the loan's frequency (where ``schedules`` allows it) the remaining months are
    ``periods_in_months(remaining)`` instalments and ``parts`` counts instalments of the plan
    (within ``max_arrears_instalments``), the parts due with the first regular ones.
    """
    currency = loan.currency
    waiver = waiver or Waiver.none(currency)
    if parts < 1:
        raise RestructuringError("arrears are paid in at least one part")
    if parts > policy.max_arrears_instalments:
        raise PolicyLimitExceeded(
            "max_arrears_instalments", f"{parts} parts is above the maximum of {policy.max_arrears_instalments}"
        )
    if loan.remaining_term_months < 1 or not loan.outstanding_principal.is_positive():
        raise RestructuringError("arrears instalments need a regular schedule that continues")
    frequency = schedules.frequency_for(loan.frequency)
    regular_instalments = frequency.periods_in_months(loan.remaining_term_months)
    if parts > regular_instalments:
        raise RestructuringError(
            f"{parts} parts do not fit in the {regular_instalments} remaining instalments "
            f"({loan.remaining_term_months} months, {frequency.value})"
        )
    _check_waiver(loan, waiver, policy)
    arrears = loan.arrears - waiver.total
    if not arrears.is_positive():
        raise RestructuringError("there are no arrears left to pay in parts")
    start, first_due = plan_dates(first_due_date, frequency)
    regular = build_schedule(
        loan.outstanding_principal, loan.annual_rate, repayments=regular_instalments,
        first_due_date=first_due, start_date=start, frequency=frequency,
    )
    arrears_plan = build_schedule(
        arrears, Decimal(0), repayments=parts, first_due_date=first_due, start_date=start,
        method=RepaymentMethod.EQUAL_PRINCIPAL, frequency=frequency,
    )
    plan = RestructuringPlan(
        kind=OptionKind.ARREARS_INSTALMENTS,
        loan_ids=(loan.loan_id,),
        schedule=regular,
        arrears_schedule=arrears_plan,
        changes=_changes(loan, regular, loan.annual_rate, Money.zero(currency), waiver, arrears_parts=parts),
        owed_before=loan.total_owed,
    )
    return _with_new_instalment(plan)


def payment_deferral(
    loan: LoanPosition,
    policy: RestructuringPolicy,
    *,
    months: int,
    first_due_date: date,
    interest_only: bool = False,
    waiver: Waiver | None = None,
    schedules: SchedulePolicy = MONTHLY_ONLY,
) -> RestructuringPlan:
    """延期还款: no payments (or interest only) for ``months``, then resume.

    The arrears are capitalised; interest keeps accruing during the pause
    (capitalised when nothing is paid) and the policy's deferral fee is
    charged with the first payment after it.  The remaining term is kept,
    so maturity moves out by ``months``. At the loan's frequency (where ``schedules`` allows
    it) the pause is ``periods_in_months(months)`` periods and the remaining term
    ``periods_in_months(remaining)`` instalments: a 1-month pause of a 15-day loan is 2 periods.
    """
    currency = loan.currency
    waiver = waiver or Waiver.none(currency)
    if months < 1:
        raise RestructuringError("a deferral lasts at least one month")
    if months > policy.max_deferral_months:
        raise PolicyLimitExceeded(
            "max_deferral_months", f"{months} months is above the maximum of {policy.max_deferral_months}"
        )
    _check_waiver(loan, waiver, policy)
    repayments = max(loan.remaining_term_months, 1)
    new_term = months + repayments
    _check_total_term(loan.months_elapsed, new_term, loan.remaining_term_months, policy)
    principal, capitalised = _capitalise(loan, waiver)
    fee = Money(policy.deferral_fee, currency)
    frequency = schedules.frequency_for(loan.frequency)
    start, first_due = plan_dates(first_due_date, frequency)
    periods = frequency.periods_in_months(months)
    if interest_only:
        # The fee is charged with the first interest-only payment: the pause is
        # not free, and nothing else is due in it.
        schedule = build_schedule(
            principal, loan.annual_rate, repayments=frequency.periods_in_months(repayments),
            first_due_date=first_due, start_date=start, interest_only_periods=periods, frequency=frequency,
        )
        schedule = _add_fee_to_first(schedule, fee)
    else:
        schedule = build_schedule(
            principal, loan.annual_rate, repayments=frequency.periods_in_months(repayments),
            first_due_date=first_due, start_date=start,
            deferral_periods=periods, deferred_interest=DeferredInterest.CAPITALISE,
            deferral_fee=fee if fee.is_positive() else None, frequency=frequency,
        )
    plan = RestructuringPlan(
        kind=OptionKind.PAYMENT_DEFERRAL,
        loan_ids=(loan.loan_id,),
        schedule=schedule,
        changes=_changes(loan, schedule, loan.annual_rate, capitalised, waiver, fees=fee, deferral_months=months),
        owed_before=loan.total_owed,
    )
    return _with_new_instalment(plan)


def consolidation(
    loans: Sequence[LoanPosition],
    policy: RestructuringPolicy,
    *,
    new_term_months: int,
    annual_rate: Decimal,
    first_due_date: date,
    waivers: Sequence[Waiver] | None = None,
    schedules: SchedulePolicy = MONTHLY_ONLY,
) -> RestructuringPlan:
    """债务重组: several loans of one borrower merged into one new loan.

    The new principal is every loan's balance and arrears (after waivers).
    The new rate may not exceed the highest contract rate and is subject to
    the floor; the new loan's whole term is within ``max_total_term_months``.
    Above the policy threshold a supervisor must approve. The new loan is at the loans'
    common frequency where ``schedules`` allows it (``plan_frequency``), with
    ``periods_in_months(new_term_months)`` instalments.
    """
    if len(loans) < 2:
        raise RestructuringError("consolidation merges at least two loans")
    if len({loan.borrower_id for loan in loans}) != 1:
        raise RestructuringError("only loans of one borrower can be consolidated")
    if len({loan.loan_id for loan in loans}) != len(loans):
        raise RestructuringError("a loan appears twice")
    if len({loan.currency for loan in loans}) != 1:
        raise RestructuringError("loans in different currencies cannot be merged")
    currency = loans[0].currency
    waivers = tuple(waivers) if waivers is not None else tuple(Waiver.none(currency) for _ in loans)
    if len(waivers) != len(loans):
        raise RestructuringError("one waiver per loan")
    if new_term_months < 1:
        raise RestructuringError("the new term needs at least one instalment")
    if new_term_months > policy.max_total_term_months:
        raise PolicyLimitExceeded(
            "max_total_term_months",
            f"the consolidated loan's {new_term_months} months are above {policy.max_total_term_months}",
        )
    highest = max(loan.annual_rate for loan in loans)
    _check_rate(highest, annual_rate, policy)
    principal = Money.zero(currency)
    capitalised = Money.zero(currency)
    for loan, waiver in zip(loans, waivers, strict=True):
        _check_waiver(loan, waiver, policy)
        loan_principal, loan_capitalised = _capitalise(loan, waiver)
        principal += loan_principal
        capitalised += loan_capitalised
    frequency = plan_frequency(loans, schedules)
    start, first_due = plan_dates(first_due_date, frequency)
    schedule = build_schedule(
        principal, annual_rate, repayments=frequency.periods_in_months(new_term_months), first_due_date=first_due,
        start_date=start, frequency=frequency,
    )
    threshold = Money(policy.consolidation_supervisor_threshold, currency)
    needs_supervisor = principal > threshold
    old_instalment = Money.total((loan.contractual_instalment for loan in loans), currency)
    changes = ChangeStatement(
        old_instalment=old_instalment,
        new_instalment=Money.zero(currency),
        old_remaining_term_months=max(loan.remaining_term_months for loan in loans),
        new_term_months=schedule.term,
        old_annual_rate=highest,
        new_annual_rate=annual_rate,
        capitalised_arrears=capitalised,
        waived_penalty=Money.total((w.penalty for w in waivers), currency),
        waived_interest=Money.total((w.interest for w in waivers), currency),
        fees_charged=Money.zero(currency),
        deferred_principal=Money.zero(currency),
        deferral_months=0,
        arrears_instalments=0,
    )
    plan = RestructuringPlan(
        kind=OptionKind.CONSOLIDATION,
        loan_ids=tuple(loan.loan_id for loan in loans),
        schedule=schedule,
        changes=changes,
        needs_supervisor=needs_supervisor,
        supervisor_reason=(
            f"consolidated balance {principal} is above the supervisor threshold {threshold}"
            if needs_supervisor else None
        ),
        owed_before=Money.total((loan.total_owed for loan in loans), currency),
    )
    return _with_new_instalment(plan)


def reamortisation(
    loan: LoanPosition,
    rules: ReamortisationPolicy,
    schedules: SchedulePolicy,
    policy: RestructuringPolicy,
    *,
    first_due_date: date,
    as_of: date,
    waiver: Waiver | None = None,
) -> RestructuringPlan:
    """Re-amortisation: the overdue principal spread over the remaining instalments.

    The remaining instalments keep their number and their due dates (from the loan's next
    due date; ``first_due_date`` only when the loan does not say or that date is not after
    the business date ``as_of``),
    so maturity does not move (a loan in days has ``periods_in_months`` of the remaining months
    as instalments, the policy's limits counting those). Principal not yet due plus the overdue principal is
    re-amortised at the contract rate by the loan's method and frequency (where the policy
    allows them). The overdue interest and any penalty left after ``waiver`` are spread in
    equal interest-free parts over the same instalments' interest, the overdue fees over their
    fee (cf. Fineract's equal amortisation of outstanding interest): nothing is capitalised,
    so no arrears bear interest. Residue of every split is on the last instalment.
    """
    currency = loan.currency
    waiver = waiver or Waiver.none(currency)
    if not rules.allowed:
        raise PolicyLimitExceeded("reamortisation.allowed", "this policy does not allow re-amortisation")
    frequency = schedules.frequency_for(loan.frequency)
    remaining = frequency.periods_in_months(loan.remaining_term_months)  # instalments of the plan
    if remaining < rules.min_remaining_instalments:
        raise PolicyLimitExceeded(
            "reamortisation.min_remaining_instalments",
            f"{remaining} instalments remain, fewer than {rules.min_remaining_instalments}",
        )
    if remaining > rules.max_remaining_instalments:
        raise PolicyLimitExceeded(
            "reamortisation.max_remaining_instalments",
            f"{remaining} instalments remain, more than {rules.max_remaining_instalments}",
        )
    if not loan.overdue_principal.is_positive():
        raise RestructuringError("there is no overdue principal to re-amortise")
    _check_waiver(loan, waiver, policy)
    next_due = loan.next_due_date
    first_due = next_due if next_due is not None and next_due > as_of else first_due_date
    method = schedules.method_for(loan.repayment_method)
    principal = loan.outstanding_principal + loan.overdue_principal
    base = build_schedule(
        principal, loan.annual_rate, repayments=remaining, first_due_date=first_due,
        method=method, frequency=frequency,
    )
    interest_arrears = loan.overdue_interest + loan.penalty_interest - waiver.total
    interest_parts = interest_arrears.split_evenly(remaining)
    fee_parts = loan.fees.split_evenly(remaining)
    schedule = replace(base, instalments=tuple(
        replace(i, interest=i.interest + extra_interest, fee=i.fee + extra_fee)
        for i, extra_interest, extra_fee in zip(base.instalments, interest_parts, fee_parts, strict=True)
    ))
    plan = RestructuringPlan(
        kind=OptionKind.REAMORTISATION,
        loan_ids=(loan.loan_id,),
        schedule=schedule,
        changes=_changes(loan, schedule, loan.annual_rate, Money.zero(currency), waiver),
        owed_before=loan.total_owed,
    )
    return _with_new_instalment(plan)


def reageings_within(reaged_on: Sequence[date], as_of: date, months: int) -> int:
    """Re-ageings in the ``months`` before ``as_of`` (a window of 12 months from 10 March 2026
    counts those after 10 March 2025)."""
    since = add_months(as_of, -months)
    return sum(1 for day in reaged_on if since < day <= as_of)


def check_reageing_allowed(loan: LoanPosition, rules: ReageingPolicy, as_of: date) -> None:
    """The FFIEC-style limits on re-ageing a loan (``ReageingPolicy``), each naming its field."""
    if not rules.allowed:
        raise PolicyLimitExceeded("reageing.allowed", "this policy does not allow re-ageing")
    in_12 = reageings_within(loan.reaged_on, as_of, 12)
    if in_12 >= rules.max_per_12_months:
        raise PolicyLimitExceeded(
            "reageing.max_per_12_months", f"re-aged {in_12} time(s) in the last 12 months, the limit is {rules.max_per_12_months}"
        )
    in_60 = reageings_within(loan.reaged_on, as_of, 60)
    if in_60 >= rules.max_per_5_years:
        raise PolicyLimitExceeded(
            "reageing.max_per_5_years", f"re-aged {in_60} time(s) in the last 5 years, the limit is {rules.max_per_5_years}"
        )
    if loan.consecutive_payments < rules.min_consecutive_payments:
        raise PolicyLimitExceeded(
            "reageing.min_consecutive_payments",
            f"{loan.consecutive_payments} consecutive payments made, {rules.min_consecutive_payments} needed",
        )


def reageing(
    loan: LoanPosition,
    rules: ReageingPolicy,
    schedules: SchedulePolicy,
    policy: RestructuringPolicy,
    *,
    instalments: int,
    as_of: date,
    waiver: Waiver | None = None,
) -> RestructuringPlan:
    """Re-ageing: the whole unpaid balance as ``instalments`` new instalments from ``as_of``.

    The arrears (after ``waiver``) join the principal not yet due; the new plan starts on the
    business date and its first instalment falls due one period later, at the contract rate,
    by the loan's method and frequency where the policy allows them. Nothing is overdue under
    the new plan, so monitoring measures DPD from its schedule: 0 on the day it is activated.
    """
    currency = loan.currency
    waiver = waiver or Waiver.none(currency)
    check_reageing_allowed(loan, rules, as_of)
    if instalments < 1:
        raise RestructuringError("a re-aged plan needs at least one instalment")
    if instalments > rules.max_instalments:
        raise PolicyLimitExceeded(
            "reageing.max_instalments", f"{instalments} instalments is above the maximum of {rules.max_instalments}"
        )
    frequency = schedules.frequency_for(loan.frequency)
    method = schedules.method_for(loan.repayment_method)
    if frequency is Frequency.MONTHLY:
        _check_total_term(loan.months_elapsed, instalments, loan.remaining_term_months, policy)
    _check_waiver(loan, waiver, policy)
    principal, capitalised = _capitalise(loan, waiver)
    first_due = frequency.due_dates(as_of, 2)[1]
    schedule = build_schedule(
        principal, loan.annual_rate, repayments=instalments, first_due_date=first_due, start_date=as_of,
        method=method, frequency=frequency,
    )
    plan = RestructuringPlan(
        kind=OptionKind.REAGEING,
        loan_ids=(loan.loan_id,),
        schedule=schedule,
        changes=_changes(loan, schedule, loan.annual_rate, capitalised, waiver),
        owed_before=loan.total_owed,
    )
    return _with_new_instalment(plan)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _changes(
    loan: LoanPosition,
    schedule: Schedule,
    rate: Decimal,
    capitalised: Money,
    waiver: Waiver,
    *,
    deferred: Money | None = None,
    fees: Money | None = None,
    deferral_months: int = 0,
    arrears_parts: int = 0,
) -> ChangeStatement:
    zero = Money.zero(loan.currency)
    return ChangeStatement(
        old_instalment=loan.contractual_instalment,
        new_instalment=zero,  # filled in from the finished plan
        old_remaining_term_months=loan.remaining_term_months,
        new_term_months=schedule.term,
        old_annual_rate=loan.annual_rate,
        new_annual_rate=rate,
        capitalised_arrears=capitalised,
        waived_penalty=waiver.penalty,
        waived_interest=waiver.interest,
        fees_charged=fees or zero,
        deferred_principal=deferred or zero,
        deferral_months=deferral_months,
        arrears_instalments=arrears_parts,
    )


def _with_new_instalment(plan: RestructuringPlan) -> RestructuringPlan:
    changes = replace(plan.changes, new_instalment=plan.peak_regular_payment)
    return replace(plan, changes=changes)


def _add_fee_to_first(schedule: Schedule, fee: Money) -> Schedule:
    if not fee.is_positive():
        return schedule
    first = replace(schedule.instalments[0], fee=fee)
    return replace(schedule, instalments=(first, *schedule.instalments[1:]))

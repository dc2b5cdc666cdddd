"""Repayment schedules: the instalments a borrower signs up to.

Built here because the agreement service signs them, monitoring watches them
and evaluation compares them; the same numbers must come out everywhere.

Rules every schedule obeys (product brief, "Repayment schedules"):

* money is exact and rounded once, half-up to the cent (see ``money``);
* the interest of each period is rounded on its own, the annuity instalment
  is rounded once, and the *last* instalment takes whatever residue is left,
  so the principal parts sum exactly to the principal (plus any interest
  capitalised during a deferral, which becomes principal by design);
* balances never go negative.

Period order inside one schedule: deferral periods first (payments paused),
then interest-only periods, then the amortising periods, the last of which
carries any balloon. That is the order in which a lender grants relief:
breathing space first, then reduced payments, then normal repayment.

Frequencies (``Frequency``): monthly, weekly, fortnightly and every 15 days.
Due dates are *nominal* (a fixed step from the first due date; moving a due
date off a non-working day is the business calendar's job, not this
module's). A regular period's rate follows the day count:

* monthly: 1/12 of the annual rate under 30/360 (today's rule), the day
  count's year fraction for a broken first period;
* weekly, fortnightly, every 15 days: the period is 7, 14 or 15 actual days,
  so its rate is ``annual x days / 360`` under 30/360 and ACT/360 and
  ``annual x days / 365`` under ACT/365 (a weekly period at 7.3 %/year
  ACT/365 is 0.14 %). 30/360 counts a day as 1/360 of a year; the
  end-of-month adjustments of 30/360 are for monthly dates and are not
  applied to a 7-day period that happens to cross a month's end.

Flat rate (等本等息, ``RepaymentMethod.FLAT_RATE``): the principal in equal
parts (truncated to the cent, the residue on the last part) and, every
period, interest on the *original* balance (the balance amortisation starts
from), rounded by the one rule. The nominal rate then understates the cost
of credit, which is why every schedule's APR (``forbear_shared.domain.apr``)
is disclosed with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any

from .calendar import DayCount, add_days, add_months, monthly_due_dates, monthly_rate, year_fraction
from .money import Money, MoneyError, parse_rate, round_money


class ScheduleError(ValueError):
    """Terms that cannot produce a valid schedule, with the reason."""


class RepaymentMethod(StrEnum):
    """How the amortising periods repay principal."""

    EQUAL_INSTALMENT = "equal_instalment"
    """等额本息: the same instalment each month; interest share falls over time."""

    EQUAL_PRINCIPAL = "equal_principal"
    """等额本金: the same principal each month; instalments fall over time."""

    FLAT_RATE = "flat_rate"
    """等本等息: the same principal each period and interest on the original principal every
    period, so the instalment is level and the effective cost is well above the nominal rate."""


class Frequency(StrEnum):
    """How often an instalment falls due; a contract term, so it is explicit."""

    MONTHLY = "monthly"
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    EVERY_15_DAYS = "every_15_days"

    @property
    def period_days(self) -> int | None:
        """Days in one period; None for monthly (calendar months differ in length)."""
        return _PERIOD_DAYS.get(self)

    @property
    def periods_per_year(self) -> Decimal:
        """Unit periods in a year, as US Regulation Z Appendix J counts them: 12 months,
        52 weeks, 26 fortnights, and 365 / 15 periods of 15 days (a period in days that is
        not a multiple of a week counts against a 365-day year). The APR is the periodic IRR
        times this number."""
        if self is Frequency.MONTHLY:
            return Decimal(12)
        if self is Frequency.WEEKLY:
            return Decimal(52)
        if self is Frequency.FORTNIGHTLY:
            return Decimal(26)
        return Decimal(365) / Decimal(15)

    def periods_in_months(self, months: int) -> int:
        """The whole periods of this frequency in ``months`` months: ``floor(months x periods per
        year / 12)``, so a plan never runs longer than the months a policy limit allows. 12 months
        are 52 weeks, 26 fortnights or 24 periods of 15 days (12 x 365/15 / 12 = 24.33); one month
        is 4 weeks, 2 fortnights or 2 periods of 15 days; monthly it is ``months`` itself."""
        if months < 0:
            raise ScheduleError("a number of months must not be negative")
        if self is Frequency.MONTHLY:
            return months
        return int((Decimal(months) * self.periods_per_year / Decimal(12)).to_integral_value(rounding=ROUND_FLOOR))

    def due_dates(self, first_due: date, count: int) -> tuple[date, ...]:
        """``count`` nominal due dates anchored on the first one."""
        days = self.period_days
        if days is None:
            return monthly_due_dates(first_due, count)
        return tuple(add_days(first_due, days * i) for i in range(count))

    def step_back(self, due: date) -> date:
        """The due date one regular period before ``due`` (a regular first period starts there)."""
        days = self.period_days
        return add_months(due, -1) if days is None else add_days(due, -days)

    def regular_fraction(self, day_count: DayCount) -> Decimal:
        """The share of a year one regular period is (see the module docstring)."""
        days = self.period_days
        if days is None:
            return Decimal(1) / Decimal(12)
        basis = 365 if day_count is DayCount.ACTUAL_365 else 360
        return Decimal(days) / Decimal(basis)

    def regular_rate(self, annual_rate: Decimal, day_count: DayCount) -> Decimal:
        """The rate of one regular period, unrounded, which the annuity formula uses.

        Monthly it is annual / 12 whatever the day count (as it has always been); a period in
        days is priced by the day count."""
        if self is Frequency.MONTHLY:
            return monthly_rate(annual_rate)
        return annual_rate * self.regular_fraction(day_count)


_PERIOD_DAYS: dict[Frequency, int] = {
    Frequency.WEEKLY: 7,
    Frequency.FORTNIGHTLY: 14,
    Frequency.EVERY_15_DAYS: 15,
}


class InstalmentKind(StrEnum):
    AMORTISING = "amortising"
    INTEREST_ONLY = "interest_only"
    DEFERRAL = "deferral"
    BALLOON = "balloon"


class DeferredInterest(StrEnum):
    """What happens to interest that accrues while payments are deferred.

    The brief says interest keeps accruing during a deferral (延期还款); the
    lender chooses whether it is *capitalised* (added to the balance, so it
    is repaid over the remaining term and itself bears interest) or *paid
    later* (collected in full with the first instalment after the deferral,
    and never bears interest). Either way nothing is forgiven silently.
    """

    CAPITALISE = "capitalise"
    PAY_LATER = "pay_later"


@dataclass(frozen=True, slots=True)
class Instalment:
    """One due date of a schedule and what falls due on it."""

    number: int
    due_date: date
    kind: InstalmentKind
    opening_balance: Money
    principal: Money
    interest: Money
    fee: Money
    closing_balance: Money
    capitalised_interest: Money
    """Interest added to the balance in this period (capitalised deferral only)."""

    def __post_init__(self) -> None:
        # the invariants on the amounts' decimals when the balances share one currency (schedules
        # build instalments by the thousand); anything else is checked, and named, in Money
        opening, capitalised, principal, closing = (self.opening_balance, self.capitalised_interest, self.principal,
                                                    self.closing_balance)
        currency = opening.currency
        if (capitalised.currency != currency or principal.currency != currency or closing.currency != currency
                or opening.amount + capitalised.amount - principal.amount != closing.amount):
            self._check_balance()
        if (principal.amount < 0 or self.interest.amount < 0 or self.fee.amount < 0 or capitalised.amount < 0
                or closing.amount < 0):
            self._check_not_negative()

    def _check_balance(self) -> None:
        expected = self.opening_balance + self.capitalised_interest - self.principal
        if expected != self.closing_balance:
            raise ScheduleError(
                f"instalment {self.number}: closing balance {self.closing_balance.to_str()} "
                f"is not opening + capitalised - principal = {expected.to_str()}"
            )

    def _check_not_negative(self) -> None:
        for name in ("principal", "interest", "fee", "capitalised_interest", "closing_balance"):
            if getattr(self, name).is_negative():
                raise ScheduleError(f"instalment {self.number}: {name} must not be negative")

    @property
    def total(self) -> Money:
        """What the borrower pays on the due date."""
        principal, interest, fee = self.principal, self.interest, self.fee
        currency = principal.currency
        if interest.currency != currency or fee.currency != currency:
            return principal + interest + fee  # Money says which currencies met
        return Money._exact(principal.amount + interest.amount + fee.amount, currency)  # noqa: SLF001 - cents summed

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "due_date": self.due_date.isoformat(),
            "kind": self.kind.value,
            "opening_balance": self.opening_balance.to_str(),
            "principal": self.principal.to_str(),
            "interest": self.interest.to_str(),
            "fee": self.fee.to_str(),
            "total": self.total.to_str(),
            "capitalised_interest": self.capitalised_interest.to_str(),
            "closing_balance": self.closing_balance.to_str(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], currency: str) -> Instalment:
        def money(key: str) -> Money:
            return Money.of(str(data[key]), currency)

        instalment = cls(
            number=int(data["number"]),
            due_date=date.fromisoformat(str(data["due_date"])),
            kind=InstalmentKind(data["kind"]),
            opening_balance=money("opening_balance"),
            principal=money("principal"),
            interest=money("interest"),
            fee=money("fee"),
            closing_balance=money("closing_balance"),
            capitalised_interest=money("capitalised_interest") if "capitalised_interest" in data else Money.zero(currency),
        )
        if "total" in data and Money.of(str(data["total"]), currency) != instalment.total:
            raise ScheduleError(f"instalment {instalment.number}: total does not equal principal + interest + fee")
        return instalment


@dataclass(frozen=True, slots=True)
class Schedule:
    """A complete repayment plan; validated so a broken one cannot exist."""

    method: RepaymentMethod
    principal: Money
    annual_rate: Decimal
    day_count: DayCount
    start_date: date
    instalments: tuple[Instalment, ...]
    frequency: Frequency = Frequency.MONTHLY

    def __post_init__(self) -> None:
        if not self.instalments:
            raise ScheduleError("a schedule needs at least one instalment")
        previous_closing = self.principal
        previous_due = self.start_date
        for index, instalment in enumerate(self.instalments, start=1):
            if instalment.number != index:
                raise ScheduleError(f"instalments must be numbered 1..n, found {instalment.number} at {index}")
            # equal due dates are allowed: a closure longer than a period (a weekly plan over
            # 春节) rolls two instalments onto its first working day (``roll_due_dates``)
            if instalment.due_date <= self.start_date or instalment.due_date < previous_due:
                raise ScheduleError(f"instalment {index}: due dates must be after the start date and never go back")
            if instalment.opening_balance != previous_closing:
                raise ScheduleError(f"instalment {index}: opening balance does not continue the previous closing")
            previous_closing = instalment.closing_balance
            previous_due = instalment.due_date
        if not previous_closing.is_zero():
            raise ScheduleError("the last instalment must leave a zero balance")

    # -- facts a credit officer asks for ---------------------------------
    @property
    def currency(self) -> str:
        return self.principal.currency

    @property
    def term(self) -> int:
        """Number of periods (of ``frequency``), deferral periods included."""
        return len(self.instalments)

    @property
    def first_due_date(self) -> date:
        return self.instalments[0].due_date

    @property
    def final_due_date(self) -> date:
        return self.instalments[-1].due_date

    def _sum(self, field: str) -> Money:
        return Money.total((getattr(i, field) for i in self.instalments), self.currency)

    @property
    def total_principal(self) -> Money:
        return self._sum("principal")

    @property
    def total_interest(self) -> Money:
        return self._sum("interest")

    @property
    def total_fees(self) -> Money:
        return self._sum("fee")

    @property
    def total_capitalised_interest(self) -> Money:
        return self._sum("capitalised_interest")

    @property
    def total_payable(self) -> Money:
        return self.total_principal + self.total_interest + self.total_fees

    def instalment(self, number: int) -> Instalment:
        if not 1 <= number <= len(self.instalments):
            raise KeyError(f"no instalment {number}")
        return self.instalments[number - 1]

    def with_parts(self, parts: Schedule) -> Schedule:
        """This schedule with ``parts`` paid on top of its first instalments, on the same due
        dates (分期偿还: the arrears in interest-free parts beside the regular instalment), as the
        one schedule the borrower signs and pays: instalment k owes its own principal, interest
        and fee plus part k, and its balances carry what is left of the parts."""
        if parts.currency != self.currency:
            raise ScheduleError(f"parts in {parts.currency} cannot be added to a schedule in {self.currency}")
        if parts.term > self.term:
            raise ScheduleError(f"{parts.term} parts do not fit in {self.term} instalments")
        rows = []
        for index, instalment in enumerate(self.instalments):
            if index >= parts.term:
                rows.append(instalment)
                continue
            part = parts.instalments[index]
            if part.due_date != instalment.due_date:
                raise ScheduleError(f"part {part.number} is due {part.due_date}, instalment {instalment.number} "
                                    f"{instalment.due_date}: parts fall due with the instalments they ride on")
            rows.append(replace(
                instalment, opening_balance=instalment.opening_balance + part.opening_balance,
                principal=instalment.principal + part.principal, interest=instalment.interest + part.interest,
                fee=instalment.fee + part.fee, closing_balance=instalment.closing_balance + part.closing_balance,
                capitalised_interest=instalment.capitalised_interest + part.capitalised_interest))
        return replace(self, principal=self.principal + parts.principal, instalments=tuple(rows))

    # -- serialisation (events carry schedules) ---------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method.value,
            "currency": self.currency,
            "principal": self.principal.to_str(),
            "annual_rate": str(self.annual_rate),
            "day_count": self.day_count.value,
            "start_date": self.start_date.isoformat(),
            "instalments": [i.to_dict() for i in self.instalments],
        } | ({} if self.frequency is Frequency.MONTHLY else {"frequency": self.frequency.value})
        # monthly stays implicit: every schedule signed before frequencies existed keeps its bytes

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schedule:
        currency = str(data.get("currency", "CNY"))
        return cls(
            method=RepaymentMethod(data["method"]),
            principal=Money.of(str(data["principal"]), currency),
            annual_rate=parse_rate(str(data["annual_rate"]), what="annual_rate"),
            day_count=DayCount(data["day_count"]),
            start_date=date.fromisoformat(str(data["start_date"])),
            instalments=tuple(Instalment.from_dict(i, currency) for i in data["instalments"]),
            frequency=Frequency(data.get("frequency") or Frequency.MONTHLY.value),
        )


# ---------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------


def _period_fraction(
    start: date, end: date, *, regular: bool, day_count: DayCount, frequency: Frequency = Frequency.MONTHLY
) -> Decimal:
    """Share of a year for one period.

    Under 30/360 a regular monthly period (between two anchored due dates,
    or a full month before the first one) is exactly 1/12, whatever the
    calendar month's length: that is how the public annuity reference and
    a borrower's "monthly rate" work. Broken periods use the day count.
    A regular period in days (weekly, fortnightly, 15 days) is its days over
    the day count's year under every day count (``Frequency.regular_fraction``).
    """
    if regular and frequency is not Frequency.MONTHLY:
        return frequency.regular_fraction(day_count)
    if regular and day_count is DayCount.THIRTY_360:
        return Decimal(1) / Decimal(12)
    return year_fraction(start, end, day_count)


@lru_cache(maxsize=8192)
def _discount(rate: Decimal, periods: int) -> Decimal:
    """``(1 + rate) ** -periods``, the annuity's discount over ``periods`` periods at ``rate`` a
    period: once per rate and term (the waterfall asks for every term at every rate step, and a
    book's loans share their rates)."""
    return (Decimal(1) + rate) ** -periods


def build_schedule(
    principal: Money,
    annual_rate: Decimal,
    *,
    repayments: int,
    first_due_date: date,
    start_date: date | None = None,
    method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALMENT,
    day_count: DayCount = DayCount.THIRTY_360,
    deferral_periods: int = 0,
    deferred_interest: DeferredInterest = DeferredInterest.CAPITALISE,
    deferral_fee: Money | None = None,
    interest_only_periods: int = 0,
    balloon: Money | None = None,
    balloon_bears_interest: bool = True,
    frequency: Frequency = Frequency.MONTHLY,
) -> Schedule:
    """Build a schedule (monthly unless ``frequency`` says otherwise).

    ``repayments`` is the number of amortising instalments; the term is
    ``deferral_periods + interest_only_periods + repayments`` periods, the
    first due on ``first_due_date``. ``start_date`` (disbursement, or the
    date the restructured plan starts) defaults to one period before.

    ``balloon`` is principal left to the last instalment. An interest-bearing
    balloon is a classic balloon loan; a non-interest-bearing one is the
    principal deferral (forbearance) of the concession waterfall, where part
    of the balance is set aside without interest and repaid at the end.

    ``deferral_fee`` is charged with the first instalment after the deferral
    (the borrower pays nothing during it).
    """
    currency = principal.currency
    zero = Money.zero(currency)
    annual_rate = parse_rate(annual_rate, what="annual_rate")
    if not principal.is_positive():
        raise ScheduleError("principal must be positive")
    if repayments < 1:
        raise ScheduleError("at least one amortising instalment is needed")
    if deferral_periods < 0 or interest_only_periods < 0:
        raise ScheduleError("deferral and interest-only periods must not be negative")
    balloon = balloon if balloon is not None else zero
    if balloon.is_negative() or balloon >= principal:
        raise ScheduleError("a balloon must be at least zero and less than the principal")
    deferral_fee = deferral_fee if deferral_fee is not None else zero
    if deferral_fee.is_negative():
        raise ScheduleError("the deferral fee must not be negative")
    if deferral_fee.is_positive() and deferral_periods == 0:
        raise ScheduleError("a deferral fee needs at least one deferral period")
    if start_date is None:
        start_date = frequency.step_back(first_due_date)
    if start_date >= first_due_date:
        raise ScheduleError("the first due date must be after the start date")

    term = deferral_periods + interest_only_periods + repayments
    due_dates = frequency.due_dates(first_due_date, term)
    first_period_regular = start_date == frequency.step_back(first_due_date)
    amortising_from = deferral_periods + interest_only_periods
    flat_base: Money | None = None  # flat rate: the balance every period's interest is charged on

    # The interest-bearing balance; an interest-free balloon is held apart.
    interest_free = zero if balloon_bears_interest else balloon
    reserved = balloon if balloon_bears_interest else zero
    bearing = principal - interest_free

    rows: list[Instalment] = []
    pending_interest = zero  # deferral interest to be paid later
    pending_fee = deferral_fee
    previous = start_date
    amortising_parts: tuple[Money, ...] | None = None
    annuity: Money | None = None

    for index, due in enumerate(due_dates):
        number = index + 1
        fraction = _period_fraction(
            previous, due, regular=(index > 0 or first_period_regular), day_count=day_count,
            frequency=frequency,
        )
        if method is RepaymentMethod.FLAT_RATE and index >= amortising_from:
            # 等本等息: interest on the balance amortisation started from, every period
            flat_base = bearing if flat_base is None else flat_base
            period_interest = Money(flat_base.amount * annual_rate * fraction, currency)
        else:
            period_interest = Money(bearing.amount * annual_rate * fraction, currency)
        opening = bearing + interest_free

        if index < deferral_periods:
            capitalised = zero
            if deferred_interest is DeferredInterest.CAPITALISE:
                capitalised = period_interest
                bearing = bearing + period_interest
            else:
                pending_interest = pending_interest + period_interest
            rows.append(
                Instalment(number, due, InstalmentKind.DEFERRAL, opening, zero, zero, zero,
                           bearing + interest_free, capitalised)
            )
        else:
            interest = period_interest + pending_interest
            fee = pending_fee
            pending_interest = zero
            pending_fee = zero
            if index < deferral_periods + interest_only_periods:
                rows.append(
                    Instalment(number, due, InstalmentKind.INTEREST_ONLY, opening, zero, interest, fee,
                               opening, zero)
                )
            else:
                k = index - deferral_periods - interest_only_periods  # 0-based amortising index
                remaining = repayments - k
                is_last = remaining == 1
                if k == 0:
                    # Amortisation starts from the balance as it stands after
                    # any capitalised deferral interest.
                    rate = frequency.regular_rate(annual_rate, day_count)
                    amortisable = bearing - reserved
                    if method in (RepaymentMethod.EQUAL_PRINCIPAL, RepaymentMethod.FLAT_RATE) or rate == 0:
                        amortising_parts = amortisable.split_evenly(repayments)
                    else:
                        discount = _discount(rate, repayments)
                        payment = (bearing.amount - reserved.amount * discount) * rate / (Decimal(1) - discount)
                        annuity = Money(payment, currency)
                if is_last:
                    principal_part = bearing
                elif amortising_parts is not None:
                    principal_part = amortising_parts[k]
                else:
                    assert annuity is not None
                    principal_part = (annuity - period_interest).clamp_non_negative().min(bearing - reserved)
                bearing = bearing - principal_part
                kind = InstalmentKind.AMORTISING
                if is_last:
                    principal_part = principal_part + interest_free
                    if balloon.is_positive():
                        kind = InstalmentKind.BALLOON
                rows.append(
                    Instalment(number, due, kind, opening, principal_part, interest, fee,
                               opening - principal_part, zero)
                )
        previous = due

    return Schedule(method, principal, annual_rate, day_count, start_date, tuple(rows), frequency)


def level_peak_payment(
    principal: Money,
    annual_rate: Decimal,
    *,
    repayments: int,
    first_due_date: date,
    start_date: date | None = None,
    interest_free_balloon: Money | None = None,
    frequency: Frequency = Frequency.MONTHLY,
) -> Money:
    """The highest instalment of ``build_schedule(principal, annual_rate, repayments=..., first_due_date=...,
    start_date=..., balloon=interest_free_balloon, balloon_bears_interest=False, frequency=...)``, the
    interest-free balloon left out of the last one, without building the schedule.

    For the plans the concession waterfall tries (equal instalments, 30/360, no deferral or
    interest-only periods): the builder's own arithmetic, one period at a time in plain
    ``Decimal`` (each interest rounded by the one rule, the annuity rounded once, the last
    instalment taking the residue), so the amount is the builder's to the cent.
    """
    balloon = interest_free_balloon.amount if interest_free_balloon is not None else Decimal(0)
    annual_rate = parse_rate(annual_rate, what="annual_rate")
    if not principal.is_positive():
        raise ScheduleError("principal must be positive")
    if repayments < 1:
        raise ScheduleError("at least one amortising instalment is needed")
    if balloon < 0 or balloon >= principal.amount:
        raise ScheduleError("a balloon must be at least zero and less than the principal")
    if start_date is None:
        start_date = frequency.step_back(first_due_date)
    if start_date >= first_due_date:
        raise ScheduleError("the first due date must be after the start date")
    day_count = DayCount.THIRTY_360
    regular_first = start_date == frequency.step_back(first_due_date)
    fraction = _period_fraction(start_date, first_due_date, regular=regular_first, day_count=day_count,
                                frequency=frequency)
    # a regular period under 30/360 is the same share of a year whatever its dates
    regular = _period_fraction(start_date, first_due_date, regular=True, day_count=day_count, frequency=frequency)
    rate = frequency.regular_rate(annual_rate, day_count)
    bearing = principal.amount - balloon
    parts: tuple[Money, ...] | None = None
    annuity = Decimal(0)
    if rate == 0:
        parts = Money(bearing, principal.currency).split_evenly(repayments)
    else:
        discount = _discount(rate, repayments)
        annuity = round_money(bearing * rate / (Decimal(1) - discount))
    peak = Decimal(0)
    for k in range(repayments - 1):  # every instalment but the last
        interest = round_money(bearing * annual_rate * fraction)
        if parts is not None:
            principal_part = parts[k].amount
        else:
            principal_part = annuity - interest if annuity > interest else Decimal(0)
            principal_part = principal_part if principal_part <= bearing else bearing
        bearing -= principal_part
        peak = max(peak, principal_part + interest)
        fraction = regular
    last = bearing + round_money(bearing * annual_rate * fraction)  # the residue, the balloon left out
    return Money(max(peak, last), principal.currency)


def equal_instalment_schedule(
    principal: Money, annual_rate: Decimal, instalments: int, first_due_date: date, **options: Any
) -> Schedule:
    """等额本息: a level instalment; the reference 100.00 @ 7 % x 6 gives 17.01 x 5, 17.00."""
    return build_schedule(
        principal, annual_rate, repayments=instalments, first_due_date=first_due_date,
        method=RepaymentMethod.EQUAL_INSTALMENT, **options,
    )


def equal_principal_schedule(
    principal: Money, annual_rate: Decimal, instalments: int, first_due_date: date, **options: Any
) -> Schedule:
    """等额本金: level principal, falling instalments (cheaper in total interest)."""
    return build_schedule(
        principal, annual_rate, repayments=instalments, first_due_date=first_due_date,
        method=RepaymentMethod.EQUAL_PRINCIPAL, **options,
    )


def flat_rate_schedule(
    principal: Money, annual_rate: Decimal, instalments: int, first_due_date: date, **options: Any
) -> Schedule:
    """等本等息: 10,000.00 at 6 %/year (0.5 %/month) x 12 gives 50.00 interest each month and
    principal 833.33 x 11 + 833.37; its APR is about 10.90 %/year."""
    return build_schedule(
        principal, annual_rate, repayments=instalments, first_due_date=first_due_date,
        method=RepaymentMethod.FLAT_RATE, **options,
    )


def annuity_payment(principal: Money, annual_rate: Decimal, instalments: int) -> Money:
    """The level monthly instalment for a plain annuity, rounded by the one rule.

    Evaluation uses it to test affordability before building a full schedule.
    """
    if instalments < 1:
        raise ScheduleError("at least one instalment is needed")
    rate = monthly_rate(parse_rate(annual_rate, what="annual_rate"))
    if rate == 0:
        return Money(principal.amount / Decimal(instalments), principal.currency)
    discount = _discount(rate, instalments)
    return Money(principal.amount * rate / (Decimal(1) - discount), principal.currency)


__all__ = [
    "DeferredInterest",
    "Frequency",
    "Instalment",
    "InstalmentKind",
    "MoneyError",
    "RepaymentMethod",
    "Schedule",
    "ScheduleError",
    "annuity_payment",
    "build_schedule",
    "equal_instalment_schedule",
    "equal_principal_schedule",
    "flat_rate_schedule",
    "round_money",
]

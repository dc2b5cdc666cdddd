"""Arrears and delinquency of one loan or agreement as of a business date.

The ledger (``LoanLedger``) records, per instalment of a schedule, what has
been paid of each component and how much penalty interest has been charged.
``allocation`` changes it; this module reads it.

How grace applies (policy ``delinquency.grace_days``, demo 3):

* An instalment paid in full (within the allocation tolerance) by its due
  date + grace days counts as paid on time: it is never missed, adds no DPD
  and owes no penalty interest. Grace exists so that a payment delayed by a
  weekend or a bank transfer does not damage the borrower's record.
* Once grace has passed, DPD counts the days since the oldest unpaid due
  date *minus* the grace days: with a due date of 10 March and 3 grace days,
  DPD is 0 on 10-13 March and 1 on 14 March (the first day the instalment
  is missed). So "reminder at DPD 1" means the day after grace ends.
* Penalty interest, once grace has passed, runs from the due date itself
  (the grace was conditional on paying within it), on the instalment's
  principal still unpaid, at contract rate x (1 + penalty uplift), with a
  daily rate of annual / 360 (policy ``penalty_day_count``). It is charged
  on overdue principal only; interest on overdue interest (复利) is not
  charged by the demo lender.
* An instalment whose shortfall is within the tolerance counts as paid: it
  stops accruing penalty and does not count toward arrears or DPD (the few
  fen left are still collected by the next payment, oldest first).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from .calendar import DayCount, daily_rate
from .money import Money
from .policy import Policy
from .schedule import Instalment, Schedule


@dataclass(frozen=True, slots=True)
class InstalmentPosition:
    """What has happened to one instalment since the schedule started."""

    number: int
    fee_paid: Money
    penalty_charged: Money
    penalty_paid: Money
    interest_paid: Money
    principal_paid: Money
    penalty_accrued_through: date | None = None
    """Penalty up to this date is already in ``penalty_charged``."""
    settled_on: date | None = None
    """Business date on which the instalment became paid (within tolerance)."""


@dataclass(frozen=True, slots=True)
class InstalmentDue:
    """Outstanding amounts of one instalment by component."""

    number: int
    due_date: date
    fees: Money
    penalty_interest: Money
    interest: Money
    principal: Money

    @property
    def total(self) -> Money:
        return self.fees + self.penalty_interest + self.interest + self.principal


@dataclass(frozen=True, slots=True)
class LoanLedger:
    """The payment position of one schedule: the state allocation changes."""

    schedule: Schedule
    positions: tuple[InstalmentPosition, ...]
    applied_references: frozenset[str] = frozenset()
    """Payment references already applied: a repeated reference is the same payment."""
    unapplied: Money | None = None
    """Money received beyond everything the schedule will ever ask for (held for refund)."""

    def __post_init__(self) -> None:
        if len(self.positions) != len(self.schedule.instalments):
            raise ValueError("one position per instalment is required")
        if self.unapplied is None:
            object.__setattr__(self, "unapplied", Money.zero(self.schedule.currency))

    @classmethod
    def open(cls, schedule: Schedule, policy: Policy) -> LoanLedger:
        """A fresh ledger; instalments with nothing to pay beyond the tolerance
        (deferral months) count as paid from the start, so they are never missed."""
        zero = Money.zero(schedule.currency)
        tolerance = policy.tolerance
        positions = tuple(
            InstalmentPosition(
                i.number, zero, zero, zero, zero, zero,
                settled_on=schedule.start_date if i.total <= tolerance else None,
            )
            for i in schedule.instalments
        )
        return cls(schedule, positions)

    @property
    def held(self) -> Money:
        assert self.unapplied is not None
        return self.unapplied

    def position(self, number: int) -> InstalmentPosition:
        return self.positions[number - 1]

    def with_position(self, position: InstalmentPosition) -> LoanLedger:
        positions = list(self.positions)
        positions[position.number - 1] = position
        # what ``replace(self, positions=...)`` builds, without its field introspection
        return self.__class__(self.schedule, tuple(positions), self.applied_references, self.unapplied)

    def outstanding(self, number: int) -> InstalmentDue:
        """Charged but unpaid amounts (penalty only as far as crystallised)."""
        instalment = self.schedule.instalment(number)
        position = self.position(number)
        return InstalmentDue(
            number,
            instalment.due_date,
            fees=instalment.fee - position.fee_paid,
            penalty_interest=position.penalty_charged - position.penalty_paid,
            interest=instalment.interest - position.interest_paid,
            principal=instalment.principal - position.principal_paid,
        )

    def is_settled(self, number: int, as_of: date) -> bool:
        settled_on = self.position(number).settled_on
        return settled_on is not None and settled_on <= as_of

    @property
    def is_fully_paid(self) -> bool:
        """Every instalment paid (within tolerance): the agreement can complete."""
        return all(p.settled_on is not None for p in self.positions)


def grace_cutoff(instalment: Instalment, policy: Policy) -> date:
    """The last day an instalment can be paid and still count as on time."""
    return instalment.due_date + timedelta(days=policy.delinquency.grace_days)


def penalty_rate(schedule: Schedule, policy: Policy) -> Decimal:
    """Annual penalty rate: contract rate x (1 + uplift), e.g. 7 % x 1.5 = 10.5 %."""
    return schedule.annual_rate * (Decimal(1) + policy.delinquency.penalty_uplift)


def uncharged_penalty(ledger: LoanLedger, number: int, as_of: date, policy: Policy) -> Money:
    """Penalty accrued on one instalment up to ``as_of`` not yet charged."""
    schedule = ledger.schedule
    instalment = schedule.instalment(number)
    position = ledger.position(number)
    # the cheap refusals first (all answer zero, so their order changes nothing)
    settled_on = position.settled_on
    if (settled_on is not None and settled_on <= as_of) or as_of <= grace_cutoff(instalment, policy):
        return Money.zero(schedule.currency)
    zero = Money.zero(schedule.currency)
    overdue_principal = instalment.principal - position.principal_paid
    if not overdue_principal.is_positive():
        return zero
    start = position.penalty_accrued_through or instalment.due_date
    days = (as_of - start).days
    if days <= 0:
        return zero
    day_count = DayCount(policy.delinquency.penalty_day_count)
    per_day = daily_rate(penalty_rate(schedule, policy), day_count)
    return Money(overdue_principal.amount * per_day * days, schedule.currency)


def charge_penalty(ledger: LoanLedger, as_of: date, policy: Policy) -> LoanLedger:
    """Crystallise penalty up to ``as_of`` before money moves, so a payment
    pays the penalty owed on the day it arrives and the principal it then
    reduces accrues less from that day on."""
    return _charge_penalty(ledger, as_of, policy)[0]


def _charge_penalty(ledger: LoanLedger, as_of: date, policy: Policy) -> tuple[LoanLedger, Money | None]:
    """``charge_penalty`` plus the total it charged (None when nothing was charged)."""
    charged: Money | None = None
    # the last due date still within grace on ``as_of``: instalments due after it owe no penalty
    last_in_grace = as_of - timedelta(days=policy.delinquency.grace_days)
    for instalment, position in zip(ledger.schedule.instalments, ledger.positions, strict=True):
        # uncharged_penalty's cheap refusals, checked here without building its zero
        settled_on = position.settled_on
        if (settled_on is not None and settled_on <= as_of) or instalment.due_date >= last_in_grace:
            continue
        accrued = uncharged_penalty(ledger, position.number, as_of, policy)
        if accrued.is_positive():
            ledger = ledger.with_position(
                replace(position, penalty_charged=position.penalty_charged + accrued, penalty_accrued_through=as_of)
            )
            charged = accrued if charged is None else charged + accrued
    return ledger, charged


@dataclass(frozen=True, slots=True)
class Arrears:
    """What is overdue on one loan as of a business date."""

    as_of: date
    principal: Money
    interest: Money
    penalty_interest: Money
    fees: Money
    instalments: tuple[InstalmentDue, ...]
    """Overdue instalments, oldest first, penalty accrued to ``as_of``."""
    oldest_unpaid_due_date: date | None
    days_past_due: int
    bucket: str | None
    """The policy DPD bucket, None when DPD is 0."""

    @property
    def total(self) -> Money:
        return self.fees + self.penalty_interest + self.interest + self.principal

    @property
    def is_delinquent(self) -> bool:
        return self.days_past_due > 0


def oldest_unpaid_due_date(ledger: LoanLedger, *, as_of: date) -> date | None:
    """Due date of the oldest instalment past due and not paid as of ``as_of``."""
    for instalment in ledger.schedule.instalments:
        if instalment.due_date >= as_of:
            return None
        if not ledger.is_settled(instalment.number, as_of):
            return instalment.due_date
    return None


def days_past_due(ledger: LoanLedger, *, as_of: date, policy: Policy) -> int:
    """Days since the oldest unpaid due date minus grace days; 0 within grace."""
    oldest = oldest_unpaid_due_date(ledger, as_of=as_of)
    if oldest is None:
        return 0
    return max(0, (as_of - oldest).days - policy.delinquency.grace_days)


def arrears_as_of(ledger: LoanLedger, *, as_of: date, policy: Policy) -> Arrears:
    """Overdue principal, interest, penalty interest and fees as of ``as_of``.

    An instalment is overdue from the day after its due date (it can be paid
    on the due date itself); grace changes DPD and penalty, not what is owed.
    """
    currency = ledger.schedule.currency
    dues: list[InstalmentDue] = []
    for instalment in ledger.schedule.instalments:
        if instalment.due_date >= as_of:
            break
        if ledger.is_settled(instalment.number, as_of):
            continue
        due = ledger.outstanding(instalment.number)
        penalty = due.penalty_interest + uncharged_penalty(ledger, instalment.number, as_of, policy)
        dues.append(replace(due, penalty_interest=penalty))
    dpd = days_past_due(ledger, as_of=as_of, policy=policy)
    return Arrears(
        as_of=as_of,
        principal=Money.total((d.principal for d in dues), currency),
        interest=Money.total((d.interest for d in dues), currency),
        penalty_interest=Money.total((d.penalty_interest for d in dues), currency),
        fees=Money.total((d.fees for d in dues), currency),
        instalments=tuple(dues),
        oldest_unpaid_due_date=oldest_unpaid_due_date(ledger, as_of=as_of),
        days_past_due=dpd,
        bucket=policy.delinquency.bucket_for(dpd),
    )

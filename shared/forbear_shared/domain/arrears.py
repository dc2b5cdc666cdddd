"""Arrears and delinquency of one loan or agreement as of a business date.

The ledger (``LoanLedger``) records, per instalment of a schedule, what has
been paid of each component and how much penalty interest has been charged.
``allocation`` changes it; this module reads it.

How grace applies (policy ``delinquency.grace_days``, demo 3):

* An instalment paid in full (within the allocation tolerance) by its due
  date + grace days counts as paid on time: it is never missed, adds no DPD
  and owes no penalty interest. Grace exists so that a payment delayed by a
  weekend or a bank transfer does not damage the borrower's record.
* Grace counts in the policy's unit (``calendar.units.grace``, demo: working
  days) from the due date as rolled to a working day (``calendar.due_date_roll``):
  due Tuesday 10 March 2026 with 3 working days of grace is on time through
  Friday 13 March; due Friday 13 February 2026 (春节 closes 15-23 February,
  Saturday 14 February is a make-up working day) it is on time through
  Wednesday 25 February (working days 14, 24, 25 February).
* Once grace has passed, DPD counts *calendar* days since the grace cutoff:
  with a due date of 10 March and 3 grace days, DPD is 0 on 10-13 March and
  1 on 14 March (the first day the instalment is missed). So "reminder at
  DPD 1" means the day after grace ends. (With calendar-day grace and no
  roll this is the days since the due date minus the grace days.)
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

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from .calendar import DayCount, daily_rate
from .money import Money
from .policy import Policy
from .schedule import Instalment, Schedule
from .working_days import CalendarYearUnknown, DayUnit, DueDateRoll, WorkingCalendar, payable_by

ROLL_BACK_LIMIT = timedelta(days=14)
"""How far before its nominal date an instalment can fall due once rolled ("preceding" or
"modified following"): no closure in China is longer than 9 days (春节 2026: 15-23 Feb);
14 leaves room for a lender closed day beside it. Instalments nominally due later than
``as_of`` + this cannot be past due on ``as_of``, whatever the calendar of their year."""


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
        for position in self.positions:  # a loop, not all() over a generator: asked at every review
            if position.settled_on is None:
                return False
        return True


def grace_cutoff_of(due_date: date, policy: Policy) -> date:
    """The last day an instalment due on ``due_date`` can be paid and still count as on time:
    the due date rolled to a working day, then the grace days in the policy's unit.
    Raises ``CalendarYearUnknown`` when the calendar does not know a year it must look at."""
    return grace_cutoffs(policy)(due_date)


def grace_cutoffs(policy: Policy) -> Callable[[date], date]:
    """``grace_cutoff_of`` under ``policy``, its calendar and grace looked up once: for a loop over
    a schedule's instalments (monitoring counts the missed ones on every review)."""
    calendar = policy.calendar
    return _cutoffs_on(policy.working_calendar, calendar.due_date_roll, policy.delinquency.grace_days,
                       calendar.units.grace)


@lru_cache(maxsize=64)
def _cutoffs_on(calendar: WorkingCalendar, roll: DueDateRoll, grace_days: int, unit: DayUnit) -> Callable[[date], date]:
    """The grace cutoffs of one calendar and grace rule, remembered by due date: a calendar is
    immutable, and the cutoffs of an agreement's past instalments are asked for on every review
    of it (the policy lab reviews each delinquent agreement daily). An unknown year raises, and
    is not remembered."""
    known: dict[date, date] = {}

    def cutoff(due_date: date) -> date:
        found = known.get(due_date)
        if found is None:
            found = calendar.add(payable_by(due_date, calendar, roll), grace_days, unit)
            if len(known) < _CUTOFFS_KEPT:
                known[due_date] = found
        return found

    return cutoff


_CUTOFFS_KEPT = 65536
"""Due dates whose cutoff is remembered, per calendar and grace rule (some 180 years of days)."""


def grace_cutoff(instalment: Instalment, policy: Policy) -> date:
    """The last day an instalment can be paid and still count as on time."""
    return grace_cutoff_of(instalment.due_date, policy)


def known_grace_cutoff(due_date: date, policy: Policy) -> date | None:
    """``grace_cutoff_of``, or None while the calendar does not know the years it needs
    (a plan's later instalments: monitoring fixes the cutoff before the due date comes)."""
    try:
        return grace_cutoff_of(due_date, policy)
    except CalendarYearUnknown:
        return None


def not_yet_due(due_date: date, as_of: date) -> bool:
    """True when an instalment nominally due on ``due_date`` cannot be past its cutoff on
    ``as_of`` (so its cutoff need not be computed: its year may be unknown yet)."""
    return due_date > as_of + ROLL_BACK_LIMIT


def penalty_rate(schedule: Schedule, policy: Policy) -> Decimal:
    """Annual penalty rate: contract rate x (1 + uplift), e.g. 7 % x 1.5 = 10.5 %."""
    return schedule.annual_rate * (Decimal(1) + policy.delinquency.penalty_uplift)


def uncharged_penalty(ledger: LoanLedger, number: int, as_of: date, policy: Policy) -> Money:
    """Penalty accrued on one instalment up to ``as_of`` not yet charged."""
    schedule = ledger.schedule
    instalment = schedule.instalment(number)
    position = ledger.position(number)
    # the cheap refusals first (all answer zero, so their order changes nothing); penalty runs
    # from the due date, so an instalment not yet due owes none, and its grace cutoff (whose
    # year's holidays may be unpublished yet) is not looked up
    settled_on = position.settled_on
    if ((settled_on is not None and settled_on <= as_of) or instalment.due_date >= as_of
            or as_of <= grace_cutoff(instalment, policy)):
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
    for instalment, position in zip(ledger.schedule.instalments, ledger.positions, strict=True):
        # uncharged_penalty's cheap refusals, checked here without building its zero: penalty
        # runs from the due date, so an instalment not yet due on ``as_of`` owes none
        settled_on = position.settled_on
        if (settled_on is not None and settled_on <= as_of) or instalment.due_date >= as_of:
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
    # ``LoanLedger.is_settled`` inline: instalment k's position is the k-th (numbered 1..n)
    for instalment, position in zip(ledger.schedule.instalments, ledger.positions, strict=True):
        if instalment.due_date >= as_of:
            return None
        settled_on = position.settled_on
        if settled_on is None or settled_on > as_of:
            return instalment.due_date
    return None


def days_past_due(ledger: LoanLedger, *, as_of: date, policy: Policy) -> int:
    """Calendar days since the grace cutoff of the oldest unpaid due date; 0 within grace."""
    return _days_past(oldest_unpaid_due_date(ledger, as_of=as_of), as_of, policy)


def _days_past(oldest: date | None, as_of: date, policy: Policy) -> int:
    """``days_past_due`` from the oldest unpaid due date."""
    if oldest is None:
        return 0
    return max(0, (as_of - grace_cutoff_of(oldest, policy)).days)


def arrears_as_of(ledger: LoanLedger, *, as_of: date, policy: Policy) -> Arrears:
    """Overdue principal, interest, penalty interest and fees as of ``as_of``.

    An instalment is overdue from the day after its due date (it can be paid
    on the due date itself); grace changes DPD and penalty, not what is owed.
    """
    currency = ledger.schedule.currency
    dues: list[InstalmentDue] = []
    for instalment, position in zip(ledger.schedule.instalments, ledger.positions, strict=True):
        if instalment.due_date >= as_of:
            break
        settled_on = position.settled_on  # ``LoanLedger.is_settled`` inline
        if settled_on is not None and settled_on <= as_of:
            continue
        # ``ledger.outstanding``, its penalty accrued to ``as_of``
        penalty = position.penalty_charged - position.penalty_paid + uncharged_penalty(ledger, instalment.number,
                                                                                      as_of, policy)
        dues.append(InstalmentDue(instalment.number, instalment.due_date, fees=instalment.fee - position.fee_paid,
                                  penalty_interest=penalty, interest=instalment.interest - position.interest_paid,
                                  principal=instalment.principal - position.principal_paid))
    if not dues:  # nothing overdue (most days of most agreements): every sum is zero, DPD 0
        zero = Money.zero(currency)
        return Arrears(as_of=as_of, principal=zero, interest=zero, penalty_interest=zero, fees=zero, instalments=(),
                       oldest_unpaid_due_date=None, days_past_due=0, bucket=policy.delinquency.bucket_for(0))
    oldest = dues[0].due_date  # what ``oldest_unpaid_due_date`` finds
    dpd = _days_past(oldest, as_of, policy)
    return Arrears(
        as_of=as_of,
        principal=Money.total((d.principal for d in dues), currency),
        interest=Money.total((d.interest for d in dues), currency),
        penalty_interest=Money.total((d.penalty_interest for d in dues), currency),
        fees=Money.total((d.fees for d in dues), currency),
        instalments=tuple(dues),
        oldest_unpaid_due_date=oldest,
        days_past_due=dpd,
        bucket=policy.delinquency.bucket_for(dpd),
    )

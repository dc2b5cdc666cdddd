"""Payment allocation: where each yuan of a payment goes.

Order (policy ``allocation.order``, demo: fees -> penalty interest ->
interest -> principal) within each instalment, oldest instalment first. The
lender recovers its costs before principal and the oldest debt is cleared
first, which is what shortens DPD fastest for the borrower too.

A payment is identified by its reference: core banking redelivers events,
agents re-enter slips; a reference already applied is the same payment and
changes nothing (the statement says ``duplicate``).

Money beyond the instalments already due pays the next instalments in
advance, in the same order; money beyond the whole schedule is held as
``unapplied`` (for refund), never allocated to nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .arrears import InstalmentPosition, LoanLedger, _charge_penalty
from .money import Money
from .policy import Component, Policy

_COMPONENTS = (Component.FEES, Component.PENALTY_INTEREST, Component.INTEREST, Component.PRINCIPAL)
_SLOT = {component: slot for slot, component in enumerate(_COMPONENTS)}


class AllocationError(ValueError):
    """A payment that cannot be applied, with the reason."""


@dataclass(frozen=True, slots=True)
class Payment:
    reference: str
    received_on: date
    """The business date the money was received."""
    amount: Money

    def __post_init__(self) -> None:
        if not self.reference:
            raise AllocationError("a payment needs a reference (it is how duplicates are recognised)")
        if not self.amount.is_positive():
            raise AllocationError("a payment amount must be positive")


@dataclass(frozen=True, slots=True)
class AllocationLine:
    instalment_number: int
    component: Component
    amount: Money


@dataclass(frozen=True, slots=True)
class AllocationStatement:
    """An exact account of one payment: every line plus what was left over."""

    reference: str
    received_on: date
    amount: Money
    lines: tuple[AllocationLine, ...]
    unapplied: Money
    penalty_charged: Money
    """Penalty interest crystallised up to the payment date before allocating."""
    settled_instalments: tuple[int, ...]
    """Instalments this payment brought to paid (within tolerance)."""
    duplicate: bool = False

    @property
    def allocated(self) -> Money:
        return Money.total((line.amount for line in self.lines), self.amount.currency)

    def total_for(self, component: Component) -> Money:
        return Money.total((line.amount for line in self.lines if line.component is component), self.amount.currency)

    def total_for_instalment(self, number: int) -> Money:
        return Money.total((line.amount for line in self.lines if line.instalment_number == number), self.amount.currency)


def apply_payment(
    ledger: LoanLedger, payment: Payment, policy: Policy
) -> tuple[LoanLedger, AllocationStatement]:
    """Allocate ``payment`` and return the new ledger with its statement.

    Idempotent by reference: a reference already applied returns the ledger
    unchanged and a statement with ``duplicate=True`` and no lines.

    The arithmetic runs on the amounts' decimals: every amount involved is held to the cent
    in the schedule's currency, so sums and differences are exact and need no rounding.
    """
    currency = ledger.schedule.currency
    if payment.amount.currency != currency:
        raise AllocationError(f"payment in {payment.amount.currency} for a loan in {currency}")
    if payment.reference in ledger.applied_references:
        zero = Money.zero(currency)
        return ledger, AllocationStatement(
            payment.reference, payment.received_on, payment.amount, (), zero, zero, (), duplicate=True
        )

    # what was charged is exactly the penalty total after minus before (sums of cents are exact)
    ledger, charged = _charge_penalty(ledger, payment.received_on, policy)

    remaining = payment.amount.amount
    positions = list(ledger.positions)
    lines: list[AllocationLine] = []
    settled: list[int] = []
    # the policy's order as indexes into the per-component lists below (enum-keyed dicts hash
    # through Python code on every look-up: most of this loop's cost)
    order = [_SLOT[component] for component in policy.allocation.order]
    tolerance = policy.allocation.tolerance
    money = Money._exact  # noqa: SLF001 - cents of one checked currency, see above
    for instalment in ledger.schedule.instalments:
        if remaining <= 0:
            break
        position = positions[instalment.number - 1]
        if (position.principal_paid.amount >= instalment.principal.amount
                and position.interest_paid.amount >= instalment.interest.amount
                and position.fee_paid.amount >= instalment.fee.amount
                and position.penalty_paid.amount >= position.penalty_charged.amount):
            continue  # nothing owed on it (the loop below would touch nothing): the paid-up past, cheaply
        # by component, in _COMPONENTS order: paid so far, and outstanding (charged or scheduled minus paid)
        paid_so_far = [position.fee_paid.amount, position.penalty_paid.amount, position.interest_paid.amount,
                       position.principal_paid.amount]
        owed = [instalment.fee.amount - paid_so_far[0], position.penalty_charged.amount - paid_so_far[1],
                instalment.interest.amount - paid_so_far[2], instalment.principal.amount - paid_so_far[3]]
        touched = False
        for slot in order:
            due = owed[slot]
            if due <= 0 or remaining <= 0:
                continue
            paid = due if due <= remaining else remaining
            remaining -= paid
            owed[slot] = due - paid
            paid_so_far[slot] += paid
            lines.append(AllocationLine(instalment.number, _COMPONENTS[slot], money(paid, currency)))
            touched = True
        if not touched:
            continue
        settled_on = position.settled_on
        if settled_on is None and sum(owed) <= tolerance:
            settled_on = payment.received_on
            settled.append(instalment.number)
        positions[instalment.number - 1] = InstalmentPosition(
            position.number,
            money(paid_so_far[0], currency),
            position.penalty_charged,
            money(paid_so_far[1], currency),
            money(paid_so_far[2], currency),
            money(paid_so_far[3], currency),
            position.penalty_accrued_through,
            settled_on,
        )

    left = money(remaining, currency)
    ledger = LoanLedger(
        ledger.schedule,
        tuple(positions),
        ledger.applied_references | {payment.reference},
        ledger.held + left,
    )
    statement = AllocationStatement(
        reference=payment.reference,
        received_on=payment.received_on,
        amount=payment.amount,
        lines=tuple(lines),
        unapplied=left,
        penalty_charged=Money.zero(currency) if charged is None else charged,
        settled_instalments=tuple(settled),
    )
    return ledger, statement


def apply_payments(
    ledger: LoanLedger, payments: list[Payment] | tuple[Payment, ...], policy: Policy
) -> tuple[LoanLedger, tuple[AllocationStatement, ...]]:
    """Apply payments in the order given (core banking's order of receipt)."""
    statements: list[AllocationStatement] = []
    for payment in payments:
        ledger, statement = apply_payment(ledger, payment, policy)
        statements.append(statement)
    return ledger, tuple(statements)

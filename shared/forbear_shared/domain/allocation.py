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

from dataclasses import dataclass, replace
from datetime import date

from .arrears import InstalmentDue, InstalmentPosition, LoanLedger, _charge_penalty
from .money import Money
from .policy import Component, Policy


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


_PAID_FIELD = {
    Component.FEES: "fee_paid",
    Component.PENALTY_INTEREST: "penalty_paid",
    Component.INTEREST: "interest_paid",
    Component.PRINCIPAL: "principal_paid",
}
_DUE_FIELD = {
    Component.FEES: "fees",
    Component.PENALTY_INTEREST: "penalty_interest",
    Component.INTEREST: "interest",
    Component.PRINCIPAL: "principal",
}


def _owed(due: InstalmentDue, component: Component) -> Money:
    owed: Money = getattr(due, _DUE_FIELD[component])
    return owed


def apply_payment(
    ledger: LoanLedger, payment: Payment, policy: Policy
) -> tuple[LoanLedger, AllocationStatement]:
    """Allocate ``payment`` and return the new ledger with its statement.

    Idempotent by reference: a reference already applied returns the ledger
    unchanged and a statement with ``duplicate=True`` and no lines.
    """
    currency = ledger.schedule.currency
    zero = Money.zero(currency)
    if payment.amount.currency != currency:
        raise AllocationError(f"payment in {payment.amount.currency} for a loan in {currency}")
    if payment.reference in ledger.applied_references:
        return ledger, AllocationStatement(
            payment.reference, payment.received_on, payment.amount, (), zero, zero, (), duplicate=True
        )

    # what was charged is exactly the penalty total after minus before (sums of cents are exact)
    ledger, charged = _charge_penalty(ledger, payment.received_on, policy)

    remaining = payment.amount
    lines: list[AllocationLine] = []
    settled: list[int] = []
    tolerance = policy.tolerance
    for instalment in ledger.schedule.instalments:
        if not remaining.is_positive():
            break
        position: InstalmentPosition = ledger.position(instalment.number)
        due = ledger.outstanding(instalment.number)
        changes: dict[str, Money] = {}
        for component in policy.allocation.order:
            owed = _owed(due, component)
            if not owed.is_positive() or not remaining.is_positive():
                continue
            paid = owed.min(remaining)
            remaining = remaining - paid
            field = _PAID_FIELD[component]
            changes[field] = getattr(position, field) + paid
            lines.append(AllocationLine(instalment.number, component, paid))
        if changes:
            position = replace(position, **changes)  # type: ignore[arg-type]
            ledger = ledger.with_position(position)
            if position.settled_on is None and ledger.outstanding(instalment.number).total <= tolerance:
                ledger = ledger.with_position(replace(position, settled_on=payment.received_on))
                settled.append(instalment.number)

    ledger = replace(
        ledger,
        applied_references=ledger.applied_references | {payment.reference},
        unapplied=ledger.held + remaining,
    )
    statement = AllocationStatement(
        reference=payment.reference,
        received_on=payment.received_on,
        amount=payment.amount,
        lines=tuple(lines),
        unapplied=remaining,
        penalty_charged=zero if charged is None else charged,
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

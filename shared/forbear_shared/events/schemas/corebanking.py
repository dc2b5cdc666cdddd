"""Events core banking publishes to us (``corebanking.loans``, ``corebanking.payments``).

The envelope's ``case_id`` (the Kafka key) is the loan id on these topics, so one loan's
snapshots and payments stay in order.
"""

from __future__ import annotations

from pydantic import Field

from forbear_shared.events.registry import registry
from forbear_shared.events.schemas.common import CurrencyCode, LoanSnapshot, Payload, PositiveMoney, RecordDate


@registry.register("loan.snapshot", 1)
class LoanSnapshotted(Payload):
    loan: LoanSnapshot


@registry.register("payment.received", 1)
class PaymentReceived(Payload):
    """A repayment booked by core banking; ``reference`` is unique per payment."""

    reference: str = Field(min_length=1, max_length=64)
    loan_id: str = Field(min_length=1, max_length=64)
    amount: PositiveMoney
    currency: CurrencyCode = "CNY"
    received_on: RecordDate

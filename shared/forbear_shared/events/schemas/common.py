"""Field types every schema shares: money travels as a decimal string, never a float."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer


def _no_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError("money must be a decimal string, not a float")
    return value


DecimalStr = Annotated[Decimal, BeforeValidator(_no_float), PlainSerializer(lambda d: str(d), return_type=str)]

HardshipCategory = Literal[
    "illness",
    "injury",
    "unemployment",
    "natural_disaster",
    "business_closure",
    "income_reduction",
    "project_delay",
    "family_crisis",
    "heavy_debt",
]
Channel = Literal["phone", "email", "branch", "portal"]


class Payload(BaseModel):
    """Payloads ignore unknown fields (a newer producer may add optional ones) and are frozen."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Reason(Payload):
    """A machine-readable reason: ``code`` for pipelines, ``detail`` for people (no personal data)."""

    code: str
    detail: str = ""


class InstalmentDoc(Payload):
    number: int = Field(ge=1)
    due_date: dt.date
    kind: str
    opening_balance: DecimalStr
    principal: DecimalStr
    interest: DecimalStr
    fee: DecimalStr
    total: DecimalStr
    capitalised_interest: DecimalStr = Decimal("0.00")
    closing_balance: DecimalStr


class ScheduleDoc(Payload):
    """A repayment schedule as ``forbear_shared.domain.schedule.Schedule.to_dict`` writes it."""

    method: str
    currency: str = "CNY"
    principal: DecimalStr
    annual_rate: DecimalStr
    day_count: str
    start_date: dt.date
    instalments: list[InstalmentDoc] = Field(min_length=1)


class LoanSnapshot(Payload):
    """A loan as core banking knows it on ``as_of``; amounts overdue as of that date."""

    loan_id: str = Field(min_length=1, max_length=64)
    borrower_id: str = Field(min_length=1, max_length=64)
    product: str = "personal_instalment"
    currency: str = "CNY"
    original_principal: DecimalStr
    outstanding_principal: DecimalStr
    annual_rate: DecimalStr
    original_term_months: int = Field(ge=1)
    remaining_term_months: int = Field(ge=0)
    contractual_instalment: DecimalStr
    overdue_principal: DecimalStr = Decimal("0.00")
    overdue_interest: DecimalStr = Decimal("0.00")
    penalty_interest: DecimalStr = Decimal("0.00")
    fees: DecimalStr = Decimal("0.00")
    days_past_due: int = Field(ge=0, default=0)
    oldest_unpaid_due_date: dt.date | None = None
    next_due_date: dt.date | None = None
    as_of: dt.date

"""Field types every schema shares: money travels as a decimal string, never a float."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema


def _no_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError("money must be a decimal string, not a float")
    return value


def _decimal_schema(pattern: str, description: str) -> WithJsonSchema:
    """What a client must send, stated as the string it is (the validators check the same bounds)."""
    return WithJsonSchema({"type": "string", "pattern": pattern, "description": description}, mode="validation")


_NO_FLOAT = BeforeValidator(_no_float)
_AS_STRING = PlainSerializer(lambda d: str(d), return_type=str)

# The bounds (``Field``) come before the float check: pydantic-core then checks them in its
# decimal validator. After a validator of our own they would be Python functions (digits
# counted through ``Decimal.as_tuple``), three calls per amount: the 16 bounded amounts of a
# ``case.submitted`` made up most of the cost of decoding it.
DecimalStr = Annotated[Decimal, _NO_FLOAT, _AS_STRING]

# Bounds from sense, shared by requests and events; a lender's narrower limits live in its policy.

MoneyAmount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2), _NO_FLOAT, _AS_STRING,
                        _decimal_schema(r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$", "a decimal string, at most 2 decimals")]
"""Money to the cent, below a trillion: twelve whole digits fit every ``numeric(18, 2)`` column."""
PositiveMoney = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2), _NO_FLOAT, _AS_STRING, _decimal_schema(
    r"^(0\.(0[1-9]|[1-9][0-9]?)|[1-9][0-9]{0,11}(\.[0-9]{1,2})?)$", "a decimal string above zero, at most 2 decimals")]
AnnualRate = Annotated[Decimal, Field(ge=0, lt=1, max_digits=7, decimal_places=6), _NO_FLOAT, _AS_STRING,
                       _decimal_schema(r"^0(\.[0-9]{1,6})?$", "a yearly rate as a fraction in [0, 1), e.g. 0.0385")]
"""A yearly rate as a fraction: 100 % a year or more is a typo (55 meant 5.5 % or 55 %)."""
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
"""An ISO 4217 alphabetic code; which ones a lender takes is its policy."""
TermMonths = Annotated[int, Field(ge=1, le=600)]
"""A loan or plan term: fifty years is beyond any consumer loan."""
DaysPastDue = Annotated[int, Field(ge=0, le=10_000)]
RecordDate = Annotated[dt.date, Field(ge=dt.date(1970, 1, 1), le=dt.date(2199, 12, 31))]
"""A business date of a record; a year 0001 or 9999 is a placeholder, not a date."""

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


class Phrase(Payload):
    """A sentence as data (forbear_shared.phrasing): a message catalogue's key and its typed
    arguments, which each page writes in its reader's language."""

    key: str = Field(min_length=1, max_length=120)
    args: dict[str, Any] = {}


class Reason(Payload):
    """A machine-readable reason: ``code`` for pipelines, ``detail`` for people (no personal data),
    in English; ``phrase``, where the producer gives one, the same sentence for the catalogues."""

    code: str
    detail: str = ""
    phrase: Phrase | None = Field(default=None, exclude_if=lambda value: value is None)


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
    #: ``monthly`` (left out, as every schedule before frequencies was), ``weekly``,
    #: ``fortnightly`` or ``every_15_days``
    frequency: str = Field(default="monthly", exclude_if=lambda value: value == "monthly")


class LoanSnapshot(Payload):
    """A loan as core banking knows it on ``as_of``; amounts overdue as of that date."""

    loan_id: str = Field(min_length=1, max_length=64)
    borrower_id: str = Field(min_length=1, max_length=64)
    product: str = Field(default="personal_instalment", min_length=1, max_length=64)
    currency: CurrencyCode = "CNY"
    original_principal: MoneyAmount
    outstanding_principal: MoneyAmount
    annual_rate: AnnualRate
    original_term_months: TermMonths
    remaining_term_months: int = Field(ge=0, le=600)
    contractual_instalment: MoneyAmount
    overdue_principal: MoneyAmount = Decimal("0.00")
    overdue_interest: MoneyAmount = Decimal("0.00")
    penalty_interest: MoneyAmount = Decimal("0.00")
    fees: MoneyAmount = Decimal("0.00")
    days_past_due: DaysPastDue = 0
    oldest_unpaid_due_date: RecordDate | None = None
    next_due_date: RecordDate | None = None
    as_of: RecordDate
    #: the contract's repayment method and frequency (absent: an annuity, monthly)
    repayment_method: Literal["equal_instalment", "equal_principal", "flat_rate"] = Field(
        default="equal_instalment", exclude_if=lambda value: value == "equal_instalment")
    repayment_frequency: Literal["monthly", "weekly", "fortnightly", "every_15_days"] = Field(
        default="monthly", exclude_if=lambda value: value == "monthly")
    #: business dates on which core banking re-aged the loan (re-ageing limits count them)
    reaged_on: list[RecordDate] = Field(default_factory=list, max_length=100, exclude_if=lambda value: not value)
    #: full instalments paid in a row up to ``as_of`` (re-ageing needs a few)
    consecutive_payments: int = Field(default=0, ge=0, le=600, exclude_if=lambda value: value == 0)

"""What callers ask intake to do: the requests, validated before any use case runs (bad
input is 422), and the commands the use cases take (a request, its ids and who asks)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from forbear_shared.auth import Principal
from forbear_shared.domain.policy import RepresentativeKind
from forbear_shared.events.schemas.common import Channel, DaysPastDue, HardshipCategory, LoanSnapshot, MoneyAmount
from forbear_shared.events.schemas.intake import BorrowerHistory
from forbear_shared.http import NON_BLANK_TEXT
from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue

from forbear_intake.adapters.evidence_store import StagedUpload
from forbear_intake.domain.representatives import RepresentativeScope


def _non_blank_strings(schema: dict[str, Any]) -> None:
    """Whitespace is stripped before the length checks, so a required string must say something:
    state it in the contract (the same pattern the guard's no-NUL rule would give it)."""

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "string" and node.get("minLength", 0) >= 1 and "pattern" not in node \
                    and "enum" not in node and "format" not in node:
                node.update(NON_BLANK_TEXT)
            for key in ("items", "anyOf"):
                child = node.get(key)
                for value in child if isinstance(child, list) else [child]:
                    visit(value)

    for prop in schema.get("properties", {}).values():
        visit(prop)


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        _non_blank_strings(schema)
        return schema


class DeclaredLoan(LoanSnapshot):
    """A loan as a case declares it (the snapshot's fields): unknown fields are refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # any date in form: the lender's window around the business date refuses the rest (409)
    oldest_unpaid_due_date: dt.date | None = None
    next_due_date: dt.date | None = None
    as_of: dt.date
    reaged_on: list[dt.date] = Field(default=[], max_length=100, exclude_if=lambda value: not value)


class HistoryFields(BorrowerHistory):
    """The event's history facts as a request states them: unknown fields are refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class BorrowerIn(Command):
    """The borrower's identity. Personal data is stored only in intake and never leaves it."""

    borrower_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    national_id: str | None = Field(default=None, pattern=r"^[0-9A-Za-z]{6,32}$")
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9]{6,20}$")


class OpenCase(Command):
    # stated in the schema as well as checked (no_loans): a case names at least one loan
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["loan_ids"], "properties": {"loan_ids": {"minItems": 1}}},
        {"required": ["loans"], "properties": {"loans": {"minItems": 1}}},
    ]})

    borrower: BorrowerIn
    #: loans already known from ``corebanking.loans``
    loan_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default=[], max_length=50)
    #: loans declared with the case, for those core banking has not sent yet; a core-banking
    #: record is never replaced by a declaration, and a loan of another borrower is refused
    loans: list[DeclaredLoan] = Field(default=[], max_length=50)
    hardship_category: HardshipCategory
    #: the borrower's own words; stays in intake, never in an event
    story: str = Field(default="", max_length=10_000)
    channel: Channel
    #: default: the largest DPD among the case's loans
    dpd_at_first_contact: DaysPastDue | None = None
    #: the lender's records (agent, supervisor or system only)
    history: HistoryFields | None = None
    renegotiates_agreement_id: str | None = Field(default=None, min_length=1, max_length=64)


class StatementLineIn(Command):
    category: str = Field(min_length=1, max_length=64, json_schema_extra=NON_BLANK_TEXT)
    monthly_amount: MoneyAmount


class StatementIn(Command):
    """Monthly income and expenditure (cf. the UK Standard Financial Statement)."""

    income: list[StatementLineIn] = Field(max_length=50)
    essential_expenditure: list[StatementLineIn] = Field(max_length=50)
    other_debt_payments: list[StatementLineIn] = Field(default=[], max_length=50)
    dependants: int = Field(default=0, ge=0, le=30)
    gross_monthly_income: MoneyAmount | None = None


class ReviewIn(Command):
    # stated in the schema as well as checked: a rejection gives a reason (rejection_needs_reason),
    # only a rejection finds a document false (found_false_needs_rejection)
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"properties": {"outcome": {"enum": ["accept", "accepted"]}, "found_false": {"const": False}}},
        {"required": ["reason"],
         "properties": {"outcome": {"enum": ["reject", "rejected"]}, "reason": {"type": "string", "minLength": 1}}},
    ]})

    outcome: Literal["accept", "reject", "accepted", "rejected"]
    #: required when rejecting; the borrower is told why
    reason: str | None = Field(default=None, min_length=1, max_length=500)
    #: the reviewer found the document false (a wilful-default indicator); only with a rejection
    found_false: bool = False

    @property
    def accepted(self) -> bool:
        return self.outcome in ("accept", "accepted")


class ContactIn(Command):
    #: who was (or would be) contacted: borrower, guarantor, or any third party (always refused)
    party: str = Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$")
    channel: Channel
    direction: Literal["outbound", "inbound"] = "outbound"
    #: lender-local time of the attempt on the current business date, HH:MM
    local_time: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    #: free text for the case file only (never in events or logs)
    note: str | None = Field(default=None, max_length=2000)
    #: with party ``representative``: the authorisation the contact goes through
    representative_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


class RepresentativeIn(Command):
    """A borrower's written authorisation of a representative (``domain.representatives``)."""

    kind: RepresentativeKind
    #: personal data: stored in intake, shown masked, never in an event or a log
    name: str = Field(min_length=1, max_length=100)
    #: how the lender reaches the representative
    channel: Channel
    scopes: list[RepresentativeScope] = Field(min_length=1, max_length=len(RepresentativeScope))
    #: business dates, inclusive; the start defaults to the business date the authorisation is recorded on
    starts_on: dt.date | None = None
    ends_on: dt.date
    #: the signed authorisation: an evidence document of type ``representative_authorisation``
    #: on the same case, pending or accepted
    document_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


class HistoryIn(Command):
    """A correction of the lender's records that the wilful-default rules read."""

    history: HistoryFields
    reason: str = Field(min_length=3, max_length=500)


# -- the commands: what a use case is asked, by whom ----------------------------------------


@dataclass(frozen=True)
class NewCase:
    """Open a case: the borrower, their loans and hardship, as the request states them."""

    request: OpenCase
    who: Principal


@dataclass(frozen=True)
class RecordStatement:
    """Record (or replace) the case's income and expenditure while it gathers evidence."""

    case_id: str
    statement: StatementIn
    who: Principal


@dataclass(frozen=True)
class CorrectHistory:
    """Correct the lender's records of the borrower; the reason goes to the audit trail."""

    case_id: str
    correction: HistoryIn
    who: Principal


@dataclass(frozen=True)
class SubmitCase:
    """Send the case to evaluation as it stands."""

    case_id: str
    who: Principal


@dataclass(frozen=True)
class UploadEvidence:
    """Add one evidence document to the case."""

    case_id: str
    document_type: str
    #: the file as the request spooled it, hashed (``sha256``) and measured
    upload: StagedUpload
    #: the media type the request claims; the file's own bytes decide
    declared_type: str | None
    filename: str | None
    who: Principal


@dataclass(frozen=True)
class ReviewEvidence:
    """Accept a document of the case, or reject it with a reason."""

    case_id: str
    document_id: str
    review: ReviewIn
    who: Principal


@dataclass(frozen=True)
class RecordContact:
    """Log a contact attempt about the case's debt, allowed or refused by the contact rules."""

    case_id: str
    contact: ContactIn
    who: Principal


@dataclass(frozen=True)
class EraseCase:
    """Erase a closed case's personal data once its retention has run out."""

    case_id: str
    who: Principal


@dataclass(frozen=True)
class AuthoriseRepresentative:
    """Record the borrower's authorisation of a representative, with its signed document."""

    case_id: str
    authorisation: RepresentativeIn
    who: Principal


@dataclass(frozen=True)
class RevokeRepresentative:
    """End an authorisation now: the very next contact is decided without it."""

    case_id: str
    representative_id: str
    who: Principal

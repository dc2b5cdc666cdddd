"""Events produced by the intake service (topic ``intake.events``, key: case id)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from forbear_shared.events.registry import registry
from forbear_shared.events.schemas.common import (
    Channel,
    HardshipCategory,
    LoanSnapshot,
    MoneyAmount,
    Payload,
)


@registry.register("case.opened", 1)
class CaseOpened(Payload):
    """A borrower's negotiation request. The hardship story stays in intake (free text)."""

    borrower_id: str
    hardship_category: HardshipCategory
    channel: Channel
    dpd_at_first_contact: int = Field(ge=0)
    opened_on: dt.date
    loan_ids: list[str]
    #: set when this case asks to renegotiate an active agreement (dual-tracking guard)
    renegotiates_agreement_id: str | None = None


class StatementLine(Payload):
    category: str
    monthly_amount: MoneyAmount


class Statement(Payload):
    """Income and expenditure, modelled on the UK Standard Financial Statement (monthly)."""

    income: list[StatementLine]
    essential_expenditure: list[StatementLine]
    other_debt_payments: list[StatementLine] = []
    dependants: int = Field(ge=0, le=30, default=0)
    gross_monthly_income: MoneyAmount | None = None


class EvidenceItem(Payload):
    document_id: str
    document_type: str
    status: Literal["pending", "accepted", "rejected"]
    rejection_reason: str | None = None
    #: rejected because the reviewer found it false (a wilful-default indicator)
    found_false: bool = False
    sha256: str


class BorrowerHistory(Payload):
    """Facts from the lender's records that the wilful-default rules need."""

    #: episodes are counted by month, so 24 months hold at most 24 (and 12 months 12 agreements)
    no_contact_delinquencies_24m: int = Field(ge=0, le=24, default=0)
    broken_agreements_12m: int = Field(ge=0, le=12, default=0)
    declaration_untrue: bool = False


@registry.register("case.personal_data_erased", 1)
class CasePersonalDataErased(Payload):
    """A closed case's personal data and evidence files were erased (retention policy).

    Copies elsewhere (a submitted statement, a document's bytes) are to go too. The event names
    what went, never what it was."""

    borrower_id: str
    closed_on: dt.date
    erased_on: dt.date
    policy_version: str
    rule: str
    #: the evidence documents whose files were erased (their rows, types and hashes remain)
    document_ids: list[str]
    #: the borrower's name, national id and phone went too: no other case of theirs needs them
    borrower_erased: bool


@registry.register("case.submitted", 1)
class CaseSubmitted(Payload):
    """Everything evaluation needs, as of the business date of submission.

    A case is submitted again when its evidence changes after a decision asked for more, and
    when its evidence deadline passes (``evidence_deadline_passed``).
    """

    borrower_id: str
    submission: int = Field(ge=1)
    hardship_category: HardshipCategory
    channel: Channel
    dpd_at_first_contact: int = Field(ge=0)
    opened_on: dt.date
    loans: list[LoanSnapshot] = Field(min_length=1)
    statement: Statement | None
    evidence: list[EvidenceItem]
    evidence_deadline: dt.date | None = None
    evidence_deadline_passed: bool = False
    history: BorrowerHistory = BorrowerHistory()
    renegotiates_agreement_id: str | None = None


@registry.register("evidence.received", 1)
class EvidenceReceived(Payload):
    """A document the borrower brought, stored and awaiting review (its content stays in intake)."""

    document_id: str
    document_type: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size_bytes: int = Field(ge=1)
    received_on: dt.date


@registry.register("evidence.reviewed", 1)
class EvidenceReviewed(Payload):
    document_id: str
    document_type: str
    outcome: Literal["accepted", "rejected"]
    reason: str | None = None
    found_false: bool = False
    reviewed_on: dt.date


@registry.register("evidence.requested", 1)
class EvidenceRequested(Payload):
    missing_document_types: list[str]
    deadline: dt.date


@registry.register("contact.recorded", 1)
class ContactRecorded(Payload):
    """A contact attempt, allowed or refused by the contact rules (never the content)."""

    contact_id: str
    party: str
    channel: Channel
    direction: Literal["outbound", "inbound"]
    outcome: Literal["allowed", "refused"]
    refusal_reason: str | None = None
    local_time: str
    on: dt.date
    #: the borrower's authorised representative the contact went through (party ``representative``)
    representative_id: str | None = Field(default=None, exclude_if=lambda value: value is None)


RepresentativeKind = Literal["lawyer", "debt_adviser", "family_member", "other"]
RepresentativeScope = Literal["communications", "negotiation"]


@registry.register("representative.authorised", 1)
class RepresentativeAuthorised(Payload):
    """The borrower authorised a representative (never the representative's name or contact)."""

    representative_id: str
    kind: RepresentativeKind
    scopes: list[RepresentativeScope] = Field(min_length=1)
    starts_on: dt.date
    ends_on: dt.date
    #: the ``representative_authorisation`` evidence document (its sha256 is in evidence.received)
    document_id: str
    authorised_on: dt.date


@registry.register("representative.revoked", 1)
class RepresentativeRevoked(Payload):
    """An authorisation was revoked: from the next contact on, the lender contacts the borrower."""

    representative_id: str
    kind: RepresentativeKind
    scopes: list[RepresentativeScope] = Field(min_length=1)
    starts_on: dt.date
    ends_on: dt.date
    revoked_on: dt.date


@registry.register("renegotiation.requested", 1)
class RenegotiationRequested(Payload):
    """A borrower under an agreement asks to renegotiate: legal referral must wait."""

    agreement_id: str
    borrower_id: str
    requested_on: dt.date

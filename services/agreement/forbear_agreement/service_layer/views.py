"""Read models of the API: offers, agreements, documents, as the console and channels see them.

Each query is given a unit of work and opens its one (read) transaction: ``views.offer(svc.unit_of_work(), ...)``.

A borrower sees only their own cases: anything else is "not found", never "forbidden", so a
borrower cannot learn that someone else's case exists.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import psycopg
from forbear_shared.auth import Principal, visible
from forbear_shared.domain.policy import SigningCodePolicy
from forbear_shared.domain.schedule import Schedule
from forbear_shared.events.schemas.common import DecimalStr, Phrase, ScheduleDoc
from forbear_shared.events.schemas.evaluation import OfferTerms
from forbear_shared.unit_of_work import UnitOfWork
from pydantic import BaseModel, Field

from forbear_agreement.adapters import repository as repo
from forbear_agreement.adapters.repository import Row
from forbear_agreement.domain.signing import AgreementStatus, Party

Reads = UnitOfWork[Any]

OfferStatusName = Literal["open", "accepted", "countered", "expired", "withdrawn"]
AgreementStatusName = Literal["awaiting_signatures", "active", "superseded"]


class CounterProposalView(BaseModel):
    proposed_instalment: DecimalStr | None = None
    proposed_term_months: int | None = None


class OfferView(BaseModel):
    offer_id: str
    case_id: str
    decision_id: str
    borrower_id: str
    rank: int
    option: str
    status: OfferStatusName
    summary: str
    #: the summary's parts as the catalogues' phrases (the console writes them in its language)
    summary_phrases: list[Phrase] = []
    currency: str
    new_instalment: DecimalStr
    old_instalment: DecimalStr
    term_months: int
    annual_rate: DecimalStr
    apr: DecimalStr | None = Field(None, description="annualised rate (年化利率) by the IRR method: periodic IRR x periods per year, a fraction")
    capitalised_arrears: DecimalStr | None = None
    waived_amount: DecimalStr | None = None
    fees: DecimalStr | None = None
    loan_ids: list[str]
    policy_version: str
    decided_on: dt.date
    expires_on: dt.date = Field(description="last business date on which the offer can be accepted")
    status_on: dt.date | None = Field(None, description="business date of the last status change")
    status_reason: str | None = None
    agreement_id: str | None = Field(None, description="the agreement created when this offer was accepted")
    renegotiates_agreement_id: str | None = None
    counter_proposal: CounterProposalView | None = None
    schedule: ScheduleDoc | None = Field(None, description="the whole proposed schedule (omitted in queue listings)")


class OfferPage(BaseModel):
    items: list[OfferView]
    total: int
    limit: int
    offset: int


class SignatureView(BaseModel):
    party: Literal["borrower", "lender"]
    signed_by: str = Field(description="token subject of who signed (or recorded the borrower's signature)")
    signed_role: str
    on_behalf_of_borrower: bool
    document_sha256: str
    signed_on: dt.date = Field(description="business date")
    signed_at: dt.datetime = Field(description="technical timestamp (UTC)")
    channel: Literal["sms", "email"] | None = Field(
        None, description="where the borrower's verified one-time code was sent (none for the lender)")
    otp_verified: bool = Field(False, description="the borrower's one-time code was verified for this document")


class AgreementView(BaseModel):
    agreement_id: str
    case_id: str
    offer_id: str
    borrower_id: str
    status: AgreementStatusName
    option: str
    loan_ids: list[str]
    policy_version: str
    payment_method: str
    document_sha256: str
    accepted_on: dt.date
    activated_on: dt.date | None = None
    supersedes_agreement_id: str | None = None
    awaiting_signature_of: Literal["borrower", "lender"] | None = None
    signatures: list[SignatureView]
    schedule: ScheduleDoc | None = Field(None, description="the agreed schedule (omitted in queue listings)")


class AgreementPage(BaseModel):
    items: list[AgreementView]
    total: int
    limit: int
    offset: int


class SigningCodeView(BaseModel):
    """A code sent to the borrower: where and until when (never the code)."""

    agreement_id: str
    channel: Literal["sms", "email"]
    document_sha256: str = Field(description="the document version the code signs, and no other")
    expires_at: dt.datetime = Field(description="technical timestamp (UTC); a security clock, not a business date")
    max_attempts: int
    resend_after_seconds: int = Field(description="least wait before another code may be requested")


class DocumentView(BaseModel):
    agreement_id: str
    document_sha256: str = Field(description="sha256 (hex) of canonical_json encoded as UTF-8")
    canonical_json: str = Field(description="what is signed: sorted keys, no insignificant whitespace")
    rendered_text: str = Field(description="the same document for people, rendered from canonical_json")
    rendered_media_type: str = "text/plain; charset=utf-8"


def schedule_of(terms: OfferTerms) -> Schedule:
    """The one schedule the borrower signs and monitoring follows: the plan's, with an
    arrears-instalments plan's interest-free parts paid on top of its first instalments."""
    schedule = Schedule.from_dict(terms.schedule.model_dump(mode="json"))
    if terms.arrears_schedule is None:
        return schedule
    return schedule.with_parts(Schedule.from_dict(terms.arrears_schedule.model_dump(mode="json")))


def offer_view(row: Row, *, with_schedule: bool = True) -> OfferView:
    terms = OfferTerms.model_validate(row["terms"])
    counter = row.get("counter_proposal")
    return OfferView(
        offer_id=row["offer_id"],
        case_id=row["case_id"],
        decision_id=row["decision_id"],
        borrower_id=row["borrower_id"],
        rank=row["rank"],
        option=row["option"],
        status=row["status"],
        summary=terms.summary,
        summary_phrases=terms.summary_phrases,
        currency=terms.schedule.currency,
        new_instalment=terms.new_instalment,
        old_instalment=terms.old_instalment,
        term_months=terms.term_months,
        annual_rate=terms.annual_rate,
        apr=terms.apr,
        capitalised_arrears=terms.capitalised_arrears,
        waived_amount=terms.waived_amount,
        fees=terms.fees,
        loan_ids=list(terms.loan_ids),
        policy_version=row["policy_version"],
        decided_on=row["decided_on"],
        expires_on=row["expires_on"],
        status_on=row["status_on"],
        status_reason=row["status_reason"],
        agreement_id=row.get("agreement_id"),
        renegotiates_agreement_id=row["renegotiates_agreement_id"],
        counter_proposal=CounterProposalView.model_validate(counter) if counter else None,
        schedule=ScheduleDoc.model_validate(schedule_of(terms).to_dict()) if with_schedule else None,
    )


def agreement_view(row: Row, signatures: list[Row], *, with_schedule: bool = True) -> AgreementView:
    signed = {s["party"] for s in signatures}
    awaiting: Any = None
    if row["status"] == AgreementStatus.AWAITING_SIGNATURES.value:
        awaiting = Party.BORROWER.value if Party.BORROWER.value not in signed else Party.LENDER.value
    return AgreementView(
        agreement_id=row["agreement_id"],
        case_id=row["case_id"],
        offer_id=row["offer_id"],
        borrower_id=row["borrower_id"],
        status=row["status"],
        option=row["option"],
        loan_ids=list(row["loan_ids"]),
        policy_version=row["policy_version"],
        payment_method=row["payment_method"],
        document_sha256=row["document_sha256"],
        accepted_on=row["accepted_on"],
        activated_on=row["activated_on"],
        supersedes_agreement_id=row["supersedes_agreement_id"],
        awaiting_signature_of=awaiting,
        signatures=[
            SignatureView(
                party=s["party"],
                signed_by=s["signed_by"],
                signed_role=s["signed_role"],
                on_behalf_of_borrower=s["on_behalf_of_borrower"],
                document_sha256=s["document_sha256"],
                signed_on=s["signed_on"],
                signed_at=s["signed_at"],
                channel=s.get("channel"),
                otp_verified=bool(s.get("otp_verified")),
            )
            for s in signatures
        ],
        schedule=ScheduleDoc.model_validate(row["schedule"]) if with_schedule else None,
    )


def signing_code_view(row: Row, rules: SigningCodePolicy) -> SigningCodeView:
    return SigningCodeView(agreement_id=row["agreement_id"], channel=row["channel"],
                           document_sha256=row["document_sha256"], expires_at=row["expires_at"],
                           max_attempts=row["max_attempts"], resend_after_seconds=rules.resend_after_seconds)


# -- queries --------------------------------------------------------------------


def case_offers(uow: Reads, case_id: str, who: Principal) -> list[OfferView]:
    with uow:
        case = uow.conn.execute("select borrower_id from cases where case_id = %s", (case_id,)).fetchone()
        visible(who, case, "case", case_id)
        rows = uow.conn.execute(
            f"{_OFFERS} where o.case_id = %s order by o.decided_on desc, o.created_at desc, o.rank", (case_id,)
        ).fetchall()
    return [offer_view(row) for row in rows]


def offer(uow: Reads, offer_id: str, who: Principal) -> OfferView:
    with uow:
        row = uow.conn.execute(f"{_OFFERS} where o.offer_id = %s", (offer_id,)).fetchone()
    visible(who, row, "offer", offer_id)
    return offer_view(row)


def offers(uow: Reads, *, status: str | None, case_id: str | None, limit: int, offset: int) -> OfferPage:
    where, args = _filters(("o.status", status), ("o.case_id", case_id))
    with uow:
        total = uow.conn.execute(f"select count(*) as n from offers o {where}", args).fetchone()
        rows = uow.conn.execute(
            f"{_OFFERS} {where} order by o.expires_on, o.case_id, o.rank limit %s offset %s", (*args, limit, offset)
        ).fetchall()
    return OfferPage(items=[offer_view(r, with_schedule=False) for r in rows], total=_count(total),
                     limit=limit, offset=offset)


def agreement(uow: Reads, agreement_id: str, who: Principal) -> AgreementView:
    with uow:
        row = agreement_row(uow.conn, agreement_id, who)
        signatures = repo.signatures_of(uow.conn, [agreement_id])[agreement_id]
    return agreement_view(row, signatures)


def agreements(uow: Reads, *, status: str | None, case_id: str | None, limit: int, offset: int) -> AgreementPage:
    where, args = _filters(("status", status), ("case_id", case_id))
    with uow:
        total = uow.conn.execute(f"select count(*) as n from agreements {where}", args).fetchone()
        rows = uow.conn.execute(
            f"select * from agreements {where} order by accepted_on, created_at limit %s offset %s",
            (*args, limit, offset),
        ).fetchall()
        signatures = repo.signatures_of(uow.conn, [r["agreement_id"] for r in rows])
    return AgreementPage(
        items=[agreement_view(r, signatures[r["agreement_id"]], with_schedule=False) for r in rows],
        total=_count(total), limit=limit, offset=offset,
    )


def document(uow: Reads, agreement_id: str, who: Principal) -> DocumentView:
    with uow:
        row = agreement_row(uow.conn, agreement_id, who)
    return DocumentView(
        agreement_id=agreement_id,
        document_sha256=row["document_sha256"],
        canonical_json=row["document_canonical"],
        rendered_text=row["document_rendered"],
    )


#: an offer with the agreement it became, if any
_OFFERS = "select o.*, a.agreement_id from offers o left join agreements a on a.offer_id = o.offer_id"


def agreement_row(conn: psycopg.Connection, agreement_id: str, who: Principal) -> Row:
    row = conn.execute("select * from agreements where agreement_id = %s", (agreement_id,)).fetchone()
    visible(who, row, "agreement", agreement_id)
    return row


def _filters(*pairs: tuple[str, str | None]) -> tuple[str, tuple[Any, ...]]:
    clauses = [f"{column} = %s" for column, value in pairs if value is not None]
    args = tuple(value for _, value in pairs if value is not None)
    return ("where " + " and ".join(clauses) if clauses else ""), args


def _count(row: Row | None) -> int:
    return int(row["n"]) if row else 0

"""Whose loan a case may name, and what a loan declared with a case may say.

Core banking (``corebanking.loans``) is the lender's record of its loans. A case may name a
loan core banking told us about, or declare one core banking has not sent yet; a declaration
never replaces core banking's figures, and no case may name another borrower's loan. When
core banking's snapshot of a declared loan arrives, it replaces the declaration whatever date
the declaration claimed, so a made-up ``as_of`` cannot hold the lender's record back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from forbear_shared.domain.calendar import add_days, add_months
from forbear_shared.domain.policy import Policy


class LoanSource(StrEnum):
    COREBANKING = "corebanking"
    CASE = "case"


@dataclass(frozen=True)
class LoanRecord:
    """What intake holds about one loan: whose it is, who said so, as of when, and how far
    behind it was then."""

    loan_id: str
    borrower_id: str
    source: LoanSource
    as_of: date
    days_past_due: int


class Claim(StrEnum):
    """What naming or declaring a loan with a case does to intake's record of it."""

    DECLARE = "declare"
    """Unknown so far: the declaration is stored."""
    UNKNOWN = "unknown"
    """Named by id only, and neither core banking nor a case ever told us about it: refused."""
    REDECLARE = "redeclare"
    """Declared earlier for the same borrower, never sent by core banking: the new declaration replaces it."""
    REFERENCE = "reference"
    """Core banking's record of this borrower's loan: the case refers to it, the record stays as it is."""
    FOREIGN = "foreign"
    """Another borrower's loan: refused, nothing is written."""


def claim(record: LoanRecord | None, borrower_id: str, *, declared: bool) -> Claim:
    """What a case of ``borrower_id`` naming (or, ``declared``, giving the figures of) a loan does."""
    if record is None:
        return Claim.DECLARE if declared else Claim.UNKNOWN
    if record.borrower_id != borrower_id:
        return Claim.FOREIGN
    if declared and record.source is LoanSource.CASE:
        return Claim.REDECLARE
    return Claim.REFERENCE


def snapshot_replaces(record: LoanRecord | None, as_of: date) -> bool:
    """Does core banking's snapshot as of ``as_of`` replace what intake holds?

    A declaration always gives way; among core banking's own snapshots an older one never
    overwrites a newer one (Kafka may redeliver).
    """
    return record is None or record.source is LoanSource.CASE or record.as_of <= as_of


class DeclaredLoan(Protocol):
    """The fields of a loan snapshot (``LoanSnapshot`` of the event schemas) the ownership rules
    and the limits read."""

    @property
    def loan_id(self) -> str: ...
    @property
    def borrower_id(self) -> str: ...
    @property
    def days_past_due(self) -> int: ...
    @property
    def currency(self) -> str: ...
    @property
    def original_term_months(self) -> int: ...
    @property
    def remaining_term_months(self) -> int: ...
    @property
    def as_of(self) -> date: ...
    @property
    def oldest_unpaid_due_date(self) -> date | None: ...
    @property
    def next_due_date(self) -> date | None: ...
    @property
    def reaged_on(self) -> Sequence[date]: ...


class LoanRefusal(StrEnum):
    CURRENCY_NOT_ACCEPTED = "currency_not_accepted"
    TERM_ABOVE_POLICY = "term_above_policy"
    REMAINING_TERM_ABOVE_ORIGINAL = "remaining_term_above_original"
    AS_OF_OUTSIDE_WINDOW = "as_of_outside_window"
    OLDEST_UNPAID_DUE_DATE_OUT_OF_RANGE = "oldest_unpaid_due_date_out_of_range"
    NEXT_DUE_DATE_OUT_OF_RANGE = "next_due_date_out_of_range"
    REAGED_ON_OUT_OF_RANGE = "reaged_on_out_of_range"


def declared_loan_refusals(loan: DeclaredLoan, today: date, policy: Policy) -> list[LoanRefusal]:
    """Why a loan declared with a case on business date ``today`` cannot be taken (empty: it can).

    The event schema already bounds every field by sense; these are the lender's own limits
    (policy ``loans``) and the loan's dates against each other and the business date.
    """
    rules = policy.loans
    refusals: list[LoanRefusal] = []
    if loan.currency not in rules.currencies:
        refusals.append(LoanRefusal.CURRENCY_NOT_ACCEPTED)
    if loan.original_term_months > rules.max_term_months:
        refusals.append(LoanRefusal.TERM_ABOVE_POLICY)
    if loan.remaining_term_months > loan.original_term_months:
        refusals.append(LoanRefusal.REMAINING_TERM_ABOVE_ORIGINAL)
    window = rules.snapshot_window_days
    if not add_days(today, -window) <= loan.as_of <= add_days(today, window):
        refusals.append(LoanRefusal.AS_OF_OUTSIDE_WINDOW)
        return refusals  # the other dates are judged against a snapshot date that is not one
    # the oldest unpaid due date is behind the snapshot but not before the loan began; the next
    # one ahead of it, within the remaining term
    oldest = loan.oldest_unpaid_due_date
    if oldest is not None and not add_months(loan.as_of, -loan.original_term_months) <= oldest <= loan.as_of:
        refusals.append(LoanRefusal.OLDEST_UNPAID_DUE_DATE_OUT_OF_RANGE)
    following = loan.next_due_date
    if following is not None and not (
        loan.as_of <= following <= add_months(loan.as_of, max(1, loan.remaining_term_months))
    ):
        refusals.append(LoanRefusal.NEXT_DUE_DATE_OUT_OF_RANGE)
    # a re-ageing happened during the loan's life, on or before the snapshot
    began = add_months(loan.as_of, -loan.original_term_months)
    if any(not began <= day <= loan.as_of for day in loan.reaged_on):
        refusals.append(LoanRefusal.REAGED_ON_OUT_OF_RANGE)
    return refusals

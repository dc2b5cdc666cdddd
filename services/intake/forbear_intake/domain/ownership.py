"""Whose case, loans and agreement a request may name: the ownership rules of intake.

A borrower sees only their own cases (anyone else's does not exist for them: 404), opens cases
only for themself and never states the lender's records of their history. A case names at
least one loan, each of its borrower; a loan declared with the case must pass the lender's
limits (``loan_records.declared_loan_refusals``); a loan named by id must be known. A case
that renegotiates an agreement names an active agreement of the same borrower, within the
renegotiation limit of the policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from forbear_shared.domain.policy import Policy
from forbear_shared.domain.renegotiation import renegotiation_allowed
from forbear_shared.errors import Conflict, Forbidden, Unprocessable

from forbear_intake.domain.loan_records import Claim, DeclaredLoan, LoanRecord, claim, declared_loan_refusals


def check_opener(role: str, caller_borrower_id: str | None, borrower_id: str, *, history_given: bool) -> None:
    """May this caller open a case for ``borrower_id``? Raises ``Forbidden`` with the reason."""
    if role != "borrower":
        return
    if borrower_id != caller_borrower_id:
        raise Forbidden("not_own_borrower", "a borrower may open cases only for themself")
    if history_given:
        raise Forbidden("history_is_lender_record", "the borrower's history comes from the lender's records")


def named_loans(loan_ids: Sequence[str], declared: Sequence[DeclaredLoan]) -> list[str]:
    """The loans a case names, once each, those named by id first."""
    return list(dict.fromkeys([*loan_ids, *(loan.loan_id for loan in declared)]))


def check_declarations(borrower_id: str, loan_ids: Sequence[str], declared: Sequence[DeclaredLoan],
                       today: date, policy: Policy) -> None:
    """What the request alone says about its loans, before any record is read."""
    if not loan_ids and not declared:
        raise Unprocessable("no_loans", "a case needs at least one loan (loan_ids or loans)")
    for loan in declared:
        if loan.borrower_id != borrower_id:
            raise Conflict("loan_not_of_borrower", f"loan {loan.loan_id} belongs to another borrower")
    for loan in declared:
        refusals = [r.value for r in declared_loan_refusals(loan, today, policy)]
        if refusals:
            # valid in form, refused by the lender's policy on this business date
            raise Conflict(refusals[0], f"loan {loan.loan_id} refused: {', '.join(refusals)}")


@dataclass(frozen=True)
class CaseLoans:
    """The loans of a new case and what opening it writes of them."""

    loan_ids: tuple[str, ...]
    #: loans not known so far: their declarations are stored
    declare: tuple[str, ...]
    #: earlier declarations of the same borrower's loans, replaced by these
    redeclare: tuple[str, ...]
    #: the case's DPD when the request gives none: the largest among its loans
    largest_days_past_due: int

    @property
    def declared(self) -> tuple[str, ...]:
        """The loans whose figures this case's declaration stores, in the case's order."""
        return tuple(i for i in self.loan_ids if i in self.declare or i in self.redeclare)


def loans_of_new_case(borrower_id: str, loan_ids: Sequence[str], declared: Sequence[DeclaredLoan],
               records: Mapping[str, LoanRecord]) -> CaseLoans:
    """The loans a case of ``borrower_id`` may be opened on, given intake's records of them
    (``records``, locked by the caller); refused with ``Conflict`` when one is another
    borrower's or unknown."""
    by_id = {loan.loan_id: loan for loan in declared}
    named = named_loans(loan_ids, declared)
    claims = {i: claim(records.get(i), borrower_id, declared=i in by_id) for i in named}
    foreign = [i for i in named if claims[i] is Claim.FOREIGN]
    if foreign:
        raise Conflict("loan_of_another_borrower", f"loans of another borrower: {', '.join(foreign)}")
    unknown = [i for i in named if claims[i] is Claim.UNKNOWN]
    if unknown:
        raise Conflict("unknown_loan", f"loans not known from core banking: {', '.join(unknown)}")
    declare = tuple(i for i in named if claims[i] is Claim.DECLARE)
    redeclare = tuple(i for i in named if claims[i] is Claim.REDECLARE)
    # a declaration that is stored is the loan's record; otherwise the record stays as it is
    dpd = max(by_id[i].days_past_due if i in declare or i in redeclare else records[i].days_past_due for i in named)
    return CaseLoans(tuple(named), declare, redeclare, dpd)


@dataclass(frozen=True)
class AgreementHeld:
    """An agreement intake heard was activated: whose it is."""

    agreement_id: str
    borrower_id: str


def check_renegotiation(agreement_id: str, agreement: AgreementHeld | None, borrower_id: str,
                        requested_on: Sequence[date], today: date, policy: Policy) -> None:
    """May a case of ``borrower_id`` renegotiate ``agreement_id`` on ``today``, given the dates
    it was asked for before (``requested_on``)?"""
    if agreement is None or agreement.borrower_id != borrower_id:
        raise Unprocessable("unknown_agreement", f"no active agreement {agreement_id} of this borrower")
    if not renegotiation_allowed(requested_on, on=today, policy=policy).allowed:
        limit = policy.renegotiation
        raise Conflict(
            "renegotiation_limit",
            f"agreement {agreement_id} was already renegotiated {limit.max_per_agreement} time(s) "
            f"in the last {limit.window_months} months",
        )

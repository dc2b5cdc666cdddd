"""The read side of evaluation's API: decisions and the supervisor review queue, as served.

Each view opens its own unit of work (one read-only transaction) and answers from one query
shaped for the API; the use cases build the same views from what they write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

from forbear_shared import locale
from forbear_shared.auth import Principal, visible
from forbear_shared.domain import rights
from forbear_shared.domain.policy import Policy
from forbear_shared.errors import NotFound
from forbear_shared.events.schemas.common import Reason
from forbear_shared.events.schemas.evaluation import OfferTerms
from forbear_shared.unit_of_work import UnitOfWork
from pydantic import BaseModel

from forbear_evaluation.bootstrap import Evaluation

ReviewStatus = Literal["open", "decided", "superseded"]
AppealStatus = Literal["pending", "upheld", "overturned"]
Row = dict[str, Any]


class DecisionView(BaseModel):
    decision_id: str
    case_id: str
    borrower_id: str
    submission: int
    trigger: Literal["submission", "counter_proposal", "supervisor_review", "appeal"]
    outcome: Literal["approve", "needs_supervisor", "need_more_evidence", "decline"]
    decided_by: Literal["rules", "supervisor"]
    #: the supervisor who decided (staff only)
    decided_by_subject: str | None = None
    override_reason: str | None = None
    reasons: list[Reason]
    offers: list[OfferTerms]
    policy_version: str
    decided_on: dt.date
    supersedes_decision_id: str | None = None
    #: what the rules saw: affordability, priority band, missing evidence, value tests
    assessment: dict[str, Any] = {}
    #: the borrower's right to appeal a decline: the last business date to lodge an appeal
    appeal_deadline: dt.date | None = None
    #: the borrower's rights under the policy ([rights]), in each language the lender writes in:
    #: how to appeal and by when (a decline), what the lender may not do, where free advice is found
    rights: dict[str, list[str]] = {}


class CaseDecisionsView(BaseModel):
    case_id: str
    decisions: list[DecisionView]


class AuditEntry(BaseModel):
    action: str
    actor_subject: str
    actor_role: str
    reason: str | None
    before: dict[str, Any] | None
    after: dict[str, Any]
    business_date: dt.date
    at: dt.datetime


class ReviewView(BaseModel):
    review_id: str
    case_id: str
    borrower_id: str
    status: ReviewStatus
    opened_on: dt.date
    closed_on: dt.date | None
    #: the rules' decision that asked for the review, and the supervisor's decision
    decision_id: str
    outcome_decision_id: str | None
    policy_version: str
    reasons: list[Reason]
    offers: list[OfferTerms]
    assessment: dict[str, Any] = {}


class ReviewDetailView(ReviewView):
    audit: list[AuditEntry]


class ReviewList(BaseModel):
    reviews: list[ReviewView]


class AppealEvidence(BaseModel):
    document_type: str
    description: str


class AppealView(BaseModel):
    appeal_id: str
    case_id: str
    borrower_id: str
    #: the decline appealed
    decision_id: str
    status: AppealStatus
    lodged_on: dt.date
    #: the last day of the appeal window it was lodged in
    deadline: dt.date
    lodged_by: Literal["borrower", "representative"]
    representative_id: str | None = None
    #: the borrower's grounds (null once the closed case's personal data was erased)
    statement: str | None
    evidence: list[AppealEvidence]
    decided_on: dt.date | None = None
    #: the reviewing supervisor, and the supervisor who made the decision appealed (staff only;
    #: null when the rules decided): the two are never the same
    decided_by_subject: str | None = None
    decision_decided_by_subject: str | None = None
    decision_reason: str | None = None
    #: overturned: the decision that sent the case back to be evaluated again
    outcome_decision_id: str | None = None


class AppealList(BaseModel):
    appeals: list[AppealView]


def appeal_view(row: Mapping[str, Any], *, staff: bool) -> AppealView:
    """An appeal as ``who`` may see it: a borrower is not told which supervisors decided."""
    view = AppealView.model_validate(dict(row))
    return view if staff else view.model_copy(update={"decided_by_subject": None,
                                                      "decision_decided_by_subject": None})


_APPEALS = ("select a.*, d.decided_by_subject as decision_decided_by_subject "
            "from appeals a join decisions d on d.decision_id = a.decision_id ")


def appeals(uow: UnitOfWork[Evaluation], status: AppealStatus | None, limit: int, offset: int) -> AppealList:
    """The supervisors' queue of appeals to review, oldest first."""
    where, args = ("where a.status = %s ", (status,)) if status else ("", ())
    with uow:
        rows = uow.conn.execute(_APPEALS + where + "order by a.created_at, a.appeal_id limit %s offset %s",
                                (*args, limit, offset)).fetchall()
    return AppealList(appeals=[appeal_view(r, staff=True) for r in rows])


def _check_case(uow: UnitOfWork[Evaluation], case_id: str, who: Principal) -> None:
    """The case exists and, for a borrower, is theirs: a borrower never learns whether someone
    else's case exists (404, not 403)."""
    case: Row | None = uow.conn.execute(  # type: ignore[assignment]
        "select borrower_id from cases where case_id = %s", (case_id,)).fetchone()
    visible(who, case, "case", case_id)


def case_appeals(uow: UnitOfWork[Evaluation], case_id: str, who: Principal) -> AppealList:
    """A case's appeals, oldest first; a borrower never learns whether someone else's case exists."""
    with uow:
        _check_case(uow, case_id, who)
        rows = uow.conn.execute(_APPEALS + "where a.case_id = %s order by a.created_at, a.appeal_id",
                                (case_id,)).fetchall()
    return AppealList(appeals=[appeal_view(r, staff=who.is_staff) for r in rows])


def appeal(uow: UnitOfWork[Evaluation], appeal_id: str) -> AppealView:
    with uow:
        row = uow.conn.execute(_APPEALS + "where a.appeal_id = %s", (appeal_id,)).fetchone()
    if row is None:
        raise NotFound("appeal", appeal_id)
    return appeal_view(row, staff=True)


def decision_view(row: Mapping[str, Any], policy: Policy, *, staff: bool) -> DecisionView:
    """A decision as ``who`` may see it, with the borrower's rights: a borrower is not told
    which supervisor decided."""
    view = DecisionView.model_validate(dict(row))
    stated = rights.on_decision(policy.rights, view.outcome, appeal_by=view.appeal_deadline)
    view = view.model_copy(update={"rights": dict(locale.rights_text(stated))})
    return view if staff else view.model_copy(update={"decided_by_subject": None})


_REVIEWS = (
    "select r.*, d.reasons, d.offers, d.policy_version, d.decided_on, d.assessment "
    "from reviews r join decisions d on d.decision_id = r.decision_id "
)


def case_decisions(uow: UnitOfWork[Evaluation], case_id: str, who: Principal) -> CaseDecisionsView:
    """Every decision on a case, oldest first. A borrower never learns whether someone else's case
    exists: 404, not 403."""
    with uow:
        _check_case(uow, case_id, who)
        rows: list[Row] = uow.conn.execute(  # type: ignore[assignment]
            "select * from decisions where case_id = %s order by created_at, decision_id", (case_id,)
        ).fetchall()
    return CaseDecisionsView(case_id=case_id, decisions=[decision_view(r, uow.policy, staff=who.is_staff) for r in rows])


def decision(uow: UnitOfWork[Evaluation], decision_id: str, who: Principal) -> DecisionView:
    with uow:
        row: Row | None = uow.conn.execute(  # type: ignore[assignment]
            "select * from decisions where decision_id = %s", (decision_id,)).fetchone()
    return decision_view(visible(who, row, "decision", decision_id), uow.policy, staff=who.is_staff)


def reviews(uow: UnitOfWork[Evaluation], status: ReviewStatus | None, limit: int, offset: int,
            case_id: str | None = None) -> ReviewList:
    clauses = [(c, v) for c, v in (("r.status = %s", status), ("r.case_id = %s", case_id)) if v]
    where = ("where " + " and ".join(c for c, _ in clauses) + " ") if clauses else ""
    with uow:
        rows = uow.conn.execute(
            _REVIEWS + where + "order by r.created_at, r.review_id limit %s offset %s",
            (*(v for _, v in clauses), limit, offset),
        ).fetchall()
    return ReviewList(reviews=[ReviewView.model_validate(r) for r in rows])


def review(uow: UnitOfWork[Evaluation], review_id: str) -> ReviewDetailView:
    """One review with its audit trail (who, when, why, before and after)."""
    with uow:
        row = uow.conn.execute(_REVIEWS + "where r.review_id = %s", (review_id,)).fetchone()
        if row is None:
            raise NotFound("review", review_id)
        audit = uow.conn.execute("select * from review_audit where review_id = %s order by id", (review_id,)).fetchall()
    return ReviewDetailView(**ReviewView.model_validate(row).model_dump(),
                            audit=[AuditEntry.model_validate(a) for a in audit])

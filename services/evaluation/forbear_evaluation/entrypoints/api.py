"""HTTP door of the evaluation service: decisions and the supervisor review queue.

Decisions are made by the worker from ``case.submitted`` and ``offer.countered`` events; this API
reads them and lets a supervisor decide the cases the rules routed to a review.
"""


import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query
from forbear_shared import business_date, idempotency
from forbear_shared.auth import Principal
from forbear_shared.db import transaction
from forbear_shared.errors import NotFound
from forbear_shared.events.schemas.common import Reason
from forbear_shared.events.schemas.evaluation import OfferTerms
from forbear_shared.http import (
    NON_BLANK_TEXT,
    Authz,
    IdempotencyKey,
    Limit,
    Offset,
    create_service_app,
    idempotent_json,
    problems,
)
from forbear_shared.topics import EVALUATION_EVENTS
from pydantic import BaseModel, ConfigDict, Field

from forbear_evaluation import bootstrap
from forbear_evaluation.adapters import repository as repo
from forbear_evaluation.service_layer.decisions import ReviewCommand


class BusinessDateView(BaseModel):
    business_date: dt.date


class DecisionView(BaseModel):
    decision_id: str
    case_id: str
    borrower_id: str
    submission: int
    trigger: Literal["submission", "counter_proposal", "supervisor_review"]
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
    status: Literal["open", "decided", "superseded"]
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


class DecideReview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["approve", "decline"]
    reason: str = Field(min_length=1, max_length=4000, description="the supervisor's written reason (audited)",
                        # stated for clients; a blank one is refused with reason_required
                        json_schema_extra=NON_BLANK_TEXT)
    offer_ranks: list[Annotated[int, Field(ge=1, le=50)]] | None = Field(
        max_length=50,
        default=None, description="approve only these offers of the rules' decision (default: all), in this order"
    )


def _decision_view(row: dict[str, Any], staff: bool) -> DecisionView:
    view = DecisionView.model_validate(row)
    if not staff:
        view = view.model_copy(update={"decided_by_subject": None})
    return view


def _review_view(row: dict[str, Any]) -> ReviewView:
    return ReviewView.model_validate(row)


def create_app() -> FastAPI:
    ctx = bootstrap.context()
    evaluation = bootstrap.evaluation(ctx)
    authz = Authz.from_settings(ctx.settings)
    router = APIRouter()
    Anyone = Annotated[Principal, Depends(authz.roles("agent", "supervisor", "system", "borrower"))]
    StaffOrBorrower = Annotated[Principal, Depends(authz.roles("agent", "supervisor", "borrower"))]
    Staff = Annotated[Principal, Depends(authz.roles("agent", "supervisor"))]
    Supervisor = Annotated[Principal, Depends(authz.roles("supervisor"))]

    @router.get("/business-date", response_model=BusinessDateView, tags=["business date"],
                summary="The business date as this service last heard it from close of business")
    def get_business_date(_who: Anyone) -> BusinessDateView:
        with transaction(ctx.pool) as conn:
            return BusinessDateView(business_date=business_date.current(conn, ctx.settings.initial_business_date))

    def _own_case(conn: Any, case_id: str, who: Principal) -> dict[str, Any]:
        case = repo.get_case(conn, case_id)
        # a borrower never learns whether someone else's case exists: 404, not 403
        if case is None or (who.role == "borrower" and case["borrower_id"] != who.borrower_id):
            raise NotFound("case", case_id)
        return case

    @router.get("/cases/{case_id}/decisions", response_model=CaseDecisionsView, tags=["decisions"],
                responses=problems(404),
                summary="Every decision on a case, oldest first, with reasons, offers and policy version")
    def case_decisions(case_id: str, who: StaffOrBorrower) -> CaseDecisionsView:
        with transaction(ctx.pool) as conn:
            _own_case(conn, case_id, who)
            rows = repo.decisions_for_case(conn, case_id)
        return CaseDecisionsView(case_id=case_id, decisions=[_decision_view(r, who.is_staff) for r in rows])

    @router.get("/decisions/{decision_id}", response_model=DecisionView, tags=["decisions"],
                responses=problems(404),
                summary="One decision")
    def get_decision(decision_id: str, who: StaffOrBorrower) -> DecisionView:
        with transaction(ctx.pool) as conn:
            row = repo.get_decision(conn, decision_id)
            if row is None or (who.role == "borrower" and row["borrower_id"] != who.borrower_id):
                raise NotFound("decision", decision_id)
        return _decision_view(row, who.is_staff)

    @router.get("/reviews", response_model=ReviewList, tags=["supervisor review"],
                summary="The supervisor review queue (agents may read it), oldest first")
    def list_reviews(
        _who: Staff,
        status: Annotated[Literal["open", "decided", "superseded"] | None, Query()] = "open",
        case_id: Annotated[str | None, Query(max_length=64, description="one case's reviews")] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> ReviewList:
        with transaction(ctx.pool) as conn:
            rows = repo.list_reviews(conn, status, limit, offset, case_id)
        return ReviewList(reviews=[_review_view(r) for r in rows])

    def _review_detail(conn: Any, review_id: str) -> ReviewDetailView:
        rows = [r for r in repo.list_reviews_by_id(conn, review_id)]
        if not rows:
            raise NotFound("review", review_id)
        audit = [AuditEntry.model_validate(a) for a in repo.audit_of_review(conn, review_id)]
        return ReviewDetailView(**_review_view(rows[0]).model_dump(), audit=audit)

    @router.get("/reviews/{review_id}", response_model=ReviewDetailView, tags=["supervisor review"],
                responses=problems(404),
                summary="One review with its audit trail (who, when, why, before and after)")
    def get_review(review_id: str, _who: Staff) -> ReviewDetailView:
        with transaction(ctx.pool) as conn:
            return _review_detail(conn, review_id)

    @router.post(
        "/reviews/{review_id}/decide", response_model=DecisionView, tags=["supervisor review"],
        summary="A supervisor approves (some of) the offers or declines, with a written reason; emits case.decided",
        responses=problems(404, 409),
    )
    def decide_review(
        review_id: str,
        body: DecideReview,
        who: Supervisor,
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        def decide(conn: Any) -> tuple[int, Any]:
            decision_id = evaluation.decide_review(
                conn, review_id, ReviewCommand(body.outcome, body.reason, body.offer_ranks), who
            )
            row = repo.get_decision(conn, decision_id)
            assert row is not None
            return 200, _decision_view(row, staff=True).model_dump(mode="json")

        return idempotent_json(ctx.pool, f"review-decide:{review_id}", idempotency_key,
                               idempotency.request_hash(body.model_dump(mode="json")), decide)

    return create_service_app(
        settings=ctx.settings,
        pool=ctx.pool,
        title="Forbear evaluation",
        description=(
            "Decisions on hardship cases (outcome, machine-readable reasons, policy version, ranked offers with "
            "full schedules) and the supervisor review queue. Decisions are made from intake's case.submitted "
            "and agreement's offer.countered events and published as case.decided on evaluation.events."
        ),
        routers=[router],
        required_topics=[ctx.settings.topic(EVALUATION_EVENTS.name)],
        authz=authz,
    )

"""HTTP door of the evaluation service: decisions and the supervisor review queue.

Decisions are made by the worker from ``case.submitted`` and ``offer.countered`` events; this API
reads them and lets a supervisor decide the cases the rules routed to a review.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import JSONResponse
from forbear_shared.domain.hardship import DocumentType
from forbear_shared.domain.policy import AppealPolicy
from forbear_shared.http import (
    NON_BLANK_TEXT,
    Authz,
    IdempotencyKey,
    Limit,
    Offset,
    Roles,
    create_service_app,
    idempotent,
    problems,
)
from pydantic import BaseModel, ConfigDict, Field, create_model

from forbear_evaluation import bootstrap
from forbear_evaluation.domain.appeals import AppealOutcome, NewEvidence
from forbear_evaluation.service_layer import appeals, decisions, views


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


class AppealEvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document_type: DocumentType
    description: str = Field(min_length=1, max_length=500, json_schema_extra=NON_BLANK_TEXT,
                             description="what the document shows that the decision did not know")


def lodge_appeal_body(rules: AppealPolicy) -> type[BaseModel]:
    """The appeal's body as this lender's policy bounds it (``[appeals]``), so the published
    schema states the limits the rules apply (the rules count the statement trimmed)."""
    evidence_items = Field(
        default=[] if not rules.new_evidence_required else ..., min_length=1 if rules.new_evidence_required else 0,
        max_length=rules.max_evidence_items, description="the new evidence the appeal brings")
    return create_model(
        "LodgeAppeal",
        __config__=ConfigDict(extra="forbid"),
        statement=(str, Field(min_length=rules.statement_min_chars, max_length=rules.statement_max_chars,
                              description="the grounds, in the borrower's words (statement_too_short / "
                                          "statement_too_long once trimmed)")),
        evidence=(list[AppealEvidenceIn], evidence_items),
        representative_id=(str | None, Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                             description="staff only: the authorised representative who appeals")),
    )


class DecideAppeal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["uphold", "overturn"]
    reason: str = Field(min_length=1, max_length=4000, description="the reviewing supervisor's written reason",
                        json_schema_extra=NON_BLANK_TEXT)


def create_app() -> FastAPI:
    svc = bootstrap.bootstrap()
    authz = Authz.from_settings(svc.ctx.settings)
    roles = Roles(authz)
    router = APIRouter()
    LodgeAppeal = lodge_appeal_body(svc.policy.appeals)  # noqa: N806 (a model class)

    @router.get("/cases/{case_id}/decisions", response_model=views.CaseDecisionsView, tags=["decisions"],
                responses=problems(404),
                summary="Every decision on a case, oldest first, with reasons, offers and policy version")
    def case_decisions(case_id: str, who: roles.staff_or_borrower) -> views.CaseDecisionsView:
        return views.case_decisions(svc.unit_of_work(), case_id, who)

    @router.get("/decisions/{decision_id}", response_model=views.DecisionView, tags=["decisions"],
                responses=problems(404),
                summary="One decision")
    def get_decision(decision_id: str, who: roles.staff_or_borrower) -> views.DecisionView:
        return views.decision(svc.unit_of_work(), decision_id, who)

    @router.get("/reviews", response_model=views.ReviewList, tags=["supervisor review"],
                summary="The supervisor review queue (agents may read it), oldest first")
    def list_reviews(
        _who: roles.staff,
        status: Annotated[views.ReviewStatus | None, Query()] = "open",
        case_id: Annotated[str | None, Query(max_length=64, description="one case's reviews")] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> views.ReviewList:
        return views.reviews(svc.unit_of_work(), status, limit, offset, case_id)

    @router.get("/reviews/{review_id}", response_model=views.ReviewDetailView, tags=["supervisor review"],
                responses=problems(404),
                summary="One review with its audit trail (who, when, why, before and after)")
    def get_review(review_id: str, _who: roles.staff) -> views.ReviewDetailView:
        return views.review(svc.unit_of_work(), review_id)

    @router.post(
        "/reviews/{review_id}/decide", response_model=views.DecisionView, tags=["supervisor review"],
        summary="A supervisor approves (some of) the offers or declines, with a written reason; emits case.decided",
        responses=problems(404, 409),
    )
    def decide_review(
        review_id: str,
        body: DecideReview,
        who: roles.supervisor,
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        cmd = decisions.DecideReview(review_id, body.outcome, body.reason, who,
                                     tuple(body.offer_ranks) if body.offer_ranks is not None else None)
        return idempotent(svc, who, idempotency_key, ("decide-review", review_id, body.model_dump(mode="json")), 200,
                          lambda uow: decisions.decide_review(cmd, uow))

    @router.post(
        "/decisions/{decision_id}/appeals", response_model=views.AppealView, status_code=201, tags=["appeals"],
        summary="The borrower (or an agent for them or their representative) appeals a decline within the "
                "policy's window; emits appeal.lodged",
        responses=problems(403, 404, 409, 422),
    )
    def lodge_appeal(
        decision_id: str,
        body: LodgeAppeal,  # type: ignore[valid-type]
        who: roles.borrower_or_agent,
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        cmd = appeals.LodgeAppeal(decision_id, body.statement,  # type: ignore[attr-defined]
                                  tuple(NewEvidence(e.document_type.value, e.description) for e in body.evidence),
                                  who, body.representative_id)
        return idempotent(svc, who, idempotency_key, ("lodge-appeal", decision_id, body.model_dump(mode="json")),
                          201, lambda uow: appeals.lodge_appeal(cmd, uow))

    @router.get("/appeals", response_model=views.AppealList, tags=["appeals"],
                summary="The supervisors' queue of appeals to review (pending by default), oldest first")
    def list_appeals(
        _who: roles.staff,
        status: Annotated[views.AppealStatus | None, Query()] = "pending",
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> views.AppealList:
        return views.appeals(svc.unit_of_work(), status, limit, offset)

    @router.get("/cases/{case_id}/appeals", response_model=views.AppealList, tags=["appeals"],
                responses=problems(404), summary="A case's appeals, oldest first")
    def case_appeals(case_id: str, who: roles.staff_or_borrower) -> views.AppealList:
        return views.case_appeals(svc.unit_of_work(), case_id, who)

    @router.get("/appeals/{appeal_id}", response_model=views.AppealView, tags=["appeals"],
                responses=problems(404), summary="One appeal")
    def get_appeal(appeal_id: str, _who: roles.staff) -> views.AppealView:
        return views.appeal(svc.unit_of_work(), appeal_id)

    @router.post(
        "/appeals/{appeal_id}/decide", response_model=views.AppealView, tags=["appeals"],
        summary="A supervisor other than the decider upholds the decline or overturns it (the case is "
                "evaluated again); emits appeal.decided",
        responses=problems(403, 404, 409, 422),
    )
    def decide_appeal(
        appeal_id: str,
        body: DecideAppeal,
        who: roles.supervisor,
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        cmd = appeals.DecideAppeal(appeal_id, AppealOutcome(body.outcome), body.reason, who)
        return idempotent(svc, who, idempotency_key, ("decide-appeal", appeal_id, body.model_dump(mode="json")), 200,
                          lambda uow: appeals.decide_appeal(cmd, uow))

    return create_service_app(
        settings=svc.ctx.settings,
        pool=svc.ctx.pool,
        title="Forbear evaluation",
        description=(
            "Decisions on hardship cases (outcome, machine-readable reasons, policy version, ranked offers with "
            "full schedules) and the supervisor review queue. Decisions are made from intake's case.submitted "
            "and agreement's offer.countered events and published as case.decided on evaluation.events."
        ),
        routers=[router],
        required_topics=[svc.ctx.settings.topic(svc.events_topic)],
        authz=authz,
    )

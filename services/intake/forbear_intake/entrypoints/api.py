"""HTTP door of the intake service: thin routes over the use cases in ``service_layer``."""
# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases below at runtime.

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from forbear_shared import business_date, idempotency
from forbear_shared.auth import Principal
from forbear_shared.db import transaction
from forbear_shared.errors import Unprocessable
from forbear_shared.http import (
    MULTIPART_OVERHEAD_BYTES,
    Authz,
    IdempotencyKey,
    Limit,
    Offset,
    body_limit,
    create_service_app,
    idempotent_json,
    problem_body,
    problems,
    text_error,
)
from forbear_shared.topics import INTAKE_EVENTS
from pydantic import BaseModel

from forbear_intake import bootstrap
from forbear_intake.adapters.evidence_store import StagedUpload
from forbear_intake.domain.case_status import CaseStatus
from forbear_intake.service_layer import cases, views
from forbear_intake.service_layer.commands import ContactIn, HistoryIn, OpenCase, ReviewIn, StatementIn


class BusinessDateView(BaseModel):
    business_date: dt.date


_EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


def create_app() -> FastAPI:
    ctx = bootstrap.context()
    intake = bootstrap.intake(ctx)
    authz = Authz.from_settings(ctx.settings)
    router = APIRouter()

    Anyone = Annotated[Principal, Depends(authz.roles("agent", "supervisor", "system", "borrower"))]
    Opener = Anyone
    Staff = Annotated[Principal, Depends(authz.roles("agent", "supervisor"))]
    StaffOrSystem = Annotated[Principal, Depends(authz.roles("agent", "supervisor", "system"))]
    StaffOrBorrower = Annotated[Principal, Depends(authz.roles("agent", "supervisor", "borrower"))]
    SupervisorOrSystem = Annotated[Principal, Depends(authz.roles("supervisor", "system"))]

    def idempotent(who: Principal, route: str, key: str | None, digest: str,
                   work: Callable[[Any], tuple[int, Any]]) -> JSONResponse:
        return idempotent_json(ctx.pool, f"{who.role}:{who.subject}:{route}", key, digest, work)

    @router.get("/business-date", response_model=BusinessDateView, tags=["business date"],
                summary="The business date as this service last heard it from close of business")
    def get_business_date(_who: Anyone) -> BusinessDateView:
        with transaction(ctx.pool) as conn:
            return BusinessDateView(business_date=business_date.current(conn, ctx.settings.initial_business_date))

    @router.post("/cases", status_code=201, response_model=views.CaseView, responses=problems(403, 409, 422), tags=["cases"],
                 summary="Open a case (borrower, loans, hardship, channel, DPD at first contact)")
    def open_case(body: OpenCase, who: Opener, idempotency_key: IdempotencyKey = None) -> JSONResponse:
        def work(conn: Any) -> tuple[int, Any]:
            case = cases.open_case(intake, body, who, conn)
            return 201, cases.case_view_in(conn, case["case_id"], who)

        return idempotent(who, "open_case", idempotency_key,
                          idempotency.request_hash(body.model_dump(mode="json")), work)

    @router.get("/cases", response_model=list[views.CaseSummary], tags=["cases"],
                summary="Cases by status (a borrower sees only their own)")
    def list_cases(
        who: Anyone,
        status: Annotated[CaseStatus | None, Query(description="work queue, e.g. evidence_to_review")] = None,
        borrower_id: Annotated[str | None, Query(max_length=64)] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[views.CaseSummary]:
        return cases.list_cases(intake, who, status.value if status else None, borrower_id, limit, offset)

    @router.get("/cases/{case_id}", response_model=views.CaseView, responses=problems(404), tags=["cases"],
                summary="A case with its documents, contacts and audited timeline")
    def get_case(case_id: str, who: Anyone) -> views.CaseView:
        return cases.case_view(intake, case_id, who)

    @router.put("/cases/{case_id}/statement", response_model=views.CaseView, responses=problems(404, 409), tags=["cases"],
                summary="Record the income and expenditure statement")
    def put_statement(case_id: str, body: StatementIn, who: StaffOrBorrower) -> views.CaseView:
        cases.put_statement(intake, case_id, body, who)
        return cases.case_view(intake, case_id, who)

    @router.put("/cases/{case_id}/history", response_model=views.CaseView, responses=problems(404, 409), tags=["cases"],
                summary="Correct the lender's records the wilful-default rules read (supervisor, with a reason)")
    def put_history(case_id: str, body: HistoryIn, who: SupervisorOrSystem) -> views.CaseView:
        cases.correct_history(intake, case_id, body, who)
        return cases.case_view(intake, case_id, who)

    @router.post("/cases/{case_id}/submit", response_model=views.CaseView, responses=problems(404, 409), tags=["cases"],
                 summary="Submit the case for evaluation")
    def submit(case_id: str, who: StaffOrBorrower) -> views.CaseView:
        cases.submit_case(intake, case_id, who)
        return cases.case_view(intake, case_id, who)

    @router.post("/cases/{case_id}/evidence", status_code=201, response_model=views.DocumentView,
                 responses=problems(404, 409, 503), tags=["evidence"],
                 summary="Upload one evidence document (PDF, JPEG or PNG)",
                 openapi_extra=body_limit(intake.max_evidence_bytes + MULTIPART_OVERHEAD_BYTES))
    def upload_evidence(
        case_id: str,
        who: StaffOrBorrower,
        document_type: Annotated[str, Form(min_length=1, max_length=64)],
        file: Annotated[UploadFile, File()],
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        if file.filename and text_error(file.filename):
            raise Unprocessable("invalid_characters", "the file name holds characters that are not text")
        limit = intake.max_evidence_bytes
        # the multipart parser has spooled the file (to disk past 1 MiB); it is hashed in chunks
        # and streamed to the store from there, never held whole in memory
        upload = StagedUpload.read(file.file, limit)
        if upload.size > limit:
            raise cases.PayloadTooLarge("file_too_large", f"evidence files are limited to {limit} bytes")
        digest = idempotency.request_hash(case_id, document_type, upload.sha256)

        def work(conn: Any) -> tuple[int, Any]:
            doc = cases.upload_evidence(intake, conn, case_id, document_type, upload, file.content_type,
                                        file.filename, who)
            return 201, views.document_view(doc)

        return idempotent(who, f"upload_evidence:{case_id}", idempotency_key, digest, work)

    @router.get("/cases/{case_id}/evidence", response_model=list[views.DocumentView], responses=problems(404),
                tags=["evidence"], summary="The case's evidence documents and their review status")
    def list_evidence(case_id: str, who: Anyone) -> list[views.DocumentView]:
        return cases.list_documents(intake, case_id, who)

    @router.get("/cases/{case_id}/evidence/{document_id}/content", responses=problems(404, 410, 502, 503), tags=["evidence"],
                summary="Download a document as uploaded", response_class=Response)
    def evidence_content(case_id: str, document_id: str, who: StaffOrBorrower) -> Response:
        doc, data = cases.evidence_content(intake, case_id, document_id, who)
        filename = f"{document_id}{_EXTENSIONS.get(doc['media_type'], '')}"
        return Response(content=data, media_type=doc["media_type"], headers={
            "Content-Disposition": f'attachment; filename="{filename}"', "X-Content-SHA256": doc["sha256"],
            "X-Content-Type-Options": "nosniff",
        })

    @router.post("/cases/{case_id}/evidence/{document_id}/review", response_model=views.DocumentView,
                 responses=problems(404, 409), tags=["evidence"],
                 summary="Accept a document, or reject it with a reason")
    def review_evidence(case_id: str, document_id: str, body: ReviewIn, who: Staff) -> views.DocumentView:
        return views.document_view(cases.review_evidence(intake, case_id, document_id, body, who))

    @router.post("/cases/{case_id}/contacts", status_code=201, response_model=views.ContactView,
                 responses=problems(404, 409),
                 tags=["contacts"],
                 summary="Log a contact attempt; one breaking the contact rules is logged as refused and answered 422")
    def record_contact(case_id: str, body: ContactIn, who: StaffOrSystem,
                       idempotency_key: IdempotencyKey = None) -> JSONResponse:
        def work(conn: Any) -> tuple[int, Any]:
            contact = views.contact_view(cases.record_contact(intake, conn, case_id, body, who))
            if contact.outcome == "refused":
                reasons = contact.refusal_reasons
                return 422, problem_body(422, reasons[0],
                                         f"contact refused by the contact rules: {', '.join(reasons)}",
                                         reasons=reasons, contact=contact)
            return 201, contact

        return idempotent(who, f"record_contact:{case_id}", idempotency_key,
                          idempotency.request_hash(body.model_dump(mode="json")), work)

    @router.get("/cases/{case_id}/contacts", response_model=list[views.ContactView], responses=problems(404),
                tags=["contacts"], summary="The communication log of a case, refusals included")
    def list_contacts(case_id: str, who: StaffOrSystem) -> list[views.ContactView]:
        return cases.list_contacts(intake, case_id, who)

    return create_service_app(
        settings=ctx.settings,
        pool=ctx.pool,
        title="Forbear intake",
        description=(
            "Cases of overdue-debt negotiation: borrowers and their loans, hardship, income and expenditure, "
            "evidence with per-document review, the communication log under the contact rules, submission "
            "for evaluation. Personal data is masked for every role but supervisor."
        ),
        routers=[router],
        required_topics=[ctx.settings.topic(INTAKE_EVENTS.name)],
        authz=authz,
    )

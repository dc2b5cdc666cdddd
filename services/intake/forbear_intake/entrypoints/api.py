"""HTTP door of the intake service: each route parses, calls one use case, maps the result."""
# No ``from __future__ import annotations``: FastAPI resolves the Annotated aliases below at runtime.

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, File, Form, Path, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from forbear_shared import idempotency
from forbear_shared.errors import Unprocessable
from forbear_shared.http import (
    MULTIPART_OVERHEAD_BYTES,
    Authz,
    IdempotencyKey,
    Limit,
    Offset,
    Roles,
    body_limit,
    create_service_app,
    idempotent,
    idempotent_json,
    problem_body,
    problems,
    text_error,
)
from forbear_shared.topics import INTAKE_EVENTS

from forbear_intake import bootstrap
from forbear_intake.adapters.evidence_store import StagedUpload
from forbear_intake.domain.case_status import CaseStatus
from forbear_intake.service_layer import cases, contacts, evidence, representatives, views
from forbear_intake.service_layer.commands import (
    AuthoriseRepresentative,
    ContactIn,
    CorrectHistory,
    HistoryIn,
    NewCase,
    OpenCase,
    RecordContact,
    RecordStatement,
    RepresentativeIn,
    ReviewEvidence,
    ReviewIn,
    RevokeRepresentative,
    StatementIn,
    SubmitCase,
    UploadEvidence,
)

_EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


def create_app() -> FastAPI:
    svc = bootstrap.bootstrap()
    authz = Authz.from_settings(svc.ctx.settings)
    roles = Roles(authz)
    router = APIRouter()

    @router.post("/cases", status_code=201, response_model=views.CaseView, responses=problems(403, 409, 422), tags=["cases"],
                 summary="Open a case (borrower, loans, hardship, channel, DPD at first contact)")
    def open_case(body: OpenCase, who: roles.anyone, idempotency_key: IdempotencyKey = None) -> JSONResponse:
        cmd = NewCase(body, who)
        return idempotent(svc, who, idempotency_key, ("open_case", body.model_dump(mode="json")), 201,
                          lambda uow: cases.open_case(cmd, uow))

    @router.get("/cases", response_model=list[views.CaseSummary], tags=["cases"],
                summary="Cases by status (a borrower sees only their own)")
    def list_cases(
        who: roles.anyone,
        status: Annotated[CaseStatus | None, Query(description="work queue, e.g. evidence_to_review")] = None,
        borrower_id: Annotated[str | None, Query(max_length=64)] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[views.CaseSummary]:
        return views.cases(svc.unit_of_work(), who, status, borrower_id, limit, offset)

    @router.get("/cases/{case_id}", response_model=views.CaseView, responses=problems(404), tags=["cases"],
                summary="A case with its documents, contacts and audited timeline")
    def get_case(case_id: str, who: roles.anyone) -> views.CaseView:
        return views.case(svc.unit_of_work(), case_id, who)

    @router.put("/cases/{case_id}/statement", response_model=views.CaseView, responses=problems(404, 409), tags=["cases"],
                summary="Record the income and expenditure statement")
    def put_statement(case_id: str, body: StatementIn, who: roles.staff_or_borrower) -> views.CaseView:
        return cases.record_statement(RecordStatement(case_id, body, who), svc.unit_of_work())

    @router.put("/cases/{case_id}/history", response_model=views.CaseView, responses=problems(404, 409), tags=["cases"],
                summary="Correct the lender's records the wilful-default rules read (supervisor, with a reason)")
    def put_history(case_id: str, body: HistoryIn, who: roles.supervisor_or_system) -> views.CaseView:
        return cases.correct_history(CorrectHistory(case_id, body, who), svc.unit_of_work())

    @router.post("/cases/{case_id}/submit", response_model=views.CaseView, responses=problems(404, 409), tags=["cases"],
                 summary="Submit the case for evaluation")
    def submit(case_id: str, who: roles.staff_or_borrower) -> views.CaseView:
        return cases.submit_case(SubmitCase(case_id, who), svc.unit_of_work())

    @router.post("/cases/{case_id}/evidence", status_code=201, response_model=views.DocumentView,
                 responses=problems(404, 409, 503), tags=["evidence"],
                 summary="Upload one evidence document (PDF, JPEG or PNG)",
                 openapi_extra=body_limit(svc.max_evidence_bytes + MULTIPART_OVERHEAD_BYTES))
    def upload_evidence(
        case_id: str,
        who: roles.staff_or_borrower,
        document_type: Annotated[str, Form(min_length=1, max_length=64)],
        file: Annotated[UploadFile, File()],
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        if file.filename and text_error(file.filename):
            raise Unprocessable("invalid_characters", "the file name holds characters that are not text")
        # the multipart parser has spooled the file (to disk past 1 MiB); it is hashed in chunks
        # and streamed to the store from there, never held whole in memory
        upload = StagedUpload.read(file.file, svc.max_evidence_bytes)
        cmd = UploadEvidence(case_id, document_type, upload, file.content_type, file.filename, who)
        return idempotent(svc, who, idempotency_key, ("upload_evidence", case_id, document_type, upload.sha256), 201,
                          lambda uow: evidence.upload_evidence(cmd, uow))

    @router.get("/cases/{case_id}/evidence", response_model=list[views.DocumentView], responses=problems(404),
                tags=["evidence"], summary="The case's evidence documents and their review status")
    def list_evidence(case_id: str, who: roles.anyone) -> list[views.DocumentView]:
        return views.documents(svc.unit_of_work(), case_id, who)

    @router.get("/cases/{case_id}/evidence/{document_id}/content", responses=problems(404, 410, 502, 503), tags=["evidence"],
                summary="Download a document as uploaded", response_class=Response)
    def evidence_content(case_id: str, document_id: str, who: roles.staff_or_borrower) -> Response:
        doc, data = views.evidence_content(svc.unit_of_work(), case_id, document_id, who)
        filename = f"{document_id}{_EXTENSIONS.get(doc.media_type, '')}"
        return Response(content=data, media_type=doc.media_type, headers={
            "Content-Disposition": f'attachment; filename="{filename}"', "X-Content-SHA256": doc.sha256,
            "X-Content-Type-Options": "nosniff",
        })

    @router.post("/cases/{case_id}/evidence/{document_id}/review", response_model=views.DocumentView,
                 responses=problems(404, 409), tags=["evidence"],
                 summary="Accept a document, or reject it with a reason")
    def review_evidence(case_id: str, document_id: str, body: ReviewIn, who: roles.staff) -> views.DocumentView:
        return evidence.review_evidence(ReviewEvidence(case_id, document_id, body, who), svc.unit_of_work())

    @router.post("/cases/{case_id}/contacts", status_code=201, response_model=views.ContactView,
                 responses=problems(404, 409),
                 tags=["contacts"],
                 summary="Log a contact attempt; one breaking the contact rules is logged as refused and answered 422")
    def record_contact(case_id: str, body: ContactIn, who: roles.staff_or_system,
                       idempotency_key: IdempotencyKey = None) -> JSONResponse:
        cmd = RecordContact(case_id, body, who)

        # not ``idempotent``: a refused contact is recorded (committed) and answered 422, so the
        # status of the answer depends on the use case's result
        def work(conn: Any) -> tuple[int, Any]:
            contact = contacts.record_contact(cmd, svc.unit_of_work(conn))
            if contact.outcome == "refused":
                reasons = contact.refusal_reasons
                return 422, problem_body(422, reasons[0], f"contact refused by the contact rules: {', '.join(reasons)}",
                                         reasons=reasons, contact=contact)
            return 201, contact

        return idempotent_json(svc.ctx.pool, f"{who.role}:{who.subject}", idempotency_key,
                               idempotency.request_hash("record_contact", case_id, body.model_dump(mode="json")), work)

    @router.get("/cases/{case_id}/contacts", response_model=list[views.ContactView], responses=problems(404),
                tags=["contacts"], summary="The communication log of a case, refusals included (a borrower: "
                "their own case's, without the staff's names)")
    def list_contacts(case_id: str, who: roles.anyone) -> list[views.ContactView]:
        return views.contacts(svc.unit_of_work(), case_id, who)

    @router.post("/cases/{case_id}/representatives", status_code=201, response_model=views.RepresentativeView,
                 responses=problems(404, 409, 422), tags=["representatives"],
                 summary="Authorise a representative with the signed authorisation document, scope and end date "
                         "(the borrower, or an agent recording a signed paper authorisation)")
    def authorise_representative(case_id: str, body: RepresentativeIn, who: roles.borrower_or_agent,
                                 idempotency_key: IdempotencyKey = None) -> JSONResponse:
        cmd = AuthoriseRepresentative(case_id, body, who)
        return idempotent(svc, who, idempotency_key,
                          ("POST", f"/cases/{case_id}/representatives", body.model_dump(mode="json")), 201,
                          lambda uow: representatives.authorise_representative(cmd, uow))

    @router.get("/cases/{case_id}/representatives", response_model=list[views.RepresentativeView],
                responses=problems(404), tags=["representatives"],
                summary="The case's representatives, revoked and ended ones included (names masked)")
    def list_representatives(case_id: str, who: roles.staff_or_borrower) -> list[views.RepresentativeView]:
        return views.representatives(svc.unit_of_work(), case_id, who)

    @router.post("/cases/{case_id}/representatives/{representative_id}/revocation",
                 response_model=views.RepresentativeView, responses=problems(404, 409), tags=["representatives"],
                 summary="Revoke an authorisation, effective for the very next contact (the borrower or an agent)")
    def revoke_representative(case_id: str, representative_id: Annotated[str, Path(max_length=64)],
                              who: roles.borrower_or_agent, idempotency_key: IdempotencyKey = None) -> JSONResponse:
        cmd = RevokeRepresentative(case_id, representative_id, who)
        return idempotent(svc, who, idempotency_key,
                          ("POST", f"/cases/{case_id}/representatives/{representative_id}/revocation"), 200,
                          lambda uow: representatives.revoke_representative(cmd, uow))

    return create_service_app(
        settings=svc.ctx.settings,
        pool=svc.ctx.pool,
        title="Forbear intake",
        description=(
            "Cases of overdue-debt negotiation: borrowers and their loans, hardship, income and expenditure, "
            "evidence with per-document review, the communication log under the contact rules, submission "
            "for evaluation. Personal data is masked for every role but supervisor."
        ),
        routers=[router],
        required_topics=[svc.ctx.settings.topic(INTAKE_EVENTS.name)],
        authz=authz,
    )

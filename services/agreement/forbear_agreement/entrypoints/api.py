"""HTTP door of the agreement service: offers, acceptance or counter-proposal, documents, signatures.

Roles: staff (agent, supervisor) see every case; a borrower sees and acts only on their own
(another borrower's offer or agreement is 404, never 403). Accepting and countering: the
borrower, or an agent on the borrower's behalf. Signatures: see ``domain/signing.py`` — the
borrower's by the borrower or by an agent recording it, the lender's by a supervisor only.
"""


import hashlib
import hmac
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, FastAPI, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse
from forbear_shared import idempotency
from forbear_shared.domain.money import Money, MoneyError
from forbear_shared.errors import Unprocessable
from forbear_shared.events.schemas.common import PositiveMoney, TermMonths
from forbear_shared.http import (
    RETRY_AFTER_SECONDS,
    Authz,
    IdempotencyKey,
    Limit,
    Offset,
    Roles,
    body_limit,
    create_service_app,
    idempotent,
    idempotent_json,
    problem,
    problem_body,
    problems,
)
from forbear_shared.topics import AGREEMENT_EVENTS
from pydantic import BaseModel, ConfigDict, Field

from forbear_agreement import bootstrap
from forbear_agreement.adapters.code_sender import CodeNotDelivered
from forbear_agreement.domain.document import PaymentMethod
from forbear_agreement.domain.offers import CounterProposal
from forbear_agreement.domain.signing import Party
from forbear_agreement.domain.signing_code import Channel, TooManyCodes
from forbear_agreement.service_layer import agreements, documents, offers, views


class AcceptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payment_method: Literal["account_debit", "bank_transfer", "branch"] = Field(
        "account_debit", description="how the borrower will pay each instalment; stated in the agreement"
    )


class CounterRequest(BaseModel):
    # stated in the schema as well as checked (counter_proposal_empty): a counter proposes something
    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [
        {"required": ["proposed_instalment"], "properties": {"proposed_instalment": {"type": "string"}}},
        {"required": ["proposed_term_months"], "properties": {"proposed_term_months": {"type": "integer"}}},
    ]})

    proposed_instalment: PositiveMoney | None = Field(
        None, description="monthly instalment the borrower can pay, to the cent, e.g. \"800.00\" (\"1.005\" is refused)"
    )
    proposed_term_months: TermMonths | None = Field(None, description="term the borrower asks for, in months")


class SignRequest(BaseModel):
    # stated in the schema as well as checked (one_time_code_required, one_time_code_not_for_lender):
    # the borrower's signature carries the code, the lender's none
    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": [
        {"required": ["one_time_code"], "properties": {"party": {"const": "borrower"},
                                                       "one_time_code": {"type": "string", "pattern": "^[0-9]{6}$"}}},
        {"properties": {"party": {"const": "lender"}, "one_time_code": {"type": "null"}}},
    ]})

    party: Literal["borrower", "lender"]
    document_sha256: str = Field(
        pattern=r"^[0-9a-fA-F]{64}$", description="sha256 of the document being signed; must be the current one"
    )
    one_time_code: str | None = Field(
        None, pattern=r"^[0-9]{6}$", repr=False,
        description="the borrower's signature: the 6-digit code sent by POST /agreements/{id}/signing-code "
        "(required for party=borrower, refused for party=lender)",
    )


class SigningCodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["sms", "email"] = Field(
        "sms", description="where the lender's gateway sends the code: the borrower's phone or e-mail on file")


def _keyed(secret: bytes, code: str | None) -> str | None:
    return None if code is None else hmac.new(secret, code.encode(), hashlib.sha256).hexdigest()


OfferStatusQuery = Annotated[views.OfferStatusName | None, Query(description="filter by status, e.g. open")]
AgreementStatusQuery = Annotated[views.AgreementStatusName | None, Query(description="filter by status")]


def create_app() -> FastAPI:
    svc = bootstrap.bootstrap()
    authz = Authz.from_settings(svc.ctx.settings)
    roles = Roles(authz)
    router = APIRouter()

    # -- offers ------------------------------------------------------------------------

    @router.get("/cases/{case_id}/offers", response_model=list[views.OfferView], tags=["offers"], responses=problems(404),
                summary="Every offer of a case, newest decision first, with its full schedule")
    def case_offers(case_id: str, who: roles.staff_or_borrower) -> list[views.OfferView]:
        return views.case_offers(svc.unit_of_work(), case_id, who)

    @router.get("/offers", response_model=views.OfferPage, tags=["offers"], responses=problems(),
                summary="Offers queue for the console (e.g. ?status=open: awaiting the borrower), soonest expiry first")
    def list_offers(_who: roles.staff, status: OfferStatusQuery = None, case_id: str | None = None,
                    limit: Limit = 100, offset: Offset = 0) -> views.OfferPage:
        return views.offers(svc.unit_of_work(), status=status, case_id=case_id, limit=limit, offset=offset)

    @router.get("/offers/{offer_id}", response_model=views.OfferView, tags=["offers"], responses=problems(404),
                summary="One offer with its full schedule")
    def get_offer(offer_id: str, who: roles.staff_or_borrower) -> views.OfferView:
        return views.offer(svc.unit_of_work(), offer_id, who)

    @router.post(
        "/offers/{offer_id}/accept", response_model=views.AgreementView, status_code=201, tags=["offers"],
        responses=problems(404, 409),
        summary="Accept an open offer: draws up the agreement document, awaiting signatures",
        description="Borrower (own offers) or agent on the borrower's behalf. 409 `offer_expired` after the "
        "offer's last day (`expires_on`), 409 `offer_not_open` when accepted, countered or withdrawn. "
        "The case's other open offers are withdrawn (`offer.withdrawn` each). Emits `offer.accepted`.",
    )
    def accept(
        who: roles.borrower_or_agent,
        offer_id: Annotated[str, Path()],
        idempotency_key: IdempotencyKey = None,
        body: Annotated[AcceptRequest | None, Body()] = None,
    ) -> JSONResponse:
        request = body or AcceptRequest()
        cmd = offers.AcceptOffer(offer_id, PaymentMethod(request.payment_method), who)
        return idempotent(svc, who, idempotency_key, ("POST", f"/offers/{offer_id}/accept", request.model_dump()),
                          201, lambda uow: offers.accept_offer(cmd, uow))

    @router.post(
        "/offers/{offer_id}/counter", response_model=views.OfferView, tags=["offers"], responses=problems(404, 409, 422),
        summary="Counter-propose other terms: the offer is countered and the case re-enters evaluation",
        description="Borrower (own offers) or agent. Give `proposed_instalment` and/or `proposed_term_months` "
        "(within the policy's maximum term). The case's other open offers are withdrawn (`offer.withdrawn` each). Emits `offer.countered`.",
    )
    def counter(who: roles.borrower_or_agent, offer_id: str, body: CounterRequest,
                idempotency_key: IdempotencyKey = None) -> JSONResponse:
        try:
            instalment = (
                Money.of(body.proposed_instalment, svc.policy.currency) if body.proposed_instalment is not None else None
            )
        except MoneyError as exc:
            raise Unprocessable("invalid_proposed_instalment", f"proposed_instalment: {exc}") from None
        cmd = offers.CounterOffer(offer_id, CounterProposal(instalment, body.proposed_term_months), who)
        return idempotent(svc, who, idempotency_key,
                          ("POST", f"/offers/{offer_id}/counter", body.model_dump(mode="json")), 200,
                          lambda uow: offers.counter_offer(cmd, uow))

    # -- agreements --------------------------------------------------------------------

    @router.get("/agreements", response_model=views.AgreementPage, tags=["agreements"], responses=problems(),
                summary="Agreements queue for the console (e.g. ?status=awaiting_signatures)")
    def list_agreements(_who: roles.staff, status: AgreementStatusQuery = None, case_id: str | None = None,
                        limit: Limit = 100, offset: Offset = 0) -> views.AgreementPage:
        return views.agreements(svc.unit_of_work(), status=status, case_id=case_id, limit=limit, offset=offset)

    @router.get("/agreements/{agreement_id}", response_model=views.AgreementView, tags=["agreements"],
                responses=problems(404), summary="An agreement with its schedule and signatures")
    def get_agreement(agreement_id: str, who: roles.staff_or_borrower) -> views.AgreementView:
        return views.agreement(svc.unit_of_work(), agreement_id, who)

    @router.get("/agreements/{agreement_id}/document", response_model=views.DocumentView, tags=["agreements"],
                responses=problems(404),
                summary="The agreement document: canonical JSON (what is signed), its sha256, and the rendered text")
    def get_document(agreement_id: str, who: roles.staff_or_borrower) -> views.DocumentView:
        return views.document(svc.unit_of_work(), agreement_id, who)

    @router.get("/agreements/{agreement_id}/document.txt", response_class=PlainTextResponse, tags=["agreements"],
                responses=problems(404), summary="The rendered document alone, as text/plain (to print or show)")
    def get_document_text(agreement_id: str, who: roles.staff_or_borrower) -> PlainTextResponse:
        doc = views.document(svc.unit_of_work(), agreement_id, who)
        return PlainTextResponse(doc.rendered_text, headers={"X-Document-SHA256": doc.document_sha256})

    @router.get("/agreements/{agreement_id}/document.pdf", response_class=Response, tags=["agreements"],
                responses={**problems(404, 409), 200: {"content": {"application/pdf": {}}}},
                summary="The signed agreement PDF: the lender's PAdES signature, the canonical JSON and the "
                "borrower's consent attached",
                description="409 `agreement_not_signed` until the lender countersigns. Headers: `X-Document-SHA256` "
                "(the canonical JSON's), `X-Content-SHA256` (the PDF's).")
    def get_document_pdf(agreement_id: str, who: roles.staff_or_borrower) -> Response:
        signed = documents.signed_pdf(svc.unit_of_work(), agreement_id, who)
        return Response(content=signed.pdf, media_type=documents.PDF_MEDIA_TYPE, headers={
            "Content-Disposition": f'attachment; filename="{signed.agreement_id}.pdf"',
            "X-Document-SHA256": signed.document_sha256, "X-Content-SHA256": signed.pdf_sha256,
            "X-Content-Type-Options": "nosniff",
        })

    verify_limit = svc.ctx.settings.agreement_verify_max_bytes

    @router.post("/agreement-verifications", response_model=documents.VerificationView, tags=["agreements"],
                 responses=problems(413, 415, 422),
                 summary="Verify a signed agreement PDF: signature, certificate chain, attached JSON against the stored hash",
                 description="Body: the PDF bytes as `application/pdf` (at most `agreement_verify_max_bytes`). "
                 "Answers 200 with `valid` and the `reasons` it is not; 422 `not_a_pdf` when the bytes are not a "
                 "readable PDF, 415 for another media type, 413 over the size limit.",
                 openapi_extra={**body_limit(verify_limit), "requestBody": {"required": True, "content": {
                     documents.PDF_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}})
    async def verify(request: Request, _who: roles.anyone) -> documents.VerificationView:
        cmd = documents.VerifyPdf(await request.body(), request.headers.get("content-type"))
        # pyHanko's validation runs its own event loop: off this one, in the thread pool
        return await run_in_threadpool(documents.verify_pdf, cmd, svc.unit_of_work())

    @router.post(
        "/agreements/{agreement_id}/signatures", response_model=views.AgreementView, status_code=201,
        tags=["agreements"], responses=problems(403, 404, 409, 422),
        summary="Sign the current document for the borrower (first) or the lender (second)",
        description="`party=borrower`: the borrower (own agreements), or an agent recording the borrower's "
        "wet-ink or e-signature (kept as on the borrower's behalf). `party=lender`: a supervisor only "
        "(agents have no lender signing authority: four eyes). 409 `document_hash_mismatch`, `already_signed`, "
        "`borrower_signature_required`. The borrower's signature carries `one_time_code` (POST .../signing-code): "
        "422 `one_time_code_required` (or a code with `party=lender`); a code that does not prove the borrower's "
        "consent is 403 `code_wrong` (with `attempts_left`; the last wrong one kills the code), "
        "`code_expired`, `code_used`, `code_attempts_exhausted`, `code_for_another_document`, `code_not_issued`; "
        "the signature records the code's channel and `otp_verified`. Emits `agreement.signed`; the second signature activates the agreement "
        "and emits `agreement.activated` with the schedule.",
    )
    def sign(agreement_id: str, body: SignRequest, who: roles.signer,
             idempotency_key: IdempotencyKey = None) -> JSONResponse:
        cmd = agreements.SignAgreement(agreement_id, Party(body.party), body.document_sha256, who, body.one_time_code)

        # not ``idempotent``: a refused code is recorded (its attempt committed) and answered 403: the
        # request is well formed, the code does not prove the borrower's consent
        def work(conn: Any) -> tuple[int, Any]:
            signed = agreements.sign_agreement(cmd, svc.unit_of_work(conn))
            if isinstance(signed, agreements.CodeRefused):
                return 403, problem_body(403, signed.reason, signed.detail, attempts_left=signed.check.attempts_left)
            return 201, signed.model_dump(mode="json")

        # the request's fingerprint keeps the code only under the service's key (never a bare hash
        # of six digits)
        fingerprint = {**body.model_dump(exclude={"one_time_code"}),
                       "one_time_code": _keyed(svc.code_secret, body.one_time_code)}
        return idempotent_json(svc.ctx.pool, f"{who.role}:{who.subject}", idempotency_key,
                               idempotency.request_hash("POST", f"/agreements/{agreement_id}/signatures", fingerprint),
                               work)

    @router.post(
        "/agreements/{agreement_id}/signing-code", response_model=views.SigningCodeView, status_code=201,
        tags=["agreements"], responses=problems(403, 404, 409, 429, 502, 503),
        summary="Send the borrower a one-time code to sign the current document",
        description="The borrower (own agreements) or an agent on the borrower's behalf (the code still goes to "
        "the borrower, who reads it out). The code signs this agreement's current document only, once, within "
        "`expires_at` and the policy's attempts; a new code replaces the previous one. 409 `already_signed` / "
        "`agreement_not_awaiting_signatures`; 429 `code_requested_too_soon` / `code_daily_limit` with Retry-After; "
        "502 `signing_code_not_delivered` (the lender's relay or gateway refused the message) / 503 "
        "`signing_code_gateway_unavailable` (it did not answer): no code is issued, ask again. "
        "Emits `agreement.signing_code_issued` (never the code).",
    )
    def request_signing_code(agreement_id: str, who: roles.borrower_or_agent,
                             idempotency_key: IdempotencyKey = None,
                             body: Annotated[SigningCodeRequest | None, Body()] = None) -> JSONResponse:
        request = body or SigningCodeRequest()
        cmd = agreements.IssueSigningCode(agreement_id, Channel(request.channel), who)
        try:
            return idempotent(svc, who, idempotency_key,
                              ("POST", f"/agreements/{agreement_id}/signing-code", request.model_dump()), 201,
                              lambda uow: agreements.issue_signing_code(cmd, uow))
        except TooManyCodes as exc:
            return problem(429, exc.reason, exc.message, headers={"Retry-After": str(exc.retry_after_seconds)},
                           retry_after_seconds=exc.retry_after_seconds)
        except CodeNotDelivered as exc:  # rolled back: no code was issued
            return problem(exc.status_code, exc.reason, exc.message,
                           headers={"Retry-After": str(RETRY_AFTER_SECONDS)} if exc.status_code == 503 else None)

    return create_service_app(
        settings=svc.ctx.settings,
        pool=svc.ctx.pool,
        title="Forbear agreement",
        description="Offers made from approved evaluations, with expiry; acceptance or counter-proposal; the "
        "agreement document (canonical JSON + rendered text, sha256); signatures by the borrower then the lender; "
        "activation with the new schedule. Amounts are decimal strings.",
        routers=[router],
        required_topics=[svc.ctx.settings.topic(AGREEMENT_EVENTS.name)],
        authz=authz,
        # a PKCS#11 token admits one login per process at a time: log out when the process stops
        on_shutdown=svc.signer.close if svc.signer is not None else None,
    )


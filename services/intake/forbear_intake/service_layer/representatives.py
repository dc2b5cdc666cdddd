"""Intake's use cases on professional help: authorise a representative, revoke one.

The representative's name is personal data: stored here, shown masked, never in an event, an
audit detail or a log. The events and the audit say who authorised what, of which kind and
scope, for which dates, on which document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from forbear_shared.domain.hardship import DocumentType
from forbear_shared.errors import Conflict, NotFound, Unprocessable
from forbear_shared.events.schemas.intake import RepresentativeAuthorised, RepresentativeRevoked
from forbear_shared.ids import new_id
from forbear_shared.unit_of_work import UnitOfWork

from forbear_intake.adapters import repository as repo
from forbear_intake.domain import representatives as rules
from forbear_intake.service_layer import views
from forbear_intake.service_layer.cases import audit, load_case
from forbear_intake.service_layer.commands import AuthoriseRepresentative, RevokeRepresentative

if TYPE_CHECKING:
    from forbear_intake.bootstrap import Intake

#: an authorisation document counts while it awaits review or once accepted, not once rejected
_DOCUMENT_STATUSES = frozenset({"pending", "accepted"})


def authorise_representative(cmd: AuthoriseRepresentative, uow: UnitOfWork[Intake]) -> views.RepresentativeView:
    """Record a written authorisation; from the next contact on, the contact rules follow it."""
    request, who = cmd.authorisation, cmd.who
    with uow:
        conn, today = uow.conn, uow.business_date
        case = load_case(conn, cmd.case_id, who)
        if case.get("personal_data_erased_on") is not None:
            raise Conflict("personal_data_erased", "the case's personal data was erased; it takes no representative")
        document = next((d for d in repo.list_documents(conn, cmd.case_id)
                         if d["document_id"] == request.document_id), None)
        if document is None or document["document_type"] != DocumentType.REPRESENTATIVE_AUTHORISATION.value:
            raise Unprocessable("authorisation_document_not_found",
                                f"document_id must name a {DocumentType.REPRESENTATIVE_AUTHORISATION.value} "
                                "document of this case")
        if document["status"] not in _DOCUMENT_STATUSES or document.get("erased_on") is not None:
            raise Unprocessable("authorisation_document_rejected",
                                f"document {request.document_id} is {document['status']}: upload a new authorisation")
        starts_on = request.starts_on or today
        rules.check_authorisation(kind=request.kind, scopes=request.scopes, starts_on=starts_on,
                                  ends_on=request.ends_on, today=today, policy=uow.policy)
        scopes = sorted({s.value for s in request.scopes})
        row = {
            "representative_id": new_id("R"), "case_id": cmd.case_id, "kind": request.kind.value,
            "name": request.name, "channel": request.channel, "scopes": scopes, "starts_on": starts_on,
            "ends_on": request.ends_on, "document_id": request.document_id, "authorised_by": who.subject,
            "authorised_role": who.role, "authorised_on": today, "revoked_on": None, "revoked_by": None,
        }
        answer = {**row, "document_status": document["status"]}
        repo.insert_representative(conn, row)
        audit(conn, cmd.case_id, today, who, "representative_authorised", None,
              representative_id=row["representative_id"], kind=row["kind"], scopes=scopes, starts_on=starts_on,
              ends_on=request.ends_on, document_id=request.document_id, channel=request.channel)
        uow.emit(type="representative.authorised", case_id=cmd.case_id, business_date=today,
                 payload=RepresentativeAuthorised(
                     representative_id=row["representative_id"], kind=row["kind"], scopes=scopes,
                     starts_on=starts_on, ends_on=request.ends_on, document_id=request.document_id,
                     authorised_on=today))
        return views.representative_view(answer, who, today)


def revoke_representative(cmd: RevokeRepresentative, uow: UnitOfWork[Intake]) -> views.RepresentativeView:
    """Revoke an authorisation now: the very next contact is decided without it."""
    who = cmd.who
    with uow:
        conn, today = uow.conn, uow.business_date
        load_case(conn, cmd.case_id, who)  # the case's lock orders this before any later contact
        row = next((r for r in repo.list_representatives(conn, cmd.case_id)
                    if r["representative_id"] == cmd.representative_id), None)
        if row is None:
            raise NotFound("representative", cmd.representative_id)
        rules.check_revocable(views.representative(row))
        repo.revoke_representative(conn, cmd.representative_id, on=today, by=who.subject)
        row.update(revoked_on=today, revoked_by=who.subject)
        audit(conn, cmd.case_id, today, who, "representative_revoked", None,
              representative_id=cmd.representative_id, kind=row["kind"], scopes=list(row["scopes"]))
        uow.emit(type="representative.revoked", case_id=cmd.case_id, business_date=today,
                 payload=RepresentativeRevoked(
                     representative_id=cmd.representative_id, kind=row["kind"], scopes=list(row["scopes"]),
                     starts_on=row["starts_on"], ends_on=row["ends_on"], revoked_on=today))
        return views.representative_view(row, who, today)

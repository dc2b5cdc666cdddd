"""Intake's use case on the communication log: record a contact attempt under the contact rules."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from forbear_shared import metrics
from forbear_shared.domain.calendar import add_days
from forbear_shared.errors import Unprocessable
from forbear_shared.events.schemas.intake import ContactRecorded
from forbear_shared.ids import new_id
from forbear_shared.unit_of_work import UnitOfWork

from forbear_intake.adapters import repository as repo
from forbear_intake.domain.contact_rules import contact_refusals
from forbear_intake.domain.representatives import REPRESENTATIVE_PARTY, find
from forbear_intake.service_layer import views
from forbear_intake.service_layer.cases import audit, load_case
from forbear_intake.service_layer.commands import RecordContact

if TYPE_CHECKING:
    from forbear_intake.bootstrap import Intake

log = logging.getLogger(__name__)


def record_contact(cmd: RecordContact, uow: UnitOfWork[Intake]) -> views.ContactView:
    """Record a contact attempt; a refused one is stored and announced too (the refusal is the
    record): the answer's ``outcome`` says which."""
    contact, who, policy = cmd.contact, cmd.who, uow.policy
    with uow:
        conn, today = uow.conn, uow.business_date
        load_case(conn, cmd.case_id, who)
        represented_by = _named_representative(contact.party, contact.representative_id)
        representatives = [views.representative(r) for r in repo.list_representatives(conn, cmd.case_id)]
        at_local = dt.datetime.combine(today, dt.time.fromisoformat(contact.local_time))
        since = add_days(today, -policy.contact.window_days)
        previous = repo.outbound_attempts_since(conn, cmd.case_id, since) if contact.direction == "outbound" else []
        reasons = [r.value for r in contact_refusals(direction=contact.direction, party=contact.party,
                                                     at_local=at_local, previous_attempts=previous, policy=policy,
                                                     representatives=representatives,
                                                     representative_id=represented_by)]
        # a contact records the representative it went through: one of this case's, never another's
        through = find(representatives, represented_by)
        outcome = "refused" if reasons else "allowed"
        row = {
            "contact_id": new_id("K"), "case_id": cmd.case_id, "party": contact.party, "channel": contact.channel,
            "direction": contact.direction, "on_date": today, "local_time": at_local.time(), "outcome": outcome,
            "refusal_reasons": reasons, "note": contact.note, "recorded_by": who.subject,
            "representative_id": through.representative_id if through else None,
        }
        repo.insert_contact(conn, row)
        audit(conn, cmd.case_id, today, who, "contact_recorded", reasons[0] if reasons else None,
              contact_id=row["contact_id"], party=contact.party, channel=contact.channel,
              direction=contact.direction, local_time=contact.local_time, outcome=outcome, refusal_reasons=reasons,
              representative_id=row["representative_id"])
        uow.emit(type="contact.recorded", case_id=cmd.case_id, business_date=today,
                 payload=ContactRecorded(contact_id=row["contact_id"], party=contact.party, channel=contact.channel,
                                         direction=contact.direction, outcome=outcome,
                                         refusal_reason=",".join(reasons) or None, local_time=contact.local_time,
                                         on=today, representative_id=row["representative_id"]))
    metrics.CONTACTS.labels(contact.channel, outcome).inc()
    if reasons:
        log.info("contact refused", extra={"case_id": cmd.case_id, "reasons": ",".join(reasons)})
    return views.contact_view(row)


def _named_representative(party: str, representative_id: str | None) -> str | None:
    """A contact with a representative names which one; no other contact names one."""
    if party == REPRESENTATIVE_PARTY and representative_id is None:
        raise Unprocessable("representative_id_required", "a contact with a representative names its representative_id")
    if party != REPRESENTATIVE_PARTY and representative_id is not None:
        raise Unprocessable("representative_id_without_representative",
                            "representative_id is given only with party representative")
    return representative_id

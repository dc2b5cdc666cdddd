"""Agreements enter monitoring when activated; the guard's and the dossier's projections.

Every handler here takes ``(conn, event)`` inside the inbox transaction, so its effect and
the record that the event was consumed commit together.
"""

from __future__ import annotations

import datetime as dt
import logging

import psycopg
from forbear_shared.domain.arrears import LoanLedger, grace_cutoff
from forbear_shared.domain.renegotiation import renegotiation_allowed
from forbear_shared.domain.schedule import Schedule
from forbear_shared.events import DecodedEvent
from forbear_shared.events.schemas.agreement import AgreementActivated, OfferAccepted, OfferExpired, OfferMade
from forbear_shared.events.schemas.evaluation import CaseDecided
from forbear_shared.events.schemas.intake import (
    CaseSubmitted,
    ContactRecorded,
    EvidenceReviewed,
    RenegotiationRequested,
)
from psycopg.types.json import Jsonb

from forbear_monitoring.adapters import repository as repo
from forbear_monitoring.service_layer.deps import Monitoring

log = logging.getLogger(__name__)


def on_agreement_activated(m: Monitoring, conn: psycopg.Connection, event: DecodedEvent) -> None:
    p = event.payload
    assert isinstance(p, AgreementActivated)
    schedule_doc = p.schedule.model_dump(mode="json")
    schedule = Schedule.from_dict(schedule_doc)
    inserted = repo.insert_agreement(conn, {
        "agreement_id": p.agreement_id, "case_id": event.envelope.case_id, "borrower_id": p.borrower_id,
        "loan_ids": p.loan_ids, "option": p.option, "document_sha256": p.document_sha256,
        "activated_on": p.activated_on, "policy_version": p.policy_version, "currency": schedule.currency,
        "schedule": Jsonb(schedule_doc), "supersedes_agreement_id": p.supersedes_agreement_id,
    })
    if not inserted:
        return  # the same agreement activated twice (a replayed event with a new id): nothing new
    ledger = LoanLedger.open(schedule, m.policy)
    repo.insert_instalments(conn, [
        {"agreement_id": p.agreement_id, "number": i.number, "due_date": i.due_date,
         "grace_cutoff": grace_cutoff(i, m.policy), "kind": i.kind.value, "principal": i.principal.amount,
         "interest": i.interest.amount, "fee": i.fee.amount, "total": i.total.amount,
         "settled_on": ledger.position(i.number).settled_on}
        for i in schedule.instalments
    ])
    repo.insert_agreement_loans(conn, p.agreement_id, p.loan_ids, p.activated_on)
    m.schedules.put(p.agreement_id, schedule)
    if p.supersedes_agreement_id:
        supersede(m, conn, p.supersedes_agreement_id, by=p.agreement_id, on=p.activated_on)
    repo.rematch_unmatched(conn, p.loan_ids, p.activated_on)
    from forbear_shared import metrics

    metrics.AGREEMENTS.labels("monitored").inc()


def supersede(m: Monitoring, conn: psycopg.Connection, old_id: str, *, by: str, on: dt.date) -> None:
    """A renegotiated agreement replaces the old one: the old is closed, its renegotiation ends."""
    repo.lock_ledger(conn)
    old = repo.agreement(conn, old_id, for_update=True)
    if old is not None and old["status"] == "active":
        repo.close_agreement(conn, old_id, "superseded", on, superseded_by=by)
    conn.execute(
        "update renegotiations set state = 'ended', ended_on = %s, ended_reason = 'renegotiated' "
        "where agreement_id = %s and state not in ('ended', 'over_limit')",
        (on, old_id),
    )


# -- dual-tracking guard projection ---------------------------------------------------------------


def on_renegotiation_requested(m: Monitoring, conn: psycopg.Connection, event: DecodedEvent) -> None:
    p = event.payload
    assert isinstance(p, RenegotiationRequested)
    earlier = [
        r["requested_on"]
        for r in conn.execute(
            "select requested_on from renegotiations where agreement_id = %s and case_id <> %s and state <> 'over_limit'",
            (p.agreement_id, event.envelope.case_id),
        ).fetchall()
    ]
    # the guard must not become an endless stall: a request over the policy's limit does not hold referral
    allowed = renegotiation_allowed(earlier, on=p.requested_on, policy=m.policy)
    conn.execute(
        "insert into renegotiations (case_id, agreement_id, requested_on, state) values (%s, %s, %s, %s) "
        "on conflict (case_id) do nothing",
        (event.envelope.case_id, p.agreement_id, p.requested_on, "requested" if allowed.allowed else "over_limit"),
    )
    if not allowed.allowed:
        log.info("renegotiation over the policy limit does not pause referral", extra={"reason": allowed.reason})


def on_case_decided(m: Monitoring, conn: psycopg.Connection, event: DecodedEvent) -> None:
    """A decision on a renegotiation case: a decline ends it; anything else keeps it pending."""
    p = event.payload
    assert isinstance(p, CaseDecided)
    case_id = event.envelope.case_id
    known = conn.execute("select state from renegotiations where case_id = %s", (case_id,)).fetchone()
    if known is None:
        if not p.renegotiates_agreement_id:
            return  # not a renegotiation: nothing for monitoring
        conn.execute(
            "insert into renegotiations (case_id, agreement_id, requested_on, state) values (%s, %s, %s, 'requested')",
            (case_id, p.renegotiates_agreement_id, p.decided_on),
        )
    elif known["state"] in ("ended", "over_limit"):
        return
    if p.outcome == "decline":
        state, ended_on, reason = "ended", p.decided_on, "declined"
    elif p.outcome == "approve":
        state, ended_on, reason = "offered", None, None
    else:  # needs_supervisor, need_more_evidence: the evaluation is still pending
        state, ended_on, reason = "evaluating", None, None
    conn.execute(
        "update renegotiations set state = %s, ended_on = %s, ended_reason = %s where case_id = %s",
        (state, ended_on, reason, case_id),
    )


def on_case_submitted(m: Monitoring, conn: psycopg.Connection, event: DecodedEvent) -> None:
    """The evidence list of a case (with hashes) for the dossier; a renegotiation is now in evaluation."""
    p = event.payload
    assert isinstance(p, CaseSubmitted)
    case_id = event.envelope.case_id
    with conn.cursor() as cur:
        cur.executemany(
            "insert into evidence (case_id, document_id, document_type, status, sha256) values (%s, %s, %s, %s, %s) "
            "on conflict (case_id, document_id) do update set document_type = excluded.document_type, "
            "status = excluded.status, sha256 = excluded.sha256",
            [(case_id, e.document_id, e.document_type, e.status, e.sha256) for e in p.evidence],
        )
    conn.execute(
        "update renegotiations set state = 'evaluating' where case_id = %s and state = 'requested'", (case_id,)
    )


def on_evidence_reviewed(m: Monitoring, conn: psycopg.Connection, event: DecodedEvent) -> None:
    p = event.payload
    assert isinstance(p, EvidenceReviewed)
    conn.execute(
        "insert into evidence (case_id, document_id, document_type, status) values (%s, %s, %s, %s) "
        "on conflict (case_id, document_id) do update set status = excluded.status",
        (event.envelope.case_id, p.document_id, p.document_type, p.outcome),
    )


def on_contact_recorded(m: Monitoring, conn: psycopg.Connection, event: DecodedEvent) -> None:
    p = event.payload
    assert isinstance(p, ContactRecorded)
    conn.execute(
        "insert into contacts (contact_id, case_id, party, channel, direction, outcome, on_date) "
        "values (%s, %s, %s, %s, %s, %s, %s) on conflict (contact_id) do nothing",
        (p.contact_id, event.envelope.case_id, p.party, p.channel, p.direction, p.outcome, p.on),
    )


def on_offer_made(m: Monitoring, conn: psycopg.Connection, event: DecodedEvent) -> None:
    p = event.payload
    assert isinstance(p, OfferMade)
    case_id = event.envelope.case_id
    if conn.execute("select 1 from renegotiations where case_id = %s", (case_id,)).fetchone() is None:
        return  # offers of first negotiations do not concern monitoring
    conn.execute(
        "insert into offers (offer_id, case_id, expires_on, state) values (%s, %s, %s, 'open') "
        "on conflict (offer_id) do nothing",
        (p.offer_id, case_id, p.expires_on),
    )
    conn.execute(
        "update renegotiations set state = 'offered' where case_id = %s and state in ('requested', 'evaluating')",
        (case_id,),
    )


def on_offer_expired(m: Monitoring, conn: psycopg.Connection, event: DecodedEvent) -> None:
    p = event.payload
    assert isinstance(p, OfferExpired)
    case_id = event.envelope.case_id
    conn.execute("update offers set state = 'expired' where offer_id = %s and state = 'open'", (p.offer_id,))
    # the renegotiation ends when no offer of it is left open or accepted
    conn.execute(
        """update renegotiations r set state = 'ended', ended_on = %s, ended_reason = 'offers_expired'
           where r.case_id = %s and r.state = 'offered'
             and not exists (select 1 from offers o where o.case_id = r.case_id and o.state in ('open', 'accepted'))""",
        (p.expired_on, case_id),
    )


def on_offer_accepted(m: Monitoring, conn: psycopg.Connection, event: DecodedEvent) -> None:
    """Accepted but not yet signed and activated: still pending (the new agreement will supersede)."""
    p = event.payload
    assert isinstance(p, OfferAccepted)
    case_id = event.envelope.case_id
    conn.execute("update offers set state = 'accepted' where offer_id = %s", (p.offer_id,))
    conn.execute(
        "update renegotiations set state = 'accepted' where case_id = %s and state not in ('ended', 'over_limit')",
        (case_id,),
    )

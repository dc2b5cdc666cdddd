"""What the console's pages read from the read model: queues, a case's timeline and
agreements, and how far behind the events the model is. Plain SQL on the console's own schema.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from forbear_console.readmodel.rules import awaiting_signature_of

#: queue id of the page -> (SQL, order): every queue is one indexed query, paged
_CASE_QUEUE = """
select c.case_id, c.hardship_category, c.channel, c.dpd_at_first_contact, c.opened_on, c.queue_on as since,
       c.last_outcome, c.submissions
from rm_case c where c.queue = %(queue)s order by c.queue_on, c.case_id limit %(limit)s offset %(offset)s"""
#: the three queues of a case still gathering evidence (intake's rule, projector._EVIDENCE_STATE)
_GATHERING = """
select c.case_id, c.hardship_category, c.channel, c.dpd_at_first_contact, c.opened_on, c.queue_on as since,
       c.evidence_deadline
from rm_case c where c.queue = 'gathering_evidence' and c.evidence_state = %(state)s
order by c.queue_on, c.case_id limit %(limit)s offset %(offset)s"""
_OFFERS_OPEN = """
select o.case_id, o.offer_id, o.rank, o.option, o.new_instalment, o.term_months, o.expires_on
from rm_offer o where o.status = 'open' order by o.expires_on, o.case_id, o.rank limit %(limit)s offset %(offset)s"""
_AGREEMENTS = """
select a.case_id, a.agreement_id, a.option, a.accepted_on, a.activated_on, a.level, a.level_since, a.remedy_deadline,
       a.referral_blocked_since, a.borrower_signed_on, a.lender_signed_on, a.referral_route, a.referred_on
from rm_agreement a where {where} order by {order} limit %(limit)s offset %(offset)s"""
#: near breaches still open: flagged, not cleared, the instalment not missed (the missed instalment
#: supersedes it), the agreement still monitored
OPEN_NEAR_BREACH = """
from rm_near_breach n join rm_agreement a on a.agreement_id = n.agreement_id
left join rm_instalment i on i.agreement_id = n.agreement_id and i.number = n.instalment
where n.flagged_on is not null and n.cleared_on is null and a.status = 'active' and i.missed_on is null"""
_NEAR_BREACH = f"""
select n.case_id, n.agreement_id, n.instalment, n.due_date, n.checkpoint, n.amount_due, n.amount_paid,
       n.required_share, n.flagged_on as since, a.level
{OPEN_NEAR_BREACH} order by n.due_date, n.agreement_id, n.instalment limit %(limit)s offset %(offset)s"""
#: appeals waiting for a second supervisor, oldest first, with the case they belong to
_APPEALS_TO_REVIEW = """
select a.case_id, a.appeal_id, a.decision_id, a.lodged_on as since, a.deadline, a.lodged_by, c.hardship_category,
       c.channel
from rm_appeal a left join rm_case c on c.case_id = a.case_id
where a.status = 'pending' and a.lodged_on is not null
order by a.lodged_on, a.appeal_id limit %(limit)s offset %(offset)s"""
_LEVEL_ORDER = ("case a.level when 'legal_referral' then 0 when 'breach_notice' then 1 when 'warning' then 2 "
                "when 'reminder' then 3 else 4 end, a.level_since, a.agreement_id")

QUEUES: dict[str, tuple[str, dict[str, Any]]] = {
    "awaiting-evidence": (_GATHERING, {"state": "awaiting_evidence"}),
    "evidence-to-review": (_GATHERING, {"state": "evidence_to_review"}),
    "ready-to-submit": (_GATHERING, {"state": "ready_to_submit"}),
    "supervisor-review": (_CASE_QUEUE, {"queue": "supervisor_review"}),
    "under-evaluation": (_CASE_QUEUE, {"queue": "under_evaluation"}),
    "offers-open": (_OFFERS_OPEN, {}),
    "awaiting-signature": (_AGREEMENTS.format(where="a.status = 'awaiting_signatures'",
                                              order="a.accepted_on, a.agreement_id"), {}),
    "active-agreements": (_AGREEMENTS.format(where="a.status = 'active'", order="a.activated_on, a.agreement_id"), {}),
    "at-risk": (_AGREEMENTS.format(where="a.status = 'active' and a.level in ('reminder', 'warning', 'breach_notice',"
                                         " 'legal_referral')", order=_LEVEL_ORDER), {}),
    "legal-referrals": (_AGREEMENTS.format(where="a.status = 'referred'", order="a.referred_on desc, a.agreement_id"),
                        {}),
    "near-breach": (_NEAR_BREACH, {}),
    "appeals-to-review": (_APPEALS_TO_REVIEW, {}),
}
_GATHERING_COUNT = "select count(*) as n from rm_case where queue = 'gathering_evidence' and evidence_state = '{}'"
_COUNTS = {
    "awaiting-evidence": _GATHERING_COUNT.format("awaiting_evidence"),
    "evidence-to-review": _GATHERING_COUNT.format("evidence_to_review"),
    "ready-to-submit": _GATHERING_COUNT.format("ready_to_submit"),
    "supervisor-review": "select count(*) as n from rm_case where queue = 'supervisor_review'",
    "under-evaluation": "select count(*) as n from rm_case where queue = 'under_evaluation'",
    "offers-open": "select count(*) as n from rm_offer where status = 'open'",
    "awaiting-signature": "select count(*) as n from rm_agreement where status = 'awaiting_signatures'",
    "active-agreements": "select count(*) as n from rm_agreement where status = 'active'",
    "at-risk": "select count(*) as n from rm_agreement where status = 'active'"
               " and level in ('reminder', 'warning', 'breach_notice', 'legal_referral')",
    "legal-referrals": "select count(*) as n from rm_agreement where status = 'referred'",
    "near-breach": f"select count(*) as n {OPEN_NEAR_BREACH}",
    "appeals-to-review": "select count(*) as n from rm_appeal where status = 'pending' and lodged_on is not null",
}
_AT_RISK_LEVELS = "select level as key, count(*) as n from rm_agreement where status = 'active'" \
                  " and level in ('reminder', 'warning', 'breach_notice', 'legal_referral') group by 1"


def queue(conn: psycopg.Connection, queue_id: str, *, limit: int, offset: int) -> dict[str, Any]:
    """One page of a queue and its total."""
    sql, params = QUEUES[queue_id]
    items = [dict(r) for r in conn.execute(sql, {**params, "limit": limit, "offset": offset})]
    if queue_id == "awaiting-signature":
        for item in items:
            item["awaiting_signature_of"] = awaiting_signature_of(item["borrower_signed_on"] is not None,
                                                                  item["lender_signed_on"] is not None)
    row = conn.execute(_COUNTS[queue_id]).fetchone()
    answer: dict[str, Any] = {"queue": queue_id, "total": row["n"] if row else 0, "limit": limit,
                              "offset": offset, "items": items}
    if queue_id == "at-risk":
        answer["by_level"] = {r["key"]: r["n"] for r in conn.execute(_AT_RISK_LEVELS)}
    return answer


def timeline(conn: psycopg.Connection, case_id: str) -> dict[str, Any] | None:
    """A case as the read model knows it: its queue, every event of every service in the order
    they occurred, its agreements with their instalment states."""
    case = conn.execute("select case_id, queue, queue_on, hardship_category, channel, opened_on, submissions,"
                        " last_outcome from rm_case where case_id = %s", (case_id,)).fetchone()
    if case is None:
        return None
    events = [dict(r) for r in conn.execute(
        "select event_id, occurred_at, business_date, type, producer, summary, line from rm_timeline"
        " where case_id = %s order by occurred_at, event_id", (case_id,))]
    agreements = [dict(r) for r in conn.execute(
        "select agreement_id, status, option, activated_on, level, level_since, remedy_deadline, closed_on"
        " from rm_agreement where case_id = %s order by accepted_on nulls last, agreement_id", (case_id,))]
    as_of = business_date(conn)
    near_breach = [dict(r) for r in conn.execute(
        "select n.agreement_id, n.instalment, n.due_date, n.checkpoint, n.amount_due, n.amount_paid, n.required_share,"
        f" n.flagged_on as since {OPEN_NEAR_BREACH} and n.case_id = %s order by n.agreement_id, n.instalment",
        (case_id,))]
    for agreement in agreements:
        flagged = {w["instalment"] for w in near_breach if w["agreement_id"] == agreement["agreement_id"]}
        rows = conn.execute("select number, due_date, total, paid, settled_on, missed_on from rm_instalment"
                            " where agreement_id = %s order by number", (agreement["agreement_id"],))
        agreement["instalments"] = [instalment_state(dict(r), as_of, near_breach=r["number"] in flagged) for r in rows]
    return {**dict(case), "business_date": as_of, "near_breach": near_breach, "events": events,
            "agreements": agreements}


def instalment_state(row: dict[str, Any], as_of: dt.date | None, *, near_breach: bool = False) -> dict[str, Any]:
    """due / near breach / paid / missed, and the instalment's days past due on the business date."""
    due: dt.date | None = row.get("due_date")
    if row.get("settled_on") is not None:
        state = "paid"
    elif row.get("missed_on") is not None:
        state = "missed"
    else:
        state = "near_breach" if near_breach else "due"
    dpd = (as_of - due).days if state != "paid" and due is not None and as_of is not None and as_of > due else 0
    return {**row, "state": state, "dpd": dpd}


def business_date(conn: psycopg.Connection) -> dt.date | None:
    row = conn.execute("select business_date from rm_progress").fetchone()
    return row["business_date"] if row else None


def lag(conn: psycopg.Connection) -> dict[str, Any]:
    """The newest event projected, and how long after it occurred it was projected
    (``occurred_at`` is the producer's clock, ``last_projected_at`` the database's)."""
    row = conn.execute("select business_date, last_event_id, last_event_type, last_occurred_at, last_projected_at,"
                       " events_projected, extract(epoch from last_projected_at - last_occurred_at) as behind,"
                       " extract(epoch from clock_timestamp() - last_projected_at) as idle from rm_progress").fetchone()
    if row is None or row["last_event_id"] is None:
        return {"last_event_id": None, "events_projected": 0}
    return {
        "business_date": row["business_date"], "last_event_id": str(row["last_event_id"]),
        "last_event_type": row["last_event_type"], "last_occurred_at": row["last_occurred_at"],
        "last_projected_at": row["last_projected_at"], "events_projected": row["events_projected"],
        "behind_seconds": round(float(row["behind"]), 3), "idle_seconds": round(float(row["idle"]), 3),
    }

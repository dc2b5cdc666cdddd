"""SQL for the evaluation schema: what the use cases load and write (cases, decisions, reviews,
their audit). The API's read models are in ``service_layer/views.py``.

Every function takes the caller's connection, so a use case writes its rows and its events in
one transaction. A case's row is the lock of everything about the case: its submissions, its
decisions and its reviews change only while it is held.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

Row = dict[str, Any]


# -- cases ----------------------------------------------------------------------------------

def lock_case(conn: psycopg.Connection, case_id: str) -> Row | None:
    """The case, locked, with what a new decision on it needs: its open review (superseded by a
    rules decision) and its latest approval (the decision whose offers a counter-proposal answers)."""
    return conn.execute(  # type: ignore[return-value]
        "select c.*, "
        "(select r.review_id from reviews r where r.case_id = c.case_id and r.status = 'open') as open_review_id, "
        "(select d.decision_id from decisions d where d.case_id = c.case_id and d.outcome = 'approve' "
        " order by d.created_at desc, d.decision_id desc limit 1) as approval_id "
        "from cases c where c.case_id = %s for update of c",
        (case_id,),
    ).fetchone()


def save_submission(
    conn: psycopg.Connection, *, case_id: str, borrower_id: str, opened_on: dt.date, submission: int,
    submitted: dict[str, Any], submitted_on: dt.date,
) -> None:
    conn.execute(
        "insert into cases (case_id, borrower_id, opened_on, latest_submission, submitted, submitted_on) "
        "values (%s, %s, %s, %s, %s, %s) on conflict (case_id) do update set "
        "latest_submission = excluded.latest_submission, submitted = excluded.submitted, "
        "submitted_on = excluded.submitted_on, updated_at = now()",
        (case_id, borrower_id, opened_on, submission, Jsonb(submitted), submitted_on),
    )


def erase_statement(conn: psycopg.Connection, case_id: str) -> None:
    """Drop the income and expenditure statement from the case's latest submission."""
    conn.execute(
        "update cases set submitted = jsonb_set(submitted, '{statement}', 'null'), updated_at = now() "
        "where case_id = %s", (case_id,),
    )


def set_first_decision(conn: psycopg.Connection, case_id: str, on: dt.date) -> None:
    conn.execute("update cases set first_decided_on = %s where case_id = %s", (on, case_id))


# -- decisions ------------------------------------------------------------------------------

@dataclass(frozen=True)
class DecisionRow:
    decision_id: str
    case_id: str
    borrower_id: str
    submission: int
    trigger: str
    outcome: str
    decided_by: str
    decided_by_subject: str | None
    override_reason: str | None
    reasons: list[dict[str, Any]]
    offers: list[dict[str, Any]]
    assessment: dict[str, Any]
    policy_version: str
    decided_on: dt.date
    supersedes_decision_id: str | None
    event_id: uuid.UUID
    #: a decline's last day to appeal (None on other outcomes, or under a policy without appeals)
    appeal_deadline: dt.date | None = None


def insert_decision(conn: psycopg.Connection, d: DecisionRow) -> None:
    conn.execute(
        "insert into decisions (decision_id, case_id, borrower_id, submission, trigger, outcome, decided_by, "
        "decided_by_subject, override_reason, reasons, offers, assessment, policy_version, decided_on, "
        "supersedes_decision_id, event_id, appeal_deadline) "
        "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            d.decision_id, d.case_id, d.borrower_id, d.submission, d.trigger, d.outcome, d.decided_by,
            d.decided_by_subject, d.override_reason, Jsonb(d.reasons), Jsonb(d.offers), Jsonb(d.assessment),
            d.policy_version, d.decided_on, d.supersedes_decision_id, d.event_id, d.appeal_deadline,
        ),
    )


# -- reviews --------------------------------------------------------------------------------

def lock_review(conn: psycopg.Connection, review_id: str) -> Row | None:
    """A review with the rules' decision it asks about and its case, the case locked.

    The case is the lock (as for every change to a case's reviews), so the review is read after
    it is held: a decision made meanwhile has already superseded it, and that is what is seen.
    """
    locked = conn.execute(
        "select c.case_id from cases c where c.case_id = (select case_id from reviews where review_id = %s) "
        "for update", (review_id,),
    ).fetchone()
    if locked is None:
        return None
    return conn.execute(  # type: ignore[return-value]
        "select r.review_id, r.case_id, r.status, r.decision_id, r.outcome_decision_id, "
        "c.borrower_id, c.latest_submission, c.submitted, c.opened_on, c.first_decided_on, "
        "d.outcome as rules_outcome, d.reasons as rules_reasons, d.offers as rules_offers, "
        "d.policy_version as rules_policy_version, d.assessment as rules_assessment "
        "from reviews r join cases c on c.case_id = r.case_id join decisions d on d.decision_id = r.decision_id "
        "where r.review_id = %s",
        (review_id,),
    ).fetchone()


def open_review(
    conn: psycopg.Connection, *, review_id: str, case_id: str, borrower_id: str, decision_id: str, opened_on: dt.date
) -> None:
    conn.execute(
        "insert into reviews (review_id, case_id, borrower_id, decision_id, status, opened_on) "
        "values (%s, %s, %s, %s, 'open', %s)",
        (review_id, case_id, borrower_id, decision_id, opened_on),
    )


def close_review(
    conn: psycopg.Connection, review_id: str, *, status: str, closed_on: dt.date, outcome_decision_id: str | None
) -> None:
    conn.execute(
        "update reviews set status = %s, closed_on = %s, outcome_decision_id = %s where review_id = %s",
        (status, closed_on, outcome_decision_id, review_id),
    )


def append_audit(
    conn: psycopg.Connection, *, review_id: str, case_id: str, action: str, actor_subject: str, actor_role: str,
    reason: str | None, before: dict[str, Any] | None, after: dict[str, Any], business_date: dt.date,
) -> None:
    conn.execute(
        "insert into review_audit (review_id, case_id, action, actor_subject, actor_role, reason, before, after, "
        "business_date) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            review_id, case_id, action, actor_subject, actor_role, reason,
            Jsonb(before) if before is not None else None, Jsonb(after), business_date,
        ),
    )


# -- appeals ----------------------------------------------------------------------------------

def lock_decision_case(conn: psycopg.Connection, decision_id: str) -> Row | None:
    """A decision with its case locked (the case is the lock of its decisions and appeals), and
    whether it is the case's latest decision."""
    locked = conn.execute(
        "select c.case_id from cases c where c.case_id = (select case_id from decisions where decision_id = %s) "
        "for update", (decision_id,),
    ).fetchone()
    if locked is None:
        return None
    return conn.execute(  # type: ignore[return-value]
        "select d.*, c.latest_submission, c.submitted, c.opened_on, c.first_decided_on, "
        "(select r.review_id from reviews r where r.case_id = c.case_id and r.status = 'open') as open_review_id, "
        "not exists (select 1 from decisions l where l.case_id = d.case_id "
        "            and (l.created_at, l.decision_id) > (d.created_at, d.decision_id)) as latest, "
        "(select count(*) from appeals a where a.decision_id = d.decision_id) as appeals_so_far "
        "from decisions d join cases c on c.case_id = d.case_id where d.decision_id = %s",
        (decision_id,),
    ).fetchone()


def insert_appeal(conn: psycopg.Connection, appeal: Row) -> None:
    conn.execute(
        "insert into appeals (appeal_id, case_id, borrower_id, decision_id, status, lodged_on, deadline, lodged_by, "
        "representative_id, recorded_by_subject, recorded_by_role, statement, evidence) "
        "values (%(appeal_id)s, %(case_id)s, %(borrower_id)s, %(decision_id)s, 'pending', %(lodged_on)s, "
        "%(deadline)s, %(lodged_by)s, %(representative_id)s, %(recorded_by_subject)s, %(recorded_by_role)s, "
        "%(statement)s, %(evidence)s)",
        {**appeal, "evidence": Jsonb(appeal["evidence"])},
    )


def lock_appeal(conn: psycopg.Connection, appeal_id: str) -> Row | None:
    """An appeal with the decision it appeals and its case, the case locked."""
    locked = conn.execute(
        "select c.case_id from cases c where c.case_id = (select case_id from appeals where appeal_id = %s) "
        "for update", (appeal_id,),
    ).fetchone()
    if locked is None:
        return None
    return conn.execute(  # type: ignore[return-value]
        "select a.*, d.decided_by_subject as decision_decided_by_subject, d.policy_version, d.submission, "
        "c.latest_submission, c.submitted, c.opened_on, c.first_decided_on, "
        "(select r.review_id from reviews r where r.case_id = c.case_id and r.status = 'open') as open_review_id "
        "from appeals a join decisions d on d.decision_id = a.decision_id join cases c on c.case_id = a.case_id "
        "where a.appeal_id = %s",
        (appeal_id,),
    ).fetchone()


def close_appeal(conn: psycopg.Connection, appeal_id: str, *, status: str, decided_on: dt.date,
                 decided_by_subject: str, reason: str, outcome_decision_id: str | None) -> Row:
    return conn.execute(  # type: ignore[return-value]
        "update appeals set status = %s, decided_on = %s, decided_by_subject = %s, decision_reason = %s, "
        "outcome_decision_id = %s where appeal_id = %s returning *",
        (status, decided_on, decided_by_subject, reason, outcome_decision_id, appeal_id),
    ).fetchone()


def erase_appeal_statements(conn: psycopg.Connection, case_id: str) -> None:
    conn.execute("update appeals set statement = null where case_id = %s", (case_id,))


# -- representatives (intake's, as events told us) ---------------------------------------------

def upsert_representative(conn: psycopg.Connection, case_id: str, r: Row) -> None:
    conn.execute(
        "insert into representatives (case_id, representative_id, kind, scopes, starts_on, ends_on, revoked_on, "
        "document_id) values (%(case_id)s, %(representative_id)s, %(kind)s, %(scopes)s, %(starts_on)s, "
        "%(ends_on)s, %(revoked_on)s, %(document_id)s) "
        "on conflict (case_id, representative_id) do update set revoked_on = "
        "coalesce(representatives.revoked_on, excluded.revoked_on)",
        {**r, "case_id": case_id},
    )


def revoke_representative(conn: psycopg.Connection, case_id: str, representative_id: str, on: dt.date) -> None:
    conn.execute(
        "update representatives set revoked_on = coalesce(revoked_on, %s) "
        "where case_id = %s and representative_id = %s", (on, case_id, representative_id),
    )


def set_authorisation_document_rejected(conn: psycopg.Connection, case_id: str, document_id: str,
                                        rejected: bool) -> None:
    conn.execute("update representatives set document_rejected = %s where case_id = %s and document_id = %s",
                 (rejected, case_id, document_id))


def representatives_of(conn: psycopg.Connection, case_id: str) -> list[Row]:
    return conn.execute(  # type: ignore[return-value]
        "select * from representatives where case_id = %s order by representative_id", (case_id,)).fetchall()

"""SQL for the evaluation schema: cases, decisions, reviews, their audit, offers made, idempotency.

Every function takes the caller's connection, so a use case writes its rows and its events in
one transaction.
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

def get_case(conn: psycopg.Connection, case_id: str, *, for_update: bool = False) -> Row | None:
    sql = "select * from cases where case_id = %s" + (" for update" if for_update else "")
    return conn.execute(sql, (case_id,)).fetchone()  # type: ignore[return-value]


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


def erase_statement(conn: psycopg.Connection, case_id: str) -> bool:
    """Drop the income and expenditure statement from the case's latest submission."""
    row = conn.execute(
        "update cases set submitted = jsonb_set(submitted, '{statement}', 'null'), updated_at = now() "
        "where case_id = %s returning case_id", (case_id,),
    ).fetchone()
    return row is not None


def mark_first_decision(conn: psycopg.Connection, case_id: str, on: dt.date) -> bool:
    """Set the case's first decision date once; True when this call set it."""
    row = conn.execute(
        "update cases set first_decided_on = %s where case_id = %s and first_decided_on is null returning case_id",
        (on, case_id),
    ).fetchone()
    return row is not None


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


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def insert_decision(conn: psycopg.Connection, d: DecisionRow) -> None:
    conn.execute(
        "insert into decisions (decision_id, case_id, borrower_id, submission, trigger, outcome, decided_by, "
        "decided_by_subject, override_reason, reasons, offers, assessment, policy_version, decided_on, "
        "supersedes_decision_id, event_id) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            d.decision_id, d.case_id, d.borrower_id, d.submission, d.trigger, d.outcome, d.decided_by,
            d.decided_by_subject, d.override_reason, Jsonb(d.reasons), Jsonb(d.offers), Jsonb(d.assessment),
            d.policy_version, d.decided_on, d.supersedes_decision_id, d.event_id,
        ),
    )


def get_decision(conn: psycopg.Connection, decision_id: str) -> Row | None:
    return conn.execute("select * from decisions where decision_id = %s", (decision_id,)).fetchone()  # type: ignore[return-value]


def decisions_for_case(conn: psycopg.Connection, case_id: str) -> list[Row]:
    return conn.execute(  # type: ignore[return-value]
        "select * from decisions where case_id = %s order by created_at, decision_id", (case_id,)
    ).fetchall()


def latest_decision(conn: psycopg.Connection, case_id: str) -> Row | None:
    return conn.execute(  # type: ignore[return-value]
        "select * from decisions where case_id = %s order by created_at desc, decision_id desc limit 1", (case_id,)
    ).fetchone()


# -- offers made (projection of agreement's offer.made) -------------------------------------

def record_offer_made(conn: psycopg.Connection, *, offer_id: str, case_id: str, decision_id: str, rank: int) -> None:
    conn.execute(
        "insert into offers_made (offer_id, case_id, decision_id, rank) values (%s, %s, %s, %s) "
        "on conflict (offer_id) do nothing",
        (offer_id, case_id, decision_id, rank),
    )


def get_offer_made(conn: psycopg.Connection, offer_id: str) -> Row | None:
    return conn.execute("select * from offers_made where offer_id = %s", (offer_id,)).fetchone()  # type: ignore[return-value]


# -- reviews --------------------------------------------------------------------------------

def open_review(
    conn: psycopg.Connection, *, review_id: str, case_id: str, borrower_id: str, decision_id: str, opened_on: dt.date
) -> None:
    conn.execute(
        "insert into reviews (review_id, case_id, borrower_id, decision_id, status, opened_on) "
        "values (%s, %s, %s, %s, 'open', %s)",
        (review_id, case_id, borrower_id, decision_id, opened_on),
    )


def get_review(conn: psycopg.Connection, review_id: str, *, for_update: bool = False) -> Row | None:
    sql = "select * from reviews where review_id = %s" + (" for update" if for_update else "")
    return conn.execute(sql, (review_id,)).fetchone()  # type: ignore[return-value]


def open_review_of_case(conn: psycopg.Connection, case_id: str) -> Row | None:
    return conn.execute(  # type: ignore[return-value]
        "select * from reviews where case_id = %s and status = 'open' for update", (case_id,)
    ).fetchone()


def close_review(
    conn: psycopg.Connection, review_id: str, *, status: str, closed_on: dt.date, outcome_decision_id: str | None
) -> None:
    conn.execute(
        "update reviews set status = %s, closed_on = %s, outcome_decision_id = %s where review_id = %s",
        (status, closed_on, outcome_decision_id, review_id),
    )


def list_reviews(conn: psycopg.Connection, status: str | None, limit: int, offset: int,
                 case_id: str | None = None) -> list[Row]:
    clauses = [(c, v) for c, v in (("r.status = %s", status), ("r.case_id = %s", case_id)) if v]
    where = ("where " + " and ".join(c for c, _ in clauses)) if clauses else ""
    return conn.execute(  # type: ignore[return-value]
        "select r.*, d.reasons, d.offers, d.policy_version, d.decided_on, d.assessment "
        f"from reviews r join decisions d on d.decision_id = r.decision_id {where} "
        "order by r.created_at, r.review_id limit %s offset %s",
        (*(v for _, v in clauses), limit, offset),
    ).fetchall()


def list_reviews_by_id(conn: psycopg.Connection, review_id: str) -> list[Row]:
    return conn.execute(  # type: ignore[return-value]
        "select r.*, d.reasons, d.offers, d.policy_version, d.decided_on, d.assessment "
        "from reviews r join decisions d on d.decision_id = r.decision_id where r.review_id = %s",
        (review_id,),
    ).fetchall()


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


def audit_of_review(conn: psycopg.Connection, review_id: str) -> list[Row]:
    return conn.execute(  # type: ignore[return-value]
        "select * from review_audit where review_id = %s order by id", (review_id,)
    ).fetchall()


# -- idempotency keys -----------------------------------------------------------------------


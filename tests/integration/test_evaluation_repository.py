"""Evaluation's use-case loads on a real Postgres: what ``lock_case`` and ``lock_review`` return."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from forbear_evaluation.adapters import repository as repo
from forbear_evaluation.bootstrap import MIGRATIONS
from forbear_shared.db import migrate
from psycopg.rows import dict_row

pytestmark = pytest.mark.integration

ON = dt.date(2026, 3, 10)


@pytest.fixture()
def conn(infra: Any) -> Iterator[psycopg.Connection[Any]]:
    schema = f"evr_{uuid.uuid4().hex[:8]}"
    migrate(infra.database_url, schema, MIGRATIONS)
    # autocommit: each write its own transaction, so decisions are ordered by their commit time
    with psycopg.connect(infra.database_url, autocommit=True, row_factory=dict_row,
                         options=f"-c search_path={schema},public") as connection:
        yield connection
        connection.execute(f"drop schema {schema} cascade")


def decide(conn: psycopg.Connection[Any], decision_id: str, outcome: str) -> None:
    repo.insert_decision(conn, repo.DecisionRow(
        decision_id=decision_id, case_id="C1", borrower_id="B1", submission=1, trigger="submission",
        outcome=outcome, decided_by="rules", decided_by_subject=None, override_reason=None,
        reasons=[{"code": "contact_band", "detail": "band A"}], offers=[], assessment={}, policy_version="p1",
        decided_on=ON, supersedes_decision_id=None, event_id=uuid.uuid4(),
    ))


def test_a_locked_case_names_its_open_review_and_its_latest_approval(conn: psycopg.Connection[Any]) -> None:
    assert repo.lock_case(conn, "C1") is None
    repo.save_submission(conn, case_id="C1", borrower_id="B1", opened_on=ON, submission=1,
                         submitted={"statement": None}, submitted_on=ON)
    case = repo.lock_case(conn, "C1")
    assert case is not None and (case["open_review_id"], case["approval_id"]) == (None, None)

    decide(conn, "dec-1", "approve")
    decide(conn, "dec-2", "approve")
    decide(conn, "dec-3", "needs_supervisor")  # agreement makes no offers from this one
    repo.open_review(conn, review_id="rev-1", case_id="C1", borrower_id="B1", decision_id="dec-3", opened_on=ON)
    case = repo.lock_case(conn, "C1")
    assert case is not None
    assert (case["open_review_id"], case["approval_id"], case["latest_submission"]) == ("rev-1", "dec-2", 1)

    repo.close_review(conn, "rev-1", status="superseded", closed_on=ON, outcome_decision_id=None)
    case = repo.lock_case(conn, "C1")
    assert case is not None and case["open_review_id"] is None


def test_a_locked_review_comes_with_the_rules_decision_and_its_case(conn: psycopg.Connection[Any]) -> None:
    assert repo.lock_review(conn, "rev-unknown") is None
    repo.save_submission(conn, case_id="C1", borrower_id="B1", opened_on=ON, submission=2,
                         submitted={"statement": None}, submitted_on=ON)
    decide(conn, "dec-1", "needs_supervisor")
    repo.open_review(conn, review_id="rev-1", case_id="C1", borrower_id="B1", decision_id="dec-1", opened_on=ON)
    review = repo.lock_review(conn, "rev-1")
    assert review is not None
    assert (review["status"], review["decision_id"], review["rules_outcome"]) == ("open", "dec-1", "needs_supervisor")
    assert (review["borrower_id"], review["latest_submission"], review["opened_on"]) == ("B1", 2, ON)
    assert review["rules_reasons"] == [{"code": "contact_band", "detail": "band A"}]
    assert review["rules_policy_version"] == "p1" and review["first_decided_on"] is None

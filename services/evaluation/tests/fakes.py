"""A unit of work without Postgres or Kafka, for testing evaluation's use cases.

``FakeRepository`` keeps the rows the use cases load and write in dictionaries and answers the
repository functions they call; ``FakeUnitOfWork`` collects the events they emit and records
whether its transaction would have committed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from types import TracebackType
from typing import Any

from forbear_evaluation.adapters import repository
from forbear_evaluation.bootstrap import Evaluation
from forbear_shared.domain.policy import Policy
from forbear_shared.events import Envelope, new_event
from forbear_shared.unit_of_work import UnitOfWork
from pydantic import BaseModel

NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


class FakeRepository:
    """The evaluation schema in memory: the functions of ``adapters.repository`` the use cases call."""

    DecisionRow = repository.DecisionRow

    def __init__(self) -> None:
        self.cases: dict[str, dict[str, Any]] = {}
        self.decisions: list[repository.DecisionRow] = []
        self.reviews: dict[str, dict[str, Any]] = {}
        self.audit: list[dict[str, Any]] = []
        self.appeals: dict[str, dict[str, Any]] = {}
        self.locks: list[str] = []

    # cases
    def lock_case(self, conn: object, case_id: str) -> dict[str, Any] | None:
        self.locks.append(case_id)
        case = self.cases.get(case_id)
        if case is None:
            return None
        open_review = next((r["review_id"] for r in self.reviews.values()
                            if r["case_id"] == case_id and r["status"] == "open"), None)
        approvals = [d.decision_id for d in self.decisions if d.case_id == case_id and d.outcome == "approve"]
        return {**case, "open_review_id": open_review, "approval_id": approvals[-1] if approvals else None}

    def save_submission(self, conn: object, *, case_id: str, borrower_id: str, opened_on: dt.date, submission: int,
                        submitted: dict[str, Any], submitted_on: dt.date) -> None:
        known = self.cases.get(case_id)
        self.cases[case_id] = {
            "case_id": case_id, "borrower_id": known["borrower_id"] if known else borrower_id,
            "opened_on": known["opened_on"] if known else opened_on, "latest_submission": submission,
            "submitted": submitted, "submitted_on": submitted_on,
            "first_decided_on": known["first_decided_on"] if known else None,
        }

    def erase_statement(self, conn: object, case_id: str) -> None:
        if case_id in self.cases:
            self.cases[case_id]["submitted"] = {**self.cases[case_id]["submitted"], "statement": None}

    def erase_appeal_statements(self, conn: object, case_id: str) -> None:
        for appeal in self.appeals.values():
            if appeal["case_id"] == case_id:
                appeal["statement"] = None

    def set_first_decision(self, conn: object, case_id: str, on: dt.date) -> None:
        self.cases[case_id]["first_decided_on"] = on

    # decisions
    def insert_decision(self, conn: object, d: repository.DecisionRow) -> None:
        self.decisions.append(d)

    # reviews
    def lock_review(self, conn: object, review_id: str) -> dict[str, Any] | None:
        review = self.reviews.get(review_id)
        if review is None:
            return None
        self.locks.append(review["case_id"])
        case = self.cases[review["case_id"]]
        rules = asdict(next(d for d in self.decisions if d.decision_id == review["decision_id"]))
        return {**review, **{k: case[k] for k in ("borrower_id", "latest_submission", "submitted", "opened_on",
                                                  "first_decided_on")},
                **{f"rules_{k}": rules[k] for k in ("outcome", "reasons", "offers", "policy_version", "assessment")}}

    def open_review(self, conn: object, *, review_id: str, case_id: str, borrower_id: str, decision_id: str,
                    opened_on: dt.date) -> None:
        self.reviews[review_id] = {"review_id": review_id, "case_id": case_id, "decision_id": decision_id,
                                   "status": "open", "opened_on": opened_on, "closed_on": None,
                                   "outcome_decision_id": None}

    def close_review(self, conn: object, review_id: str, *, status: str, closed_on: dt.date,
                     outcome_decision_id: str | None) -> None:
        self.reviews[review_id].update(status=status, closed_on=closed_on, outcome_decision_id=outcome_decision_id)

    def append_audit(self, conn: object, **entry: Any) -> None:
        self.audit.append(entry)

    # what a test asks
    def decisions_of(self, case_id: str) -> list[repository.DecisionRow]:
        return [d for d in self.decisions if d.case_id == case_id]


class FakeUnitOfWork(UnitOfWork[Evaluation]):
    """One use case's transaction, in memory: the business date is given, events are collected."""

    def __init__(self, policy: Policy, business_date: dt.date) -> None:
        super().__init__(Evaluation(ctx=None, policy=policy), conn=None)  # type: ignore[arg-type]
        self.today = business_date
        self.emitted: list[Envelope] = []
        self.committed = False

    def __enter__(self) -> FakeUnitOfWork:
        self.committed = False
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.committed = kind is None

    @property
    def conn(self) -> Any:
        return "the transaction"

    @property
    def business_date(self) -> dt.date:
        return self.today

    def emit(self, *, type: str, payload: BaseModel, case_id: str, business_date: dt.date,
             causation: Envelope | None = None, topic: str | None = None) -> Envelope:
        envelope = new_event(type=type, payload=payload, case_id=case_id, business_date=business_date,
                             producer="evaluation", occurred_at=NOW, causation=causation)
        self.emitted.append(envelope)
        return envelope

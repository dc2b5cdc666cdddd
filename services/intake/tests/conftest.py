"""Fixtures of the use-case tests: an in-memory stand-in for intake's repository and a unit of work that collects events, so
that a use case's rules are tested without Postgres (tests/integration covers the SQL)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from forbear_intake.bootstrap import Intake
from forbear_intake.domain.loan_records import LoanRecord, LoanSource
from forbear_intake.service_layer import cases, contacts, evidence, reactions, representatives, views
from forbear_shared.events.schemas.common import LoanSnapshot
from forbear_shared.policy_loader import load_policy
from forbear_shared.unit_of_work import UnitOfWork

Row = dict[str, Any]


@dataclass
class FakeRepository:
    """The repository functions the use cases call, over dictionaries (``conn`` is ignored)."""

    loans: dict[str, tuple[LoanSnapshot, LoanSource]] = field(default_factory=dict)
    cases: dict[str, Row] = field(default_factory=dict)
    case_loan_ids: dict[str, list[str]] = field(default_factory=dict)
    borrowers: dict[str, Row] = field(default_factory=dict)
    documents: list[Row] = field(default_factory=list)
    contacts: list[Row] = field(default_factory=list)
    representatives: list[Row] = field(default_factory=list)
    agreements: dict[str, Row] = field(default_factory=dict)
    renegotiations: list[tuple[str, str, dt.date]] = field(default_factory=list)
    audits: list[Row] = field(default_factory=list)
    decisions: dict[str, Row] = field(default_factory=dict)

    # -- loans
    def lock_loans(self, _conn: object, loan_ids: list[str]) -> dict[str, LoanRecord]:
        return {i: LoanRecord(i, snap.borrower_id, source, snap.as_of, snap.days_past_due)
                for i, (snap, source) in self.loans.items() if i in loan_ids}

    def insert_loan(self, _conn: object, loan: LoanSnapshot, source: LoanSource) -> None:
        assert loan.loan_id not in self.loans
        self.loans[loan.loan_id] = (loan, source)

    def replace_loan(self, _conn: object, loan: LoanSnapshot, source: LoanSource) -> None:
        self.loans[loan.loan_id] = (loan, source)

    def case_loans(self, _conn: object, case_id: str) -> list[LoanSnapshot]:
        return [self.loans[i][0] for i in sorted(self.case_loan_ids[case_id])]

    # -- borrowers, cases
    def upsert_borrower(self, _conn: object, borrower_id: str, name: str | None, national_id: str | None,
                        phone: str | None) -> None:
        self.borrowers[borrower_id] = {"borrower_id": borrower_id, "name": name, "national_id": national_id,
                                       "phone": phone}

    def get_borrower(self, _conn: object, borrower_id: str) -> Row | None:
        return self.borrowers.get(borrower_id)

    def insert_case(self, _conn: object, case: Row, loan_ids: list[str]) -> None:
        self.cases[case["case_id"]] = {"awaiting_more_evidence": False, "deadline_submitted": False, **case}
        self.case_loan_ids[case["case_id"]] = list(loan_ids)

    def lock_case(self, _conn: object, case_id: str) -> Row | None:
        return dict(self.cases[case_id]) if case_id in self.cases else None

    find_case = lock_case

    def update_case(self, _conn: object, case_id: str, **fields: Any) -> None:
        self.cases[case_id].update(fields)

    # -- evidence, contacts
    def list_documents(self, _conn: object, case_id: str) -> list[Row]:
        return [dict(d) for d in self.documents if d["case_id"] == case_id]

    def insert_document(self, _conn: object, doc: Row) -> None:
        self.documents.append(dict(doc))

    def lock_evidence_file(self, _conn: object, _sha256: str) -> None:
        pass

    def review_document(self, _conn: object, document_id: str, **fields: Any) -> None:
        doc = next(d for d in self.documents if d["document_id"] == document_id)
        doc.update(status=fields["status"], rejection_reason=fields["reason"], found_false=fields["found_false"])

    def list_contacts(self, _conn: object, case_id: str) -> list[Row]:
        return [c for c in self.contacts if c["case_id"] == case_id]

    def insert_contact(self, _conn: object, contact: Row) -> None:
        self.contacts.append(dict(contact))

    def outbound_attempts_since(self, _conn: object, case_id: str, since: dt.date) -> list[dt.datetime]:
        return [dt.datetime.combine(c["on_date"], c["local_time"]) for c in self.contacts
                if c["case_id"] == case_id and c["direction"] == "outbound" and c["outcome"] == "allowed"
                and c["on_date"] >= since]

    # -- representatives
    def insert_representative(self, _conn: object, rep: Row) -> None:
        self.representatives.append(dict(rep))

    def list_representatives(self, _conn: object, case_id: str) -> list[Row]:
        status = {d["document_id"]: d["status"] for d in self.documents}
        return [{**r, "document_status": status[r["document_id"]]} for r in self.representatives
                if r["case_id"] == case_id]

    def revoke_representative(self, _conn: object, representative_id: str, *, on: dt.date, by: str) -> None:
        for r in self.representatives:
            if r["representative_id"] == representative_id and r["revoked_on"] is None:
                r.update(revoked_on=on, revoked_by=by)

    # -- agreements, renegotiations, decisions
    def get_agreement(self, _conn: object, agreement_id: str) -> Row | None:
        return self.agreements.get(agreement_id)

    def renegotiation_dates(self, _conn: object, agreement_id: str) -> list[dt.date]:
        return [on for _case, agreement, on in self.renegotiations if agreement == agreement_id]

    def insert_renegotiation(self, _conn: object, case_id: str, agreement_id: str, on: dt.date) -> None:
        self.renegotiations.append((case_id, agreement_id, on))

    def insert_decision(self, _conn: object, decision: Row) -> bool:
        fresh = decision["decision_id"] not in self.decisions
        self.decisions.setdefault(decision["decision_id"], decision)
        return fresh

    # -- audit
    def audit(self, _conn: object, case_id: str, **entry: Any) -> None:
        self.audits.append({"case_id": case_id, "id": len(self.audits) + 1,
                            "at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC), **entry, "detail": entry["detail"] or {}})

    def timeline(self, _conn: object, case_id: str) -> list[Row]:
        return [a for a in self.audits if a["case_id"] == case_id]


@dataclass
class Emitted:
    type: str
    case_id: str
    payload: Any
    causation: Any


class FakeStore:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, sha256: str, source: Any, size: int) -> None:
        self.files[sha256] = source.read()

    def get(self, sha256: str) -> bytes:
        return self.files[sha256]

    def delete(self, sha256: str) -> None:
        self.files.pop(sha256, None)


class FakeUnitOfWork(UnitOfWork[Intake]):
    """One transaction that commits when its block ends without an error; collects the events."""

    def __init__(self, service: Intake, today: dt.date) -> None:
        super().__init__(service)
        self.today = today
        self.emitted: list[Emitted] = []
        self.committed = False
        self._pending: list[Emitted] = []

    def __enter__(self) -> FakeUnitOfWork:
        self._pending = []
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if kind is None:
            self.emitted.extend(self._pending)
            self.committed = True

    @property
    def conn(self) -> Any:
        return None

    @property
    def business_date(self) -> dt.date:
        return self.today

    def emit(self, *, type: str, payload: Any, case_id: str, business_date: dt.date,
             causation: Any = None, topic: str | None = None) -> Any:
        event = Emitted(type, case_id, payload, causation)
        self._pending.append(event)
        return event


@pytest.fixture
def repo(monkeypatch: pytest.MonkeyPatch) -> FakeRepository:
    fake = FakeRepository()
    for module in (cases, contacts, evidence, reactions, representatives, views):
        monkeypatch.setattr(module, "repo", fake)
    return fake


@dataclass
class IntakeInMemory(Intake):
    """Intake's collaborators with no database: the lender's policy, an evidence store in memory."""

    def unit_of_work_at(self, today: dt.date) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, today)


@pytest.fixture
def intake() -> IntakeInMemory:
    return IntakeInMemory(ctx=None, policy=load_policy(), store=FakeStore(),  # type: ignore[arg-type]
                          max_evidence_bytes=1024 * 1024)


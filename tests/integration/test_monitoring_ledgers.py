"""Monitoring's ledgers read back from a real Postgres, with a schedule cache smaller than a batch."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from forbear_monitoring.adapters import ledger_rows
from forbear_monitoring.adapters import repository as repo
from forbear_monitoring.bootstrap import MIGRATIONS
from forbear_shared.db import migrate
from forbear_shared.domain.arrears import LoanLedger
from forbear_shared.domain.money import Money
from forbear_shared.domain.schedule import Schedule, equal_instalment_schedule
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from tests.support.calendar import policy

pytestmark = pytest.mark.integration

ON = dt.date(2026, 3, 10)


@pytest.fixture()
def conn(infra: Any) -> Iterator[psycopg.Connection[Any]]:
    schema = f"mol_{uuid.uuid4().hex[:8]}"
    migrate(infra.database_url, schema, MIGRATIONS)
    with psycopg.connect(infra.database_url, autocommit=True, row_factory=dict_row,
                         options=f"-c search_path={schema},public") as connection:
        yield connection
        connection.execute(f"drop schema {schema} cascade")


def activate(conn: psycopg.Connection[Any], agreement_id: str, principal: str) -> dict[str, Any]:
    doc = equal_instalment_schedule(Money.of(principal), Decimal("0.08"), instalments=6,
                                    first_due_date=dt.date(2026, 4, 5)).to_dict()
    repo.insert_agreement(conn, {
        "agreement_id": agreement_id, "case_id": f"case-{agreement_id}", "borrower_id": f"B-{agreement_id}",
        "loan_ids": [f"L-{agreement_id}"], "option": "term_extension", "document_sha256": "0" * 64,
        "activated_on": ON, "policy_version": "p1", "currency": "CNY", "schedule": Jsonb(doc),
        "supersedes_agreement_id": None, "signed_pdf_sha256": None, "signed_pdf_href": None,
    })
    repo.insert_instalments(conn, [
        {"agreement_id": agreement_id, "number": i["number"], "due_date": i["due_date"], "grace_cutoff": i["due_date"],
         "kind": i["kind"], "principal": i["principal"], "interest": i["interest"], "fee": i["fee"],
         "total": i["total"], "settled_on": None}
        for i in doc["instalments"]
    ])
    return doc


def test_a_batch_larger_than_the_schedule_cache_still_gets_every_ledger(conn: psycopg.Connection[Any]) -> None:
    docs = {f"A{n}": activate(conn, f"A{n}", f"{1000 * n}.00") for n in range(1, 6)}
    rows = {r["agreement_id"]: r for r in conn.execute(
        "select agreement_id, unapplied from agreements order by agreement_id").fetchall()}
    cache = repo.ScheduleCache(max_size=2)
    ledgers = ledger_rows.load_ledgers(conn, rows, cache)
    assert sorted(ledgers) == sorted(docs)
    for agreement_id, doc in docs.items():
        schedule = Schedule.from_dict(doc)
        assert ledgers[agreement_id].schedule == schedule
        assert ledgers[agreement_id].positions == LoanLedger.open(schedule, policy()).positions
        assert ledgers[agreement_id].unapplied == Money.of("0.00")
    assert len(cache) == 2
    # again, with two of them served from the cache and three read anew
    again = ledger_rows.load_ledgers(conn, rows, cache)
    assert {a: ledger.schedule for a, ledger in again.items()} == {a: Schedule.from_dict(d) for a, d in docs.items()}

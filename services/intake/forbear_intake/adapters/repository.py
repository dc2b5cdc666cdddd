"""SQL for intake's own tables (schema ``intake``); nothing else touches them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

import psycopg
from forbear_shared.errors import NotFound
from forbear_shared.events.schemas.common import LoanSnapshot
from psycopg.types.json import Jsonb

from forbear_intake.domain.loan_records import LoanRecord, LoanSource

Row = dict[str, Any]

# -- borrowers -------------------------------------------------------------------------------


def upsert_borrower(
    conn: psycopg.Connection, borrower_id: str, name: str | None, national_id: str | None, phone: str | None
) -> None:
    """Personal data given again replaces what we had; data not given is kept."""
    conn.execute(
        "insert into borrowers (borrower_id, name, national_id, phone) values (%s, %s, %s, %s) "
        "on conflict (borrower_id) do update set "
        "name = coalesce(excluded.name, borrowers.name), "
        "national_id = coalesce(excluded.national_id, borrowers.national_id), "
        "phone = coalesce(excluded.phone, borrowers.phone), updated_at = now()",
        (borrower_id, name, national_id, phone),
    )


def get_borrower(conn: psycopg.Connection, borrower_id: str) -> Row | None:
    return conn.execute("select * from borrowers where borrower_id = %s", (borrower_id,)).fetchone()


# -- loans projection ------------------------------------------------------------------------


def lock_loans(conn: psycopg.Connection, loan_ids: Iterable[str]) -> dict[str, LoanRecord]:
    """Whose each named loan is, who said so and as of when, locked until commit.

    A loan not stored yet is locked by its id: a case declaring it and core banking's snapshot
    of it (or two cases) are serialised, so one of them stores it and the other finds it."""
    ids = sorted(set(loan_ids))
    for loan_id in ids:
        conn.execute("select pg_advisory_xact_lock(hashtext('intake-loan:' || %s))", (loan_id,))
    rows = conn.execute(
        "select loan_id, borrower_id, source, as_of, (snapshot->>'days_past_due')::int as days_past_due "
        "from loans where loan_id = any(%s) order by loan_id for update", (ids,)
    ).fetchall()
    return {r["loan_id"]: LoanRecord(r["loan_id"], r["borrower_id"], LoanSource(r["source"]), r["as_of"],
                                     r["days_past_due"] or 0)
            for r in rows}


def insert_loan(conn: psycopg.Connection, loan: LoanSnapshot, source: LoanSource) -> None:
    """Store a loan not known yet (the caller holds its lock, ``lock_loans``, and found none)."""
    conn.execute(
        "insert into loans (loan_id, borrower_id, as_of, snapshot, source) values (%s, %s, %s, %s, %s)",
        (loan.loan_id, loan.borrower_id, loan.as_of, Jsonb(loan.model_dump(mode="json")), source.value),
    )


def replace_loan(conn: psycopg.Connection, loan: LoanSnapshot, source: LoanSource) -> None:
    """Replace a known loan's record (the caller holds its row lock and decided that it may)."""
    conn.execute(
        "update loans set borrower_id = %s, as_of = %s, snapshot = %s, source = %s, updated_at = now() "
        "where loan_id = %s",
        (loan.borrower_id, loan.as_of, Jsonb(loan.model_dump(mode="json")), source.value, loan.loan_id),
    )


def case_loans(conn: psycopg.Connection, case_id: str) -> list[LoanSnapshot]:
    """The loans a case names, as intake holds them now, by loan id."""
    rows = conn.execute(
        "select l.snapshot from case_loans c join loans l using (loan_id) where c.case_id = %s order by loan_id",
        (case_id,),
    ).fetchall()
    return [LoanSnapshot.model_validate(r["snapshot"]) for r in rows]


# -- cases -----------------------------------------------------------------------------------


def insert_case(conn: psycopg.Connection, case: Row, loan_ids: Iterable[str]) -> None:
    conn.execute(
        "insert into cases (case_id, borrower_id, hardship_category, story, channel, dpd_at_first_contact, "
        "opened_on, status, evidence_deadline, history, renegotiates_agreement_id, created_by) "
        "values (%(case_id)s, %(borrower_id)s, %(hardship_category)s, %(story)s, %(channel)s, "
        "%(dpd_at_first_contact)s, %(opened_on)s, %(status)s, %(evidence_deadline)s, %(history)s, "
        "%(renegotiates_agreement_id)s, %(created_by)s)",
        {**case, "history": Jsonb(case["history"])},
    )
    for loan_id in loan_ids:
        conn.execute("insert into case_loans (case_id, loan_id) values (%s, %s)", (case["case_id"], loan_id))


def find_case(conn: psycopg.Connection, case_id: str) -> Row | None:
    return conn.execute("select * from cases where case_id = %s", (case_id,)).fetchone()


def lock_case(conn: psycopg.Connection, case_id: str) -> Row | None:
    """The case, its row locked until commit: the use cases that change a case are serialised."""
    return conn.execute("select * from cases where case_id = %s for update", (case_id,)).fetchone()


_UPDATABLE = frozenset({
    "status", "statement", "submissions", "awaiting_more_evidence", "deadline_submitted", "last_outcome", "history",
    "closed_on",
})


def update_case(conn: psycopg.Connection, case_id: str, **fields: Any) -> None:
    unknown = set(fields) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    values = {k: (Jsonb(v) if k in ("statement", "history") and v is not None else v) for k, v in fields.items()}
    assignments = ", ".join(f"{k} = %({k})s" for k in values)
    conn.execute(
        f"update cases set {assignments}, updated_at = now() where case_id = %(case_id)s", {**values, "case_id": case_id}
    )


def list_cases(
    conn: psycopg.Connection, *, status: str | None, borrower_id: str | None, limit: int, offset: int
) -> list[Row]:
    clauses: list[str] = []
    params: list[Any] = []
    if status is not None:
        clauses.append("status = %s")
        params.append(status)
    if borrower_id is not None:
        clauses.append("borrower_id = %s")
        params.append(borrower_id)
    where = f"where {' and '.join(clauses)}" if clauses else ""
    return conn.execute(
        f"select * from cases {where} order by created_at desc, case_id limit %s offset %s", (*params, limit, offset)
    ).fetchall()


def cases_past_evidence_deadline(conn: psycopg.Connection, as_of: dt.date, statuses: Iterable[str]) -> list[Row]:
    """Cases still gathering evidence whose deadline is before ``as_of`` and not yet submitted for it."""
    return conn.execute(
        "select * from cases where evidence_deadline < %s and not deadline_submitted and status = any(%s) "
        "order by case_id for update",
        (as_of, list(statuses)),
    ).fetchall()


# -- evidence --------------------------------------------------------------------------------


def insert_document(conn: psycopg.Connection, doc: Row) -> None:
    conn.execute(
        "insert into evidence_documents (document_id, case_id, document_type, media_type, size_bytes, sha256, "
        "original_filename, uploaded_by, uploaded_on) values (%(document_id)s, %(case_id)s, %(document_type)s, "
        "%(media_type)s, %(size_bytes)s, %(sha256)s, %(original_filename)s, %(uploaded_by)s, %(uploaded_on)s)",
        doc,
    )


def get_document(conn: psycopg.Connection, case_id: str, document_id: str) -> Row:
    row = conn.execute(
        "select * from evidence_documents where case_id = %s and document_id = %s", (case_id, document_id)
    ).fetchone()
    if row is None:
        raise NotFound("document", document_id)
    return row


def list_documents(conn: psycopg.Connection, case_id: str) -> list[Row]:
    return conn.execute(
        "select * from evidence_documents where case_id = %s order by uploaded_at, document_id", (case_id,)
    ).fetchall()


def review_document(
    conn: psycopg.Connection, document_id: str, *, status: str, reason: str | None, found_false: bool,
    reviewed_by: str, reviewed_on: dt.date,
) -> None:
    conn.execute(
        "update evidence_documents set status = %s, rejection_reason = %s, found_false = %s, reviewed_by = %s, "
        "reviewed_on = %s, reviewed_at = now() where document_id = %s",
        (status, reason, found_false, reviewed_by, reviewed_on, document_id),
    )


# -- contacts --------------------------------------------------------------------------------


def insert_contact(conn: psycopg.Connection, contact: Row) -> None:
    conn.execute(
        "insert into contacts (contact_id, case_id, party, channel, direction, on_date, local_time, outcome, "
        "refusal_reasons, note, recorded_by, representative_id) values (%(contact_id)s, %(case_id)s, %(party)s, "
        "%(channel)s, %(direction)s, %(on_date)s, %(local_time)s, %(outcome)s, %(refusal_reasons)s, %(note)s, "
        "%(recorded_by)s, %(representative_id)s)",
        {"representative_id": None, **contact},
    )


def list_contacts(conn: psycopg.Connection, case_id: str) -> list[Row]:
    return conn.execute(
        "select * from contacts where case_id = %s order by on_date, local_time, recorded_at", (case_id,)
    ).fetchall()


def outbound_attempts_since(conn: psycopg.Connection, case_id: str, since: dt.date) -> list[dt.datetime]:
    """Allowed outbound attempts for the case's debt since ``since`` (lender-local date and time)."""
    rows = conn.execute(
        "select on_date, local_time from contacts where case_id = %s and direction = 'outbound' "
        "and outcome = 'allowed' and on_date >= %s",
        (case_id, since),
    ).fetchall()
    return [dt.datetime.combine(r["on_date"], r["local_time"]) for r in rows]


# -- representatives -------------------------------------------------------------------------


def insert_representative(conn: psycopg.Connection, rep: Row) -> None:
    conn.execute(
        "insert into representatives (representative_id, case_id, kind, name, channel, scopes, starts_on, ends_on, "
        "document_id, authorised_by, authorised_role, authorised_on) values (%(representative_id)s, %(case_id)s, "
        "%(kind)s, %(name)s, %(channel)s, %(scopes)s, %(starts_on)s, %(ends_on)s, %(document_id)s, "
        "%(authorised_by)s, %(authorised_role)s, %(authorised_on)s)",
        rep,
    )


def list_representatives(conn: psycopg.Connection, case_id: str) -> list[Row]:
    """The case's authorisations, oldest first (the caller holds the case's lock when it decides)."""
    return conn.execute(
        "select r.*, d.status as document_status from representatives r "
        "join evidence_documents d on d.document_id = r.document_id "
        "where r.case_id = %s order by r.authorised_at, r.representative_id", (case_id,)
    ).fetchall()


def revoke_representative(conn: psycopg.Connection, representative_id: str, *, on: dt.date, by: str) -> None:
    conn.execute(
        "update representatives set revoked_on = %s, revoked_by = %s, revoked_at = now() "
        "where representative_id = %s and revoked_on is null",
        (on, by, representative_id),
    )


# -- decisions, agreements, renegotiations ---------------------------------------------------


def insert_decision(conn: psycopg.Connection, decision: Row) -> bool:
    row = conn.execute(
        "insert into decisions (decision_id, case_id, outcome, submission, decided_by, decided_on, reasons) "
        "values (%(decision_id)s, %(case_id)s, %(outcome)s, %(submission)s, %(decided_by)s, %(decided_on)s, "
        "%(reasons)s) on conflict do nothing returning decision_id",
        {**decision, "reasons": Jsonb(decision["reasons"])},
    ).fetchone()
    return row is not None


def upsert_agreement(conn: psycopg.Connection, agreement_id: str, case_id: str, borrower_id: str, on: dt.date) -> None:
    conn.execute(
        "insert into agreements (agreement_id, case_id, borrower_id, activated_on) values (%s, %s, %s, %s) "
        "on conflict (agreement_id) do nothing",
        (agreement_id, case_id, borrower_id, on),
    )


def get_agreement(conn: psycopg.Connection, agreement_id: str) -> Row | None:
    return conn.execute("select * from agreements where agreement_id = %s", (agreement_id,)).fetchone()


def renegotiation_dates(conn: psycopg.Connection, agreement_id: str) -> list[dt.date]:
    # the advisory lock serialises two requests for one agreement, so the limit holds under races
    conn.execute("select pg_advisory_xact_lock(hashtext('intake-renegotiation:' || %s))", (agreement_id,))
    rows = conn.execute("select requested_on from renegotiations where agreement_id = %s", (agreement_id,)).fetchall()
    return [r["requested_on"] for r in rows]


def insert_renegotiation(conn: psycopg.Connection, case_id: str, agreement_id: str, on: dt.date) -> None:
    conn.execute(
        "insert into renegotiations (case_id, agreement_id, requested_on) values (%s, %s, %s)",
        (case_id, agreement_id, on),
    )


# -- audit -----------------------------------------------------------------------------------


def audit(
    conn: psycopg.Connection, case_id: str, *, business_date: dt.date, actor: str, actor_role: str, action: str,
    reason: str | None = None, detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        "insert into case_events (case_id, business_date, actor, actor_role, action, reason, detail) "
        "values (%s, %s, %s, %s, %s, %s, %s)",
        (case_id, business_date, actor, actor_role, action, reason, Jsonb(json.loads(json.dumps(detail or {}, default=str)))),
    )


def timeline(conn: psycopg.Connection, case_id: str) -> list[Row]:
    return conn.execute(
        "select id, at, business_date, actor, actor_role, action, reason, detail from case_events "
        "where case_id = %s order by id",
        (case_id,),
    ).fetchall()


# -- personal data retention -----------------------------------------------------------------


def cases_closed_by(conn: psycopg.Connection, closed_by: dt.date, statuses: Iterable[str], limit: int) -> list[str]:
    """Cases in ``statuses``, not yet erased, that closed on or before ``closed_by``, oldest first."""
    rows = conn.execute(
        "select case_id from cases where closed_on is not null and personal_data_erased_on is null "
        "and closed_on <= %s and status = any(%s) order by closed_on, case_id limit %s",
        (closed_by, list(statuses), limit),
    ).fetchall()
    return [r["case_id"] for r in rows]


def lock_evidence_file(conn: psycopg.Connection, sha256: str) -> None:
    """Serialise what writes and what erases one stored file (the same bytes are one file)."""
    conn.execute("select pg_advisory_xact_lock(hashtext('intake-evidence-file:' || %s))", (sha256,))


def evidence_file_kept_for(conn: psycopg.Connection, sha256: str, case_id: str) -> bool:
    """Whether another case's document, not erased, is stored in the same file."""
    row = conn.execute(
        "select exists (select 1 from evidence_documents where sha256 = %s and case_id <> %s and erased_on is null) "
        "as kept",
        (sha256, case_id),
    ).fetchone()
    return bool(row and row["kept"])


def erase_case_fields(conn: psycopg.Connection, case_id: str, on: dt.date) -> list[str]:
    """Blank the case's story and statement, its contacts' notes and its documents' file names;
    mark the case and documents erased. Returns the contacts whose note was erased."""
    conn.execute(
        "update cases set story = '', statement = null, personal_data_erased_on = %s, updated_at = now() "
        "where case_id = %s",
        (on, case_id),
    )
    conn.execute("update evidence_documents set original_filename = null, erased_on = %s "
                 "where case_id = %s and erased_on is null", (on, case_id))
    rows = conn.execute("update contacts set note = null where case_id = %s and note is not null "
                        "returning contact_id", (case_id,)).fetchall()
    return sorted(r["contact_id"] for r in rows)


def erase_representative_names(conn: psycopg.Connection, case_id: str) -> list[str]:
    """Blank the names of the case's representatives; returns those whose name was erased."""
    rows = conn.execute("update representatives set name = null where case_id = %s and name is not null "
                        "returning representative_id", (case_id,)).fetchall()
    return sorted(r["representative_id"] for r in rows)


def lock_borrower(conn: psycopg.Connection, borrower_id: str) -> Row | None:
    return conn.execute("select * from borrowers where borrower_id = %s for update", (borrower_id,)).fetchone()


def borrower_has_other_cases_holding_data(conn: psycopg.Connection, borrower_id: str, case_id: str) -> bool:
    row = conn.execute(
        "select exists (select 1 from cases where borrower_id = %s and case_id <> %s "
        "and personal_data_erased_on is null) as held",
        (borrower_id, case_id),
    ).fetchone()
    return bool(row and row["held"])


def erase_borrower(conn: psycopg.Connection, borrower_id: str) -> None:
    conn.execute("update borrowers set name = null, national_id = null, phone = null, updated_at = now() "
                 "where borrower_id = %s", (borrower_id,))


def record_erasure(conn: psycopg.Connection, *, case_id: str, borrower_id: str, subject: str, subject_id: str,
                   fields: Iterable[str], policy_version: str, rule: str, closed_on: dt.date, on: dt.date,
                   detail: dict[str, Any] | None = None) -> None:
    conn.execute(
        "insert into personal_data_erasures (case_id, borrower_id, subject, subject_id, fields, detail, "
        "policy_version, rule, closed_on, business_date) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (case_id, borrower_id, subject, subject_id, list(fields), Jsonb(detail or {}), policy_version, rule,
         closed_on, on),
    )

"""SQL of the agreement service's use cases: the loads they decide on and their writes (schema
"agreement"). The API's read models are in ``service_layer/views.py``.

Locks: every change to a case's offers or agreement first takes the case row, then the case's
offers in offer-id order (``lock_case``, ``lock_offer``): the one order every writer of offers
uses, close of business's expiry included, so two writers never deadlock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from forbear_agreement.domain.document import AgreementDocument, AgreementDraft

Row = dict[str, Any]


# -- cases (a projection of evaluation's decisions) ---------------------------


def lock_case(conn: psycopg.Connection, case_id: str) -> Row | None:
    """Lock the case and its offers (see the module's note); the case, or None if it is new."""
    case = conn.execute("select * from cases where case_id = %s for update", (case_id,)).fetchone()
    conn.execute("select offer_id from offers where case_id = %s order by offer_id for update", (case_id,))
    return case


def lock_offer(conn: psycopg.Connection, offer_id: str) -> Row | None:
    """The offer, its case and the case's offers locked as ``lock_case`` locks them; None if unknown."""
    case = conn.execute(
        "select c.case_id from cases c join offers o on o.case_id = c.case_id where o.offer_id = %s "
        "for update of c",
        (offer_id,),
    ).fetchone()
    if case is None:
        return None
    offers = conn.execute(
        "select * from offers where case_id = %s order by offer_id for update", (case["case_id"],)
    ).fetchall()
    return next((o for o in offers if o["offer_id"] == offer_id), None)


def record_decision(
    conn: psycopg.Connection,
    *,
    case_id: str,
    borrower_id: str,
    decision_id: str,
    outcome: str,
    decided_on: dt.date,
    renegotiates_agreement_id: str | None,
) -> None:
    conn.execute(
        "insert into cases (case_id, borrower_id, latest_decision_id, latest_outcome, latest_decided_on, "
        "renegotiates_agreement_id) values (%s, %s, %s, %s, %s, %s) "
        "on conflict (case_id) do update set latest_decision_id = excluded.latest_decision_id, "
        "latest_outcome = excluded.latest_outcome, latest_decided_on = excluded.latest_decided_on, "
        "renegotiates_agreement_id = excluded.renegotiates_agreement_id, updated_at = now()",
        (case_id, borrower_id, decision_id, outcome, decided_on, renegotiates_agreement_id),
    )


def decision_seen(conn: psycopg.Connection, decision_id: str) -> bool:
    row = conn.execute(
        "select exists (select 1 from offers where decision_id = %s) "
        "or exists (select 1 from cases where latest_decision_id = %s) as seen",
        (decision_id, decision_id),
    ).fetchone()
    return bool(row and row["seen"])


# -- offers -------------------------------------------------------------------


def insert_offer(
    conn: psycopg.Connection,
    *,
    offer_id: str,
    case_id: str,
    decision_id: str,
    borrower_id: str,
    rank: int,
    option: str,
    terms: dict[str, Any],
    new_instalment: Any,
    term_months: int,
    policy_version: str,
    renegotiates_agreement_id: str | None,
    decided_on: dt.date,
    expires_on: dt.date,
) -> None:
    conn.execute(
        "insert into offers (offer_id, case_id, decision_id, borrower_id, rank, option, terms, new_instalment, "
        "term_months, policy_version, renegotiates_agreement_id, decided_on, expires_on, status_on) "
        "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            offer_id, case_id, decision_id, borrower_id, rank, option, Jsonb(terms), new_instalment,
            term_months, policy_version, renegotiates_agreement_id, decided_on, expires_on, decided_on,
        ),
    )


def close_open_offers(
    conn: psycopg.Connection,
    case_id: str,
    *,
    status: str,
    on: dt.date,
    reason: str,
    except_offer_id: str | None = None,
) -> list[Row]:
    """Move every still-open offer of the case to ``status``; return the ones moved."""
    return conn.execute(
        "update offers set status = %s, status_on = %s, status_reason = %s, updated_at = now() "
        "where case_id = %s and status = 'open' and offer_id is distinct from %s returning *",
        (status, on, reason, case_id, except_offer_id),
    ).fetchall()


def set_offer_status(
    conn: psycopg.Connection,
    offer_id: str,
    *,
    status: str,
    on: dt.date,
    reason: str | None = None,
    counter_proposal: dict[str, Any] | None = None,
) -> Row:
    """The offer as it now is."""
    row = conn.execute(
        "update offers set status = %s, status_on = %s, status_reason = %s, "
        "counter_proposal = coalesce(%s, counter_proposal), updated_at = now() where offer_id = %s returning *",
        (status, on, reason, Jsonb(counter_proposal) if counter_proposal is not None else None, offer_id),
    ).fetchone()
    assert row is not None, offer_id
    return row


def expire_offers_due(conn: psycopg.Connection, business_date: dt.date) -> list[Row]:
    """Open offers whose last acceptable day is before ``business_date`` become expired, once."""
    return conn.execute(
        "with due as (select offer_id from offers where status = 'open' and expires_on < %s "
        "order by offer_id for update) "
        "update offers o set status = 'expired', status_on = o.expires_on + 1, status_reason = 'validity_ended', "
        "updated_at = now() from due where o.offer_id = due.offer_id returning o.*",
        (business_date,),
    ).fetchall()


# -- agreements ---------------------------------------------------------------


def insert_agreement(conn: psycopg.Connection, draft: AgreementDraft, document: AgreementDocument) -> Row:
    """The agreement drawn up from ``draft``, awaiting signatures, as written."""
    row = conn.execute(
        "insert into agreements (agreement_id, case_id, offer_id, borrower_id, option, loan_ids, schedule, "
        "policy_version, payment_method, supersedes_agreement_id, document_canonical, document_rendered, "
        "document_sha256, accepted_on) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning *",
        (
            draft.agreement_id, draft.case_id, draft.offer_id, draft.borrower_id, draft.terms.option,
            Jsonb(list(draft.loan_ids)), Jsonb(draft.schedule.to_dict()), draft.policy_version,
            draft.payment_method.value, draft.supersedes_agreement_id, document.canonical_json,
            document.rendered_text, document.sha256, draft.accepted_on,
        ),
    ).fetchone()
    assert row is not None
    return row


def lock_agreement(conn: psycopg.Connection, agreement_id: str) -> tuple[Row, list[Row]] | None:
    """The agreement, locked (signatures serialise on it), and its signatures; None if unknown."""
    row = conn.execute("select * from agreements where agreement_id = %s for update", (agreement_id,)).fetchone()
    if row is None:
        return None
    return row, signatures_of(conn, [agreement_id])[agreement_id]


def agreement_of_case(conn: psycopg.Connection, case_id: str) -> Row | None:
    """The case's agreement still in play (awaiting signatures or active), if any."""
    return conn.execute(
        "select * from agreements where case_id = %s and status in ('awaiting_signatures', 'active') "
        "order by created_at desc limit 1",
        (case_id,),
    ).fetchone()


def set_agreement_status(
    conn: psycopg.Connection, agreement_id: str, status: str, *, activated_on: dt.date | None = None
) -> Row:
    """The agreement as it now is."""
    row = conn.execute(
        "update agreements set status = %s, activated_on = coalesce(%s, activated_on), updated_at = now() "
        "where agreement_id = %s returning *",
        (status, activated_on, agreement_id),
    ).fetchone()
    assert row is not None, agreement_id
    return row


def supersede(conn: psycopg.Connection, agreement_id: str) -> bool:
    row = conn.execute(
        "update agreements set status = 'superseded', updated_at = now() "
        "where agreement_id = %s and status = 'active' returning agreement_id",
        (agreement_id,),
    ).fetchone()
    return row is not None


def signatures_of(conn: psycopg.Connection, agreement_ids: Sequence[str]) -> dict[str, list[Row]]:
    found: dict[str, list[Row]] = {a: [] for a in agreement_ids}
    if not agreement_ids:
        return found
    rows = conn.execute(
        "select * from signatures where agreement_id = any(%s) order by signed_at",
        (list(agreement_ids),),
    ).fetchall()
    for row in rows:
        found[row["agreement_id"]].append(row)
    return found


def insert_signature(
    conn: psycopg.Connection,
    *,
    agreement_id: str,
    party: str,
    signed_by: str,
    signed_role: str,
    on_behalf_of_borrower: bool,
    document_sha256: str,
    signed_on: dt.date,
    signed_at: dt.datetime,
    channel: str | None = None,
    otp_verified: bool = False,
    signing_code_id: str | None = None,
) -> Row:
    """The signature as written, with its consent evidence (the verified code's channel)."""
    row = conn.execute(
        "insert into signatures (agreement_id, party, signed_by, signed_role, on_behalf_of_borrower, "
        "document_sha256, signed_on, signed_at, channel, otp_verified, signing_code_id) "
        "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning *",
        (agreement_id, party, signed_by, signed_role, on_behalf_of_borrower, document_sha256, signed_on, signed_at,
         channel, otp_verified, signing_code_id),
    ).fetchone()
    assert row is not None
    return row


# -- the signed PDF -------------------------------------------------------------


def insert_signed_document(
    conn: psycopg.Connection,
    *,
    agreement_id: str,
    pdf: bytes,
    pdf_sha256: str,
    unsigned_pdf_sha256: str,
    document_sha256: str,
    signer: str,
    signed_on: dt.date,
    signed_at: dt.datetime,
) -> None:
    """The signed PDF of an agreement, written once (the table refuses an update)."""
    conn.execute(
        "insert into signed_documents (agreement_id, pdf, pdf_sha256, unsigned_pdf_sha256, document_sha256, "
        "signer, signed_on, signed_at) values (%s, %s, %s, %s, %s, %s, %s, %s)",
        (agreement_id, pdf, pdf_sha256, unsigned_pdf_sha256, document_sha256, signer, signed_on, signed_at),
    )


def signed_document(conn: psycopg.Connection, agreement_id: str) -> Row | None:
    return conn.execute("select * from signed_documents where agreement_id = %s", (agreement_id,)).fetchone()


def document_sha256_of(conn: psycopg.Connection, agreement_id: str) -> str | None:
    """The stored document hash of an agreement, None if there is no such agreement."""
    row = conn.execute("select document_sha256 from agreements where agreement_id = %s", (agreement_id,)).fetchone()
    return None if row is None else str(row["document_sha256"])


# -- signing codes ------------------------------------------------------------


def code_issue_times(conn: psycopg.Connection, agreement_id: str, since: dt.datetime) -> list[dt.datetime]:
    """When the agreement's codes were issued since ``since`` (the rate limit's window)."""
    rows = conn.execute(
        "select issued_at from signing_codes where agreement_id = %s and issued_at > %s order by issued_at",
        (agreement_id, since),
    ).fetchall()
    return [r["issued_at"] for r in rows]


def insert_signing_code(
    conn: psycopg.Connection,
    *,
    code_id: str,
    agreement_id: str,
    document_sha256: str,
    code_hmac: str,
    channel: str,
    requested_by: str,
    requested_role: str,
    issued_on: dt.date,
    issued_at: dt.datetime,
    expires_at: dt.datetime,
    max_attempts: int,
) -> Row:
    """A new live code; the agreement's earlier live codes are superseded (only the newest signs)."""
    conn.execute(
        "update signing_codes set status = 'superseded' where agreement_id = %s and status = 'live'",
        (agreement_id,),
    )
    row = conn.execute(
        "insert into signing_codes (code_id, agreement_id, document_sha256, code_hmac, channel, requested_by, "
        "requested_role, issued_on, issued_at, expires_at, max_attempts) "
        "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning *",
        (code_id, agreement_id, document_sha256, code_hmac, channel, requested_by, requested_role, issued_on,
         issued_at, expires_at, max_attempts),
    ).fetchone()
    assert row is not None
    return row


def newest_signing_code(conn: psycopg.Connection, agreement_id: str) -> Row | None:
    """The agreement's newest code, locked (the agreement's lock already serialises its signers)."""
    return conn.execute(
        "select * from signing_codes where agreement_id = %s order by issued_at desc, code_id desc limit 1 "
        "for update",
        (agreement_id,),
    ).fetchone()


def update_signing_code(
    conn: psycopg.Connection, code_id: str, *, attempts: int, status: str, used_at: dt.datetime | None
) -> None:
    conn.execute(
        "update signing_codes set attempts = %s, status = %s, used_at = coalesce(%s, used_at) where code_id = %s",
        (attempts, status, used_at, code_id),
    )


# -- audit --------------------------------------------------------------------


def audit(
    conn: psycopg.Connection,
    *,
    case_id: str,
    subject_kind: str,
    subject_id: str,
    action: str,
    actor: str,
    actor_role: str,
    business_date: dt.date,
    at: dt.datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        "insert into audit_log (case_id, subject_kind, subject_id, action, actor, actor_role, business_date, at, "
        "detail) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (case_id, subject_kind, subject_id, action, actor, actor_role, business_date, at, Jsonb(detail or {})),
    )

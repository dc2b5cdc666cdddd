"""Read models for the API: agreements with their schedule status, referrals, unmatched payments.

Every view takes a unit of work of its own (``svc.unit_of_work()``) and opens it: one read
transaction per answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from forbear_shared import locale
from forbear_shared.auth import Principal, visible
from forbear_shared.domain import rights
from forbear_shared.domain.arrears import arrears_as_of
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import Policy
from forbear_shared.errors import NotFound
from forbear_shared.unit_of_work import UnitOfWork

from forbear_monitoring.adapters import ledger_rows
from forbear_monitoring.adapters import repository as repo
from forbear_monitoring.bootstrap import Monitoring
from forbear_monitoring.domain.missed import outstanding_missed_count
from forbear_monitoring.domain.standing import instalment_status, outstanding_balance


def list_agreements(uow: UnitOfWork[Monitoring], *, level: str | None, status: str | None, borrower_id: str | None,
                    limit: int, offset: int) -> dict[str, Any]:
    where, args = ["true"], []
    for column, value in (("level", level), ("status", status), ("borrower_id", borrower_id)):
        if value:
            where.append(f"{column} = %s")
            args.append(value)
    with uow:
        conn = uow.conn
        total = conn.execute(f"select count(*) as n from agreements where {' and '.join(where)}", args).fetchone()
        rows = conn.execute(
            f"""select agreement_id, case_id, borrower_id, loan_ids, option, status, level, level_since,
                       remedy_deadline, activated_on, closed_on, referral_blocked_since
                from agreements where {' and '.join(where)}
                order by activated_on desc, agreement_id limit %s offset %s""",
            [*args, limit, offset],
        ).fetchall()
        as_of = uow.business_date
    assert total is not None
    return {"business_date": as_of, "total": total["n"], "items": rows}


def agreement_view(uow: UnitOfWork[Monitoring], agreement_id: str, who: Principal) -> dict[str, Any]:
    with uow:
        conn = uow.conn
        agreement = repo.agreement(conn, agreement_id)
        visible(who, agreement, "agreement", agreement_id)
        as_of = uow.business_date
        ledger = ledger_rows.load_ledgers(conn, {agreement_id: agreement}, uow.service.schedules)[agreement_id]
        rows = conn.execute(
            "select number, missed_on, grace_cutoff from instalments where agreement_id = %s order by number",
            (agreement_id,),
        ).fetchall()
        payments = repo.payments_of(conn, agreement_id)
        notices = repo.notices_of(conn, agreement_id)
        steps = repo.steps_of(conn, agreement_id)
        referral = repo.referral_of(conn, agreement_id)
        pending = repo.open_renegotiations(conn, [agreement_id])
        warnings = {w["number"]: w for w in repo.near_breaches_of(conn, agreement_id)}
        promised = repo.promises_of(conn, agreement_id)
    policy = uow.policy
    arrears = arrears_as_of(ledger, as_of=as_of, policy=policy)
    schedule = []
    for instalment, row in zip(ledger.schedule.instalments, rows, strict=True):
        position = ledger.position(instalment.number)
        paid = position.fee_paid + position.penalty_paid + position.interest_paid + position.principal_paid
        schedule.append({
            "number": instalment.number,
            "due_date": instalment.due_date,
            "kind": instalment.kind.value,
            "total": instalment.total.amount,
            "principal": instalment.principal.amount,
            "interest": instalment.interest.amount,
            "fee": instalment.fee.amount,
            "paid": paid.amount,
            "penalty_charged": position.penalty_charged.amount,
            "status": instalment_status(ledger, instalment.number, as_of=as_of, policy=policy),
            "settled_on": position.settled_on,
            "missed_detected_on": row["missed_on"],
            "early_warning": warnings[instalment.number]["state"] if instalment.number in warnings else None,
        })
    return {
        "agreement_id": agreement_id,
        "case_id": agreement["case_id"],
        "borrower_id": agreement["borrower_id"],
        "loan_ids": agreement["loan_ids"],
        "option": agreement["option"],
        "document_sha256": agreement["document_sha256"],
        "activated_on": agreement["activated_on"],
        "policy_version": agreement["policy_version"],
        "status": agreement["status"],
        "level": agreement["level"],
        "level_since": agreement["level_since"],
        "remedy_deadline": agreement["remedy_deadline"],
        "closed_on": agreement["closed_on"],
        "superseded_by": agreement["superseded_by"],
        "supersedes_agreement_id": agreement["supersedes_agreement_id"],
        "business_date": as_of,
        "days_past_due": arrears.days_past_due,
        "dpd_bucket": arrears.bucket,
        "arrears": {
            "total": arrears.total.amount, "principal": arrears.principal.amount,
            "interest": arrears.interest.amount, "penalty_interest": arrears.penalty_interest.amount,
            "fees": arrears.fees.amount,
        },
        "outstanding_balance": outstanding_balance(ledger, as_of=as_of, policy=policy).amount,
        "missed_instalments_outstanding": outstanding_missed_count(ledger, as_of=as_of, policy=policy),
        "unapplied": ledger.held.amount,
        # early warning: the instalments near breach now (checkpoint passed, paid below the share)
        "near_breach": [
            {"instalment": w["number"], "due_date": w["due_date"], "checkpoint": w["checkpoint"],
             "amount_due": w["amount_due"], "amount_paid": w["amount_paid"], "required_share": w["required_share"],
             "since": w["flagged_on"]}
            for w in warnings.values() if w["state"] == "near_breach"
        ],
        "schedule": schedule,
        "payments": [
            {"reference": p["reference"], "amount": p["amount"], "received_on": p["received_on"],
             "source": p["source"], "allocation": p["allocation"] or [], "unallocated": p["unallocated"],
             "entered_on": p["entered_on"], "backdated_days": p["backdated_days"],
             # who keyed a slip in is the lender's own record, for staff
             **({"entered_by": p["entered_by"]} if who.role != "borrower" else {})}
            for p in payments
        ],
        "notices": [
            {"notice_id": str(n["notice_id"]), "level": n["level"], "on": n["on_date"],
             "days_past_due": n["days_past_due"], "amount_overdue": n["amount_overdue"],
             "remedy_deadline": n["remedy_deadline"], "rights": notice_rights(policy, n, agreement["currency"])}
            for n in notices
        ],
        "escalation": [
            {"from_level": s["from_level"], "to_level": s["to_level"], "on": s["on_date"], "reason": s["reason"]}
            for s in steps
        ],
        "promises": [_promise(p) for p in promised],
        "referral_blocked_since": agreement["referral_blocked_since"],
        "pending_renegotiations": [{"case_id": r["case_id"], "state": r["state"]} for r in pending],
        "referral": None if referral is None else {
            "referral_id": str(referral["referral_id"]), "route": referral["route"],
            "referred_on": referral["referred_on"], "reasons": referral["reasons"],
        },
    }


def _promise(p: dict[str, Any]) -> dict[str, Any]:
    return {k: p[k] for k in ("promise_id", "agreement_id", "amount", "currency", "made_on", "due_date", "channel",
                              "recorded_by", "status", "paid", "judged_on")}


def promises_of(uow: UnitOfWork[Monitoring], agreement_id: str, who: Principal) -> list[dict[str, Any]]:
    """The agreement's promises to pay, oldest first; another borrower's agreement does not exist."""
    with uow:
        conn = uow.conn
        agreement = conn.execute("select borrower_id from agreements where agreement_id = %s",
                                 (agreement_id,)).fetchone()
        visible(who, agreement, "agreement", agreement_id)
        return [_promise(p) for p in repo.promises_of(conn, agreement_id)]


def list_referrals(uow: UnitOfWork[Monitoring], *, route: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
    with uow:
        conn = uow.conn
        rows = conn.execute(
            """select referral_id, agreement_id, borrower_id, route, reasons, referred_on,
                      dossier->>'amount_overdue' as amount_overdue, dossier->>'outstanding_balance' as outstanding_balance
               from referrals where (%s::text is null or route = %s)
               order by referred_on desc, referral_id limit %s offset %s""",
            (route, route, limit, offset),
        ).fetchall()
    return [{**r, "referral_id": str(r["referral_id"])} for r in rows]


def referral_view(uow: UnitOfWork[Monitoring], referral_id: str) -> dict[str, Any]:
    try:
        ident = uuid.UUID(referral_id)
    except ValueError:
        raise NotFound("referral", referral_id) from None
    with uow:
        conn = uow.conn
        row = conn.execute("select * from referrals where referral_id = %s", (ident,)).fetchone()
    if row is None:
        raise NotFound("referral", referral_id)
    return {**row, "referral_id": str(row["referral_id"])}


def unmatched_payments(uow: UnitOfWork[Monitoring], limit: int, offset: int) -> list[dict[str, Any]]:
    with uow:
        conn = uow.conn
        return conn.execute(
            """select reference, loan_id, agreement_id, amount, currency, received_on, source, unmatched_reason
               from payments where status = 'unmatched' order by seq limit %s offset %s""",
            (limit, offset),
        ).fetchall()


def notice_rights(policy: Policy, notice: Mapping[str, Any], currency: str) -> Mapping[str, list[str]]:
    """What the notice tells the borrower of their rights, in each language the lender writes in
    (a breach notice: the overdue amount that remedies it, and its last day)."""
    if notice["level"] == "breach_notice":
        stated = rights.on_notice(policy.rights, "breach_notice", remedy_by=notice["remedy_deadline"],
                                  remedy_amount=Money(notice["amount_overdue"], currency))
    else:
        stated = rights.on_notice(policy.rights, notice["level"])
    return locale.rights_text(stated)

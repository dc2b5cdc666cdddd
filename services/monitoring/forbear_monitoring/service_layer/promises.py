"""Promises to pay: recorded by an agent or the borrower, judged kept or broken by close of business.

Recording locks the agreement row, so two promises made at once are counted against the
policy's ``max_open`` one after the other. Judging is part of each day's close of business
(``cob.close_of_business``), after the day's payments are applied and before the ladder
moves: what it finds broken or still open is what the ladder reads (``domain.escalation``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from forbear_shared import metrics
from forbear_shared.auth import Principal, visible
from forbear_shared.db import on_commit
from forbear_shared.domain.money import Money
from forbear_shared.events.schemas.monitoring import PromiseBroken, PromiseKept, PromiseRecorded
from forbear_shared.ids import new_id
from forbear_shared.unit_of_work import UnitOfWork

from forbear_monitoring.adapters import ledger_rows
from forbear_monitoring.adapters import repository as repo
from forbear_monitoring.bootstrap import Monitoring
from forbear_monitoring.domain import promises
from forbear_monitoring.domain.standing import outstanding_balance

Row = dict[str, Any]


@dataclass(frozen=True)
class RecordPromise:
    agreement_id: str
    amount: Decimal
    due_date: dt.date
    channel: str
    who: Principal


def record_promise(cmd: RecordPromise, uow: UnitOfWork[Monitoring]) -> Row:
    """The borrower (their own agreement only) or an agent records a promise to pay."""
    with uow:
        conn = uow.conn
        agreement = repo.agreement(conn, cmd.agreement_id, for_update=True)
        visible(cmd.who, agreement, "agreement", cmd.agreement_id)
        today = uow.business_date
        currency = agreement["currency"]
        if agreement["status"] == "active":
            ledger = ledger_rows.load_ledgers(conn, {cmd.agreement_id: agreement}, uow.service.schedules)[cmd.agreement_id]
            owed = outstanding_balance(ledger, as_of=today, policy=uow.policy)
        else:
            owed = Money.zero(currency)  # refused below as closed
        terms = promises.check_promise(
            amount=Money.of(cmd.amount, currency), due_date=cmd.due_date, business_date=today, owed=owed,
            agreement_status=agreement["status"], open_promises=repo.open_promise_count(conn, cmd.agreement_id),
            policy=uow.policy)
        recorded_by = "borrower" if cmd.who.role == "borrower" else "agent"
        written = repo.insert_promise(conn, {
            "promise_id": new_id("prm"), "agreement_id": cmd.agreement_id, "case_id": agreement["case_id"],
            "amount": terms.amount.amount, "currency": currency, "made_on": terms.made_on,
            "due_date": terms.due_date, "channel": cmd.channel, "recorded_by": recorded_by,
            "recorded_subject": cmd.who.subject,
        })
        uow.emit(type="promise.recorded", case_id=agreement["case_id"], business_date=today,
                 payload=PromiseRecorded(promise_id=written["promise_id"], agreement_id=cmd.agreement_id,
                                         amount=terms.amount.amount, currency=currency, due_date=terms.due_date,
                                         channel=cmd.channel, recorded_by=recorded_by, made_on=terms.made_on))
        on_commit(conn, metrics.PROMISES.labels("recorded").inc)
        return promise_view(written)


def promise_view(row: Row) -> Row:
    return {k: row[k] for k in ("promise_id", "agreement_id", "amount", "currency", "made_on", "due_date", "channel",
                                "recorded_by", "status", "paid", "judged_on")}


@dataclass
class Judged:
    """What a close of business found: agreements whose promise broke, those with one still
    open, and the promises judged by outcome (for the metric, once committed)."""

    broken: set[str] = field(default_factory=set)
    open: set[str] = field(default_factory=set)
    outcomes: Counter[str] = field(default_factory=Counter)


def judge_promises(uow: UnitOfWork[Monitoring], day: dt.date) -> Judged:
    """The sweep of ``day`` closes the business day before it: every open promise is judged as
    of that close (kept, broken, or still open), each recorded and announced once."""
    closing = day - dt.timedelta(days=1)
    rows = repo.open_promises_with_payments(uow.conn, closing)
    decided: list[tuple[Row, promises.Judgement]] = []
    judged = Judged()
    for r in rows:
        terms = promises.PromiseTerms(Money.of(r["amount"], r["currency"]), r["due_date"], r["made_on"])
        paid = [(on, Money.of(amount, r["currency"])) for on, amount in zip(r["received_on"], r["amounts"], strict=True)]
        verdict = promises.judge(terms, paid, closing=closing)
        if verdict is None:
            judged.open.add(r["agreement_id"])
        else:
            decided.append((r, verdict))
    recorded = repo.judge_promises(uow.conn, [
        (r["promise_id"], v.status.value, v.paid.amount, closing) for r, v in decided])
    events = []
    for r, v in decided:
        if r["promise_id"] not in recorded:
            continue  # judged already: never announced twice
        kind = PromiseKept if v.status is promises.PromiseStatus.KEPT else PromiseBroken
        judged.outcomes[v.status.value] += 1
        if v.status is promises.PromiseStatus.BROKEN:
            judged.broken.add(r["agreement_id"])
        events.append(uow.event(
            type=f"promise.{v.status.value}", case_id=r["case_id"], business_date=day,
            payload=kind(promise_id=r["promise_id"], agreement_id=r["agreement_id"], amount=r["amount"],
                         paid=v.paid.amount, due_date=r["due_date"], on=closing)))
    uow.emit_many(events)
    return judged

"""Payments: received (from core banking or an agent), allocated, and announced.

A run of ``payment.received`` events is allocated in the transaction that records the
events in the inbox: under the ledger lock, references already recorded are recognised
(a repeated reference is the same payment, a no-op), the new payments are allocated with the
shared domain (fees -> penalty -> interest -> principal, oldest instalment first,
tolerance) on ledgers kept in memory between batches (``LedgerCache``), and one statement
per table writes the ledger rows, the payments as they end up and a ``payment.applied`` per
payment to the outbox. Kafka offsets are committed after that transaction: a crash before
it re-reads the run, nothing is lost and nothing is applied twice.

A payment whose loan no agreement covers (yet) is *parked* as ``unmatched`` with the reason
(``unknown_loan``; ``agreement_closed`` when the loan's agreement is completed, referred or
superseded): it stays visible (``GET /payments/unmatched``) for an agent, and a later
activation covering the loan sets the ``unknown_loan`` ones received on or after its
activation date back to ``pending``; the allocator loop applies pending payments as it finds
them. Nothing goes to a dead-letter topic for a business reason.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from forbear_shared import metrics
from forbear_shared.auth import Principal
from forbear_shared.db import on_commit
from forbear_shared.domain.allocation import Payment, apply_payment
from forbear_shared.domain.money import Money, round_money
from forbear_shared.domain.policy import Component
from forbear_shared.errors import NotFound
from forbear_shared.events import DecodedEvent, Envelope
from forbear_shared.events.schemas.corebanking import PaymentReceived
from forbear_shared.events.schemas.monitoring import AllocationLine, PaymentApplied
from forbear_shared.retry import Retrying, postgres_unavailable
from forbear_shared.unit_of_work import UnitOfWork

from forbear_monitoring.adapters import ledger_rows
from forbear_monitoring.adapters import repository as repo
from forbear_monitoring.bootstrap import Monitoring
from forbear_monitoring.domain.manual_payments import RecordedSlip, check_slip
from forbear_monitoring.service_layer.review import Effects, review

log = logging.getLogger(__name__)

COMPONENT = {
    Component.FEES: "fee",
    Component.PENALTY_INTEREST: "penalty",
    Component.INTEREST: "interest",
    Component.PRINCIPAL: "principal",
}

Row = dict[str, Any]


def on_payment_received(event: DecodedEvent, uow: UnitOfWork[Monitoring]) -> None:
    """One event (replays of a failed batch go one by one)."""
    on_payments_received([event], uow)


def on_payments_received(events: list[DecodedEvent], uow: UnitOfWork[Monitoring]) -> None:
    """A run of ``payment.received`` allocated and recorded in the transaction that records the
    events in the inbox (offsets are committed after it).

    A reference already recorded, or repeated within the run, is the same payment: recorded
    and allocated once (the first of the run).
    """
    rows: dict[str, Row] = {}
    for event in events:
        p = event.payload
        assert isinstance(p, PaymentReceived)
        if p.reference in rows:
            continue
        rows[p.reference] = {
            # to the cent, as the numeric(18, 2) column keeps it: memory and table agree
            "reference": p.reference, "loan_id": p.loan_id, "agreement_id": None,
            "amount": round_money(p.amount) if p.amount.is_finite() else p.amount,
            "currency": p.currency, "received_on": p.received_on, "source": "corebanking", "entered_by": None,
            "entered_on": None, "backdated_days": None,
        }
    with uow:
        generation = repo.lock_ledger(uow.conn)
        known = repo.known_references(uow.conn, list(rows))
        fresh = [row for reference, row in rows.items() if reference not in known]
        duplicates = len(events) - len(fresh)
        if duplicates:
            on_commit(uow.conn, metrics.PAYMENTS.labels("corebanking", "duplicate").inc, duplicates)
        if fresh:
            _allocate(uow, generation, fresh, recorded=False)


@dataclass
class BatchResult:
    applied: int = 0
    unmatched: int = 0
    #: the allocation lines and the unallocated rest of each payment applied, by reference
    outcomes: dict[str, tuple[list[dict[str, str]], Decimal | None]] | None = None
    #: the payments as they were written
    finished: list[Row] | None = None


def apply_pending(uow: UnitOfWork[Monitoring], *, limit: int = 2000) -> BatchResult:
    """Allocate up to ``limit`` pending payments, in the open unit of work (COB, the allocator)."""
    generation = repo.lock_ledger(uow.conn)
    return _allocate(uow, generation, repo.pending_payments(uow.conn, limit), recorded=True)


def _allocate(uow: UnitOfWork[Monitoring], generation: int, payments: list[Row], *, recorded: bool,
              agreement: Row | None = None) -> BatchResult:
    """Allocate ``payments`` in the order given, under the ledger lock taken at ``generation``.

    ``recorded`` payments are rows of ``payments`` (pending) and are updated; the others are
    new and inserted as they end up (applied or unmatched), one write per table. ``agreement``:
    the row of the one agreement all ``payments`` name, when the caller loaded it already.
    """
    svc = uow.service
    conn = uow.conn
    svc.ledgers.begin(generation)
    result = BatchResult(outcomes={}, finished=[])
    assert result.outcomes is not None and result.finished is not None
    counts: Counter[tuple[str, str]] = Counter()
    if not payments:
        return result
    as_of = uow.business_date
    if agreement is not None:
        by_loan: dict[str, str] = {}
        agreements = {agreement["agreement_id"]: agreement}
    else:
        by_loan, agreements = repo.payment_agreements(
            conn,
            loan_ids=[p["loan_id"] for p in payments if p["agreement_id"] is None],
            agreement_ids=[p["agreement_id"] for p in payments if p["agreement_id"] is not None],
        )
    active = {a: row for a, row in agreements.items() if row["status"] == "active"}
    ledgers = svc.ledgers.get(active)
    missing = {a: row for a, row in active.items() if a not in ledgers}
    if missing:
        ledgers.update(ledger_rows.load_ledgers(conn, missing, svc.schedules))
    originals = dict(ledgers)
    finished = result.finished
    announced: list[tuple[Envelope, str]] = []
    policy = uow.policy
    for p in payments:
        agreement_id = p["agreement_id"] or by_loan.get(p["loan_id"])
        row = {**p, "agreement_id": agreement_id, "status": "unmatched", "unmatched_reason": None,
               "allocation": None, "unallocated": None, "applied_on": None}
        if agreement_id is None:
            row["unmatched_reason"] = "unknown_loan"
        elif agreement_id not in active:
            row["unmatched_reason"] = "agreement_closed"
        elif p["currency"] != ledgers[agreement_id].schedule.currency:
            row["unmatched_reason"] = "currency_mismatch"
        if row["unmatched_reason"]:
            finished.append(row)
            counts[(p["source"], "unmatched")] += 1
            result.unmatched += 1
            log.warning("payment parked as unmatched", extra={"reason": row["unmatched_reason"]})
            continue
        ledger = ledgers[agreement_id]
        # numeric(18, 2) in the schedule's (checked) currency: exact as it stands
        payment = Payment(p["reference"], p["received_on"], _exact(p["amount"], ledger.schedule.currency))
        ledger, statement = apply_payment(ledger, payment, policy)
        ledgers[agreement_id] = ledger
        lines = [{"instalment": line.instalment_number, "component": COMPONENT[line.component],
                  "amount": str(line.amount.amount)} for line in statement.lines]
        unallocated = statement.unapplied.amount if statement.unapplied.is_positive() else None
        row.update(status="applied", allocation=orjson.dumps(lines).decode(), unallocated=unallocated,
                   applied_on=as_of)
        finished.append(row)
        announced.append(uow.event(
            type="payment.applied", case_id=active[agreement_id]["case_id"], business_date=as_of,
            payload=PaymentApplied(
                agreement_id=agreement_id, reference=p["reference"], amount=p["amount"], source=p["source"],
                received_on=p["received_on"], unallocated=unallocated,
                allocation=[AllocationLine(instalment=line.instalment_number, component=COMPONENT[line.component],
                                           amount=line.amount.amount) for line in statement.lines],
            ),
        ))
        result.outcomes[p["reference"]] = (lines, unallocated)
        counts[(p["source"], "applied")] += 1
        result.applied += 1

    changed: list[Row] = []
    unapplied: list[tuple[Decimal, str]] = []
    for agreement_id, ledger in ledgers.items():
        before = originals[agreement_id]
        if ledger is before:
            continue
        changed.extend(repo.changed_positions(agreement_id, before, ledger))
        if ledger.held != before.held:
            unapplied.append((ledger.held.amount, agreement_id))
    svc.ledgers.keep(generation, ledgers)
    # one statement per table
    with conn.pipeline():
        repo.save_positions(conn, changed)
        repo.set_unapplied(conn, unapplied)
        if recorded:
            repo.finish_payments(conn, finished)
    if not recorded:
        repo.insert_payments(conn, finished)
    uow.emit_many(announced)
    # a payment can complete or cure an agreement at once; escalation waits for close of business
    effects = Effects()
    for agreement_id, ledger in ledgers.items():
        if ledger is originals[agreement_id]:
            continue
        agreement_row = active[agreement_id]
        if ledger.is_fully_paid or agreement_row["level"] != "current":
            effects.merge(review(uow, agreement_row, ledger, as_of, escalate=False))
    on_commit(conn, _publish, counts, effects)
    return result


def _publish(counts: Counter[tuple[str, str]], effects: Effects) -> None:
    for (source, outcome), n in counts.items():
        metrics.PAYMENTS.labels(source, outcome).inc(n)
    effects.publish()


_exact = Money._exact  # noqa: SLF001 - exact as it stands, see _allocate


def allocate_once(svc: Monitoring, limit: int = 5000) -> int:
    with svc.unit_of_work() as uow:
        if not repo.any_pending_payment(uow.conn):
            return 0  # without taking the ledger lock
        result = apply_pending(uow, limit=limit)
    return result.applied + result.unmatched


def allocator_loop(svc: Monitoring, idle_seconds: float = 1.0) -> Any:
    """A worker loop: allocate pending payments (parked ones an activation re-matched; new
    payments are allocated by the consumer as they arrive), looking once a second when idle."""

    def run(stop: threading.Event) -> None:
        retrying = Retrying(svc.name, "allocator")
        while not stop.is_set():
            try:
                done = allocate_once(svc)
            except Exception as exc:
                if not postgres_unavailable(exc):
                    log.exception("allocation batch failed; retrying")
                elif retrying.attempt == 0:
                    log.warning("database unavailable; allocation waits", extra={"error": type(exc).__name__})
                retrying.failed(stop)
                continue
            retrying.succeeded()
            if done == 0:
                stop.wait(idle_seconds)

    return run


# -- manual entry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordManualPayment:
    agreement_id: str
    reference: str
    amount: Decimal
    received_on: dt.date | None
    who: Principal


@dataclass(frozen=True)
class RecordedPayment:
    #: the payment as recorded (``allocation`` a list of lines)
    payment: Row
    #: the reference was recorded already with the same details: the same payment, unchanged
    replayed: bool


def record_manual_payment(cmd: RecordManualPayment, uow: UnitOfWork[Monitoring]) -> RecordedPayment:
    """An agent (or a pipeline) enters a payment slip; applied at once, in one transaction."""
    with uow:
        generation = repo.lock_ledger(uow.conn)
        agreement, existing = repo.manual_entry_facts(uow.conn, cmd.agreement_id, cmd.reference)
        if agreement is None:
            raise NotFound("agreement", cmd.agreement_id)
        as_of = uow.business_date
        recorded = None if existing is None else RecordedSlip(existing["agreement_id"], existing["amount"],
                                                              existing["received_on"])
        entry = check_slip(agreement_id=cmd.agreement_id, amount=cmd.amount, received_on=cmd.received_on,
                           recorded=recorded, agreement_status=agreement["status"],
                           agreement_start=agreement["activated_on"], business_date=as_of, policy=uow.policy)
        if entry is None:
            assert existing is not None
            return RecordedPayment(existing, replayed=True)
        result = _allocate(uow, generation, [{
            "reference": cmd.reference, "loan_id": None, "agreement_id": cmd.agreement_id,
            "amount": round_money(cmd.amount), "currency": agreement["currency"],
            "received_on": entry.received_on, "source": "manual", "entered_by": cmd.who.subject,
            "entered_on": as_of, "backdated_days": entry.backdated_days or None,
        }], recorded=False, agreement=agreement)
    if entry.backdated_days:
        log.info("manual payment backdated", extra={"agreement_id": cmd.agreement_id,
                                                     "backdated_days": entry.backdated_days})
    assert result.finished is not None and result.outcomes is not None
    written = result.finished[0]
    lines, _ = result.outcomes.get(cmd.reference, ([], None))
    return RecordedPayment({**written, "allocation": lines}, replayed=False)

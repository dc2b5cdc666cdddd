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
import uuid
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
import psycopg
from forbear_shared import metrics, outbox
from forbear_shared.db import on_commit, transaction
from forbear_shared.domain.allocation import Payment, apply_payment
from forbear_shared.domain.money import Money, round_money
from forbear_shared.domain.policy import Component
from forbear_shared.events import DecodedEvent, Envelope, new_event_ids, registry
from forbear_shared.events.schemas.corebanking import PaymentReceived
from forbear_shared.events.schemas.monitoring import PaymentApplied
from forbear_shared.retry import Retrying, postgres_unavailable
from forbear_shared.topics import MONITORING_EVENTS

from forbear_monitoring.adapters import ledger_rows
from forbear_monitoring.adapters import repository as repo
from forbear_monitoring.domain.manual_payments import check_received_on
from forbear_monitoring.service_layer.deps import Monitoring
from forbear_monitoring.service_layer.review import Effects, review

log = logging.getLogger(__name__)

COMPONENT = {
    Component.FEES: "fee",
    Component.PENALTY_INTEREST: "penalty",
    Component.INTEREST: "interest",
    Component.PRINCIPAL: "principal",
}


def on_payment_received(m: Monitoring, conn: psycopg.Connection, event: DecodedEvent) -> None:
    """Consumer handler for one event (replays of a failed batch go one by one)."""
    on_payments_received(m, conn, [event])


def on_payments_received(m: Monitoring, conn: psycopg.Connection, events: list[DecodedEvent]) -> None:
    """Consumer batch handler: a run of ``payment.received`` allocated and recorded in the
    transaction that records the events in the inbox (offsets are committed after it).

    A reference already recorded, or repeated within the run, is the same payment: recorded
    and allocated once (the first of the run).
    """
    rows: dict[str, dict[str, Any]] = {}
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
    generation = repo.lock_ledger(conn)
    known = repo.known_references(conn, list(rows))
    fresh = [row for reference, row in rows.items() if reference not in known]
    duplicates = len(events) - len(fresh)
    if duplicates:
        on_commit(conn, metrics.PAYMENTS.labels("corebanking", "duplicate").inc, duplicates)
    if fresh:
        result, counts = _allocate(m, conn, generation, fresh, recorded=False)
        on_commit(conn, result.publish, counts)


@dataclass
class BatchResult:
    applied: int = 0
    unmatched: int = 0
    effects: Effects | None = None
    outcomes: dict[str, dict[str, Any]] | None = None

    def publish(self, counts: Counter[tuple[str, str]]) -> None:
        for (source, outcome), n in counts.items():
            metrics.PAYMENTS.labels(source, outcome).inc(n)
        if self.effects:
            self.effects.publish()


def apply_pending(m: Monitoring, conn: psycopg.Connection, *, limit: int = 2000,
                  reference: str | None = None) -> tuple[BatchResult, Counter[tuple[str, str]]]:
    """Allocate up to ``limit`` pending payments (or just ``reference``) inside the caller's transaction."""
    generation = repo.lock_ledger(conn)
    return _allocate(m, conn, generation, repo.pending_payments(conn, limit, reference), recorded=True)


def _allocate(m: Monitoring, conn: psycopg.Connection, generation: int, payments: list[dict[str, Any]], *,
              recorded: bool) -> tuple[BatchResult, Counter[tuple[str, str]]]:
    """Allocate ``payments`` in the order given, under the ledger lock taken at ``generation``.

    ``recorded`` payments are rows of ``payments`` (pending) and are updated; the others are
    new and inserted as they end up (applied or unmatched), one write per payment.
    """
    m.ledgers.begin(generation)
    result = BatchResult(effects=Effects(), outcomes={})
    counts: Counter[tuple[str, str]] = Counter()
    if not payments:
        return result, counts
    as_of = m.ctx.business_date(conn)
    by_loan, agreements = repo.payment_agreements(
        conn,
        loan_ids=[p["loan_id"] for p in payments if p["agreement_id"] is None],
        agreement_ids=[p["agreement_id"] for p in payments if p["agreement_id"] is not None],
    )
    active = {a: row for a, row in agreements.items() if row["status"] == "active"}
    ledgers = m.ledgers.get(active)
    missing = {a: row for a, row in active.items() if a not in ledgers}
    if missing:
        ledgers.update(ledger_rows.load_ledgers(conn, missing, m.schedules))
    originals = dict(ledgers)
    finished: list[dict[str, Any]] = []
    outbox_rows: list[tuple[str, str, str, str, str]] = []
    topic = m.ctx.settings.topic(MONITORING_EVENTS.name)
    envelope = _envelope_fields(m, as_of)
    event_ids = iter(new_event_ids(len(payments)))
    policy = m.policy
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
        # the payload as PaymentApplied(...).model_dump(mode="json") writes it, without a model per line
        lines = [{"instalment": line.instalment_number, "component": COMPONENT[line.component],
                  "amount": str(line.amount.amount)} for line in statement.lines]
        unallocated = statement.unapplied.amount if statement.unapplied.is_positive() else None
        row.update(status="applied", allocation=orjson.dumps(lines).decode(), unallocated=unallocated,
                   applied_on=as_of)
        finished.append(row)
        case_id = active[agreement_id]["case_id"]
        event_id = next(event_ids)
        body = orjson.dumps({
            **envelope, "event_id": event_id, "case_id": case_id, "correlation_id": event_id,
            "payload": {"agreement_id": agreement_id, "reference": p["reference"], "amount": str(p["amount"]),
                        "source": p["source"], "received_on": p["received_on"].isoformat(), "allocation": lines,
                        "unallocated": None if unallocated is None else str(unallocated)},
        }).decode()
        outbox_rows.append((event_id, topic, case_id, "payment.applied", body))
        result.outcomes[p["reference"]] = {"agreement_id": agreement_id, "allocation": lines,
                                           "unallocated": unallocated}
        counts[(p["source"], "applied")] += 1
        result.applied += 1

    changed: list[dict[str, Any]] = []
    unapplied: list[tuple[Decimal, str]] = []
    for agreement_id, ledger in ledgers.items():
        before = originals[agreement_id]
        if ledger is before:
            continue
        changed.extend(repo.changed_positions(agreement_id, before, ledger))
        if ledger.held != before.held:
            unapplied.append((ledger.held.amount, agreement_id))
    m.ledgers.keep(generation, ledgers)
    # one statement per table
    with conn.pipeline():
        repo.save_positions(conn, changed)
        repo.set_unapplied(conn, unapplied)
        if recorded:
            repo.finish_payments(conn, finished)
    if not recorded:
        repo.insert_payments(conn, finished)
    outbox.add_rows(conn, outbox_rows)
    # a payment can complete or cure an agreement at once; escalation waits for close of business
    assert result.effects is not None
    for agreement_id, ledger in ledgers.items():
        if ledger is originals[agreement_id]:
            continue
        agreement_row = active[agreement_id]
        if ledger.is_fully_paid or agreement_row["level"] != "current":
            result.effects.merge(review(m, conn, agreement_row, ledger, as_of, escalate=False))
    return result, counts


_exact = Money._exact  # noqa: SLF001 - exact as it stands, see _allocate


def _envelope_fields(m: Monitoring, as_of: dt.date) -> dict[str, Any]:
    """The envelope fields every ``payment.applied`` of one batch shares, as JSON values
    (what ``ctx.emit`` would write).

    Bodies are written with orjson from plain dicts: building and serialising a validated
    model per payment was the allocator's main cost. ``Envelope`` and
    ``PaymentApplied`` are still the schema they follow (the tests decode them with it).
    """
    fields = Envelope.model_construct(
        event_id=uuid.UUID(int=0), type="payment.applied",
        schema_version=registry.version_of("payment.applied", _SAMPLE_APPLIED),
        case_id="-", occurred_at=m.ctx.now(), business_date=as_of, correlation_id=uuid.UUID(int=0),
        causation_id=None, producer=m.ctx.name, payload={},
    ).model_dump(mode="json")
    for per_event in ("event_id", "case_id", "correlation_id", "payload"):
        del fields[per_event]
    return fields


_SAMPLE_APPLIED = PaymentApplied.model_construct()


def allocate_once(m: Monitoring, limit: int = 5000) -> int:
    with transaction(m.ctx.pool) as conn:
        if not repo.any_pending_payment(conn):
            return 0  # without taking the ledger lock
        result, counts = apply_pending(m, conn, limit=limit)
    result.publish(counts)
    return result.applied + result.unmatched


def allocator_loop(m: Monitoring, idle_seconds: float = 1.0) -> Any:
    """A worker loop: allocate pending payments (parked ones an activation re-matched; new
    payments are allocated by the consumer as they arrive), looking once a second when idle."""

    def run(stop: threading.Event) -> None:
        retrying = Retrying(m.ctx.name, "allocator")
        while not stop.is_set():
            try:
                done = allocate_once(m)
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
class ManualPayment:
    agreement_id: str
    reference: str
    amount: Decimal
    received_on: dt.date | None
    entered_by: str


def record_manual_payment(m: Monitoring, cmd: ManualPayment) -> dict[str, Any]:
    """An agent (or a pipeline) enters a payment slip; applied at once, in one transaction."""
    from forbear_shared.errors import Conflict, NotFound

    with transaction(m.ctx.pool) as conn:
        generation = repo.lock_ledger(conn)
        agreement = repo.agreement(conn, cmd.agreement_id)
        if agreement is None:
            raise NotFound("agreement", cmd.agreement_id)
        as_of = m.ctx.business_date(conn)
        received_on = cmd.received_on or as_of
        existing = repo.payment(conn, cmd.reference)
        if existing is not None:
            same = (existing["agreement_id"] == cmd.agreement_id and existing["amount"] == cmd.amount
                    and existing["received_on"] == received_on)
            if not same:
                raise Conflict("payment_reference_conflict",
                               f"payment reference {cmd.reference} is already recorded with other details")
            return {"payment": existing, "replayed": True}
        if agreement["status"] != "active":
            raise Conflict("agreement_closed",
                           f"agreement {cmd.agreement_id} is {agreement['status']}; it takes no more payments")
        check = check_received_on(received_on, business_date=as_of, agreement_start=agreement["activated_on"],
                                  policy=m.policy)
        if check.refusal is not None:
            raise Conflict(check.refusal.value,
                                f"received_on {received_on} must lie between {check.earliest} and the business "
                                f"date {as_of}")
        result, counts = _allocate(m, conn, generation, [{
            "reference": cmd.reference, "loan_id": None, "agreement_id": cmd.agreement_id,
            "amount": round_money(cmd.amount), "currency": agreement["currency"],
            "received_on": received_on, "source": "manual", "entered_by": cmd.entered_by,
            "entered_on": as_of, "backdated_days": check.backdated_days or None,
        }], recorded=False)
        if check.backdated_days:
            log.info("manual payment backdated", extra={"agreement_id": cmd.agreement_id,
                                                         "backdated_days": check.backdated_days})
        stored = repo.payment(conn, cmd.reference)
    result.publish(counts)
    return {"payment": stored, "replayed": False}

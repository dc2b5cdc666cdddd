"""Payments: received (from core banking or an agent), allocated, and announced.

Two steps, for throughput and for never losing money:

1. *Received*: the consumer records each ``payment.received`` in ``payments`` with one
   statement (``on conflict (reference) do nothing``: a repeated reference is the same
   payment, a no-op). From then on the payment is durable, whatever happens next.
2. *Applied*: the allocator takes pending payments in batches, finds the agreement covering
   each loan, allocates with the shared domain (fees -> penalty -> interest -> principal,
   oldest instalment first, tolerance), writes the changed ledger rows and emits
   ``payment.applied`` — one transaction per batch, statements pipelined.

A payment whose loan no agreement covers (yet) is *parked* as ``unmatched`` with the reason
(``unknown_loan``; ``agreement_closed`` when the loan's agreement is completed, referred or
superseded): it stays visible (``GET /payments/unmatched``) for an agent, and a later
activation covering the loan re-matches the ``unknown_loan`` ones received on or after its
activation date. Nothing goes to a dead-letter topic for a business reason.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from forbear_shared import metrics
from forbear_shared.db import transaction
from forbear_shared.domain.allocation import Payment, apply_payment
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import Component
from forbear_shared.events import DecodedEvent, Envelope, registry
from forbear_shared.events.schemas.corebanking import PaymentReceived
from forbear_shared.events.schemas.monitoring import PaymentApplied
from forbear_shared.topics import MONITORING_EVENTS

from forbear_monitoring.adapters import repository as repo
from forbear_monitoring.service_layer.deps import Monitoring
from forbear_monitoring.service_layer.review import Effects, review

log = logging.getLogger(__name__)

COMPONENT = {
    Component.FEES: "fee",
    Component.PENALTY_INTEREST: "penalty",
    Component.INTEREST: "interest",
    Component.PRINCIPAL: "principal",
}


def on_payment_received(conn: psycopg.Connection, event: DecodedEvent) -> None:
    """Consumer handler for one event (replays of a failed batch go one by one)."""
    on_payments_received(conn, [event])


def on_payments_received(conn: psycopg.Connection, events: list[DecodedEvent]) -> None:
    """Consumer batch handler: a run of ``payment.received`` staged with ONE statement.

    The allocator applies them afterwards (a crash in between leaves them ``pending``: nothing
    is lost). A reference already recorded, or repeated within the run, is the same payment.
    """
    rows = []
    for event in events:
        p = event.payload
        assert isinstance(p, PaymentReceived)
        rows.append({
            "reference": p.reference, "loan_id": p.loan_id, "agreement_id": None, "amount": p.amount,
            "currency": p.currency, "received_on": p.received_on, "source": "corebanking", "entered_by": None,
        })
    duplicates = len(rows) - repo.stage_payments(conn, rows)
    if duplicates:
        metrics.PAYMENTS.labels("corebanking", "duplicate").inc(duplicates)


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
    repo.lock_ledger(conn)
    pending = repo.pending_payments(conn, limit, reference)
    result = BatchResult(effects=Effects(), outcomes={})
    counts: Counter[tuple[str, str]] = Counter()
    if not pending:
        return result, counts
    as_of = m.ctx.business_date(conn)
    need_loans = [p["loan_id"] for p in pending if p["agreement_id"] is None]
    by_loan = repo.agreements_for_loans(conn, need_loans) if need_loans else {}
    agreement_ids = {p["agreement_id"] or (by_loan.get(p["loan_id"]) or {}).get("agreement_id") for p in pending}
    agreement_ids.discard(None)
    agreements = repo.agreements(conn, [a for a in agreement_ids if a])
    active = {a: row for a, row in agreements.items() if row["status"] == "active"}
    ledgers = repo.load_ledgers(conn, active, m.schedules)
    originals = dict(ledgers)
    finished: list[dict[str, Any]] = []
    outbox_rows: list[tuple[uuid.UUID, str, str, str, str]] = []
    topic = m.ctx.settings.topic(MONITORING_EVENTS.name)
    event_head = _event_head(m, as_of)
    for p in pending:
        agreement_id = p["agreement_id"] or (by_loan.get(p["loan_id"]) or {}).get("agreement_id")
        row = {"reference": p["reference"], "agreement_id": agreement_id, "status": "unmatched",
               "unmatched_reason": None, "allocation": None, "unallocated": None, "applied_on": None}
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
        currency = ledger.schedule.currency
        # numeric(18, 2) in the schedule's (checked) currency: exact as it stands
        payment = Payment(p["reference"], p["received_on"], _exact(p["amount"], currency))
        ledger, statement = apply_payment(ledger, payment, m.policy)
        ledgers[agreement_id] = ledger
        # the payload as PaymentApplied(...).model_dump(mode="json") writes it, without a model per line
        lines = [{"instalment": line.instalment_number, "component": COMPONENT[line.component],
                  "amount": str(line.amount.amount)} for line in statement.lines]
        unallocated = statement.unapplied.amount if statement.unapplied.is_positive() else None
        row.update(status="applied", allocation=json.dumps(lines), unallocated=unallocated, applied_on=as_of)
        finished.append(row)
        payload = {"agreement_id": agreement_id, "reference": p["reference"], "amount": str(p["amount"]),
                   "source": p["source"], "received_on": p["received_on"].isoformat(), "allocation": lines,
                   "unallocated": None if unallocated is None else str(unallocated)}
        event_id = uuid.uuid4()
        body = Envelope.model_construct(
            event_id=event_id, case_id=active[agreement_id]["case_id"], correlation_id=event_id,
            payload=payload, **event_head,
        ).model_dump_json()
        outbox_rows.append((event_id, topic, active[agreement_id]["case_id"], "payment.applied", body))
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
    # one statement per table
    with conn.pipeline():
        repo.save_positions(conn, changed)
        repo.set_unapplied(conn, unapplied)
        repo.finish_payments(conn, finished)
        repo.add_outbox_rows(conn, outbox_rows)
    # a payment can complete or cure an agreement at once; escalation waits for close of business
    assert result.effects is not None
    for agreement_id, ledger in ledgers.items():
        if ledger is originals[agreement_id]:
            continue
        agreement_row = active[agreement_id]
        if ledger.is_fully_paid or agreement_row["level"] != "current":
            result.effects.merge(review(m, conn, agreement_row, ledger, as_of, escalate=False))
    return result, counts


_exact = Money._exact  # noqa: SLF001 - see apply_pending


def _event_head(m: Monitoring, as_of: dt.date) -> dict[str, Any]:
    """The envelope fields every ``payment.applied`` of one batch shares (as ``ctx.emit`` sets them).

    The payloads are built as plain JSON-ready dicts and the envelope with ``model_construct``:
    validating thousands of models per batch was the allocator's main cost. ``PaymentApplied``
    is still the schema they follow (the tests decode them with it).
    """
    return {
        "type": "payment.applied",
        "schema_version": registry.version_of("payment.applied", _SAMPLE_APPLIED),
        "occurred_at": m.ctx.now(),
        "business_date": as_of,
        "causation_id": None,
        "producer": m.ctx.name,
    }


_SAMPLE_APPLIED = PaymentApplied.model_construct()


def allocate_once(m: Monitoring, limit: int = 5000) -> int:
    with transaction(m.ctx.pool) as conn:
        result, counts = apply_pending(m, conn, limit=limit)
    result.publish(counts)
    return result.applied + result.unmatched


def allocator_loop(m: Monitoring, idle_seconds: float = 0.02) -> Any:
    """A worker loop: allocate pending payments as they arrive."""

    def run(stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                done = allocate_once(m)
            except Exception:
                log.exception("allocation batch failed; retrying")
                stop.wait(1.0)
                continue
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
    from forbear_shared.errors import Conflict, NotFound, Unprocessable

    with transaction(m.ctx.pool) as conn:
        repo.lock_ledger(conn)
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
        if received_on > as_of:
            raise Unprocessable("received_on_after_business_date",
                                f"received_on {received_on} is after the business date {as_of}")
        repo.stage_payment(conn, {
            "reference": cmd.reference, "loan_id": None, "agreement_id": cmd.agreement_id, "amount": cmd.amount,
            "currency": agreement["currency"], "received_on": received_on, "source": "manual",
            "entered_by": cmd.entered_by,
        })
        result, counts = apply_pending(m, conn, reference=cmd.reference)
        stored = repo.payment(conn, cmd.reference)
    result.publish(counts)
    return {"payment": stored, "replayed": False}

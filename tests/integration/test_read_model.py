"""The operations read model on the real broker and database: events in, rows out; a duplicate
has no second effect; a malformed event goes to ``console.dlq``; a rebuild from offset 0 reaches
the same tables.

The case below: opened 2026-01-05, decided (approve) on 01-12 with two offers, offer 1 accepted
on 01-14 (offer 2 withdrawn), signed by both and active from 01-20 on a plan of three monthly
instalments of 1,000.00 due on the 5th (Feb, Mar, Apr). Instalment 1 is paid in full on 02-05;
instalment 2 is missed (detected 03-08) and the agreement escalates to a reminder on 03-08.
Early warning (checkpoint 7 days before each due date, half of 1,000.00 = 500.00 needed):
instalment 1 is near breach on 01-29 (0.00 paid) and cleared by the payment on 02-05;
instalment 2 near breach on 02-26, then missed (so no longer near breach); instalment 3 near
breach on 03-29 and still is on 03-31: one agreement near breach.
Business date 2026-03-31. So, by the rules: DPD at the month ends Jan 31, Feb 28 and Mar 31 is
0, 0 and 26 (March 5 to 31); the roll from "current" is observed twice and rolled once; the
agreement ever delinquent, not cured; time to first decision 7 days.

Two more cases gather evidence: one brought its medical certificate, still to review; the
other's was accepted, so it is ready to submit (intake's rule, from evidence.* events).

Two declines are appealed: the first appeal is upheld (its decision projected before its lodging:
order-safe), the second still waits for a supervisor. Appeals: 2 lodged, 1 pending, 1 upheld,
0 overturned; overturn rate 0 / (1 + 0) = 0.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from forbear_console.readmodel import TABLES
from forbear_console.readmodel.rebuild import rebuild
from forbear_shared.events import encode, new_event
from forbear_shared.events.schemas import agreement, evaluation, intake, monitoring
from forbear_shared.events.schemas.common import InstalmentDoc, LoanSnapshot, ScheduleDoc
from forbear_shared.kafka_admin import create_topics
from forbear_shared.service import ServiceContext
from forbear_shared.worker import build_consumer

from tests.support.infra import TestInfra, drop_database, eventually, producer, read_topic

pytestmark = pytest.mark.integration

CASE = f"C-RM-{uuid.uuid4().hex[:8]}"
TO_REVIEW, READY = f"{CASE}-R", f"{CASE}-S"
UPHELD, PENDING = f"{CASE}-U", f"{CASE}-P"
AGREEMENT = "A-RM-1"
D = dt.date.fromisoformat


def env(type_: str, payload: Any, on: str, case_id: str = CASE, minutes: int = 0) -> bytes:
    envelope = new_event(type=type_, payload=payload, case_id=case_id, business_date=D(on), producer="test",
                         occurred_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes))
    return encode(envelope)


def instalment(n: int, due: str) -> InstalmentDoc:
    m = Decimal("1000.00")
    return InstalmentDoc(number=n, due_date=D(due), kind="amortising", opening_balance=m * (4 - n), principal=m,
                         interest=Decimal("0.00"), fee=Decimal("0.00"), total=m, closing_balance=m * (3 - n))


SCHEDULE = ScheduleDoc(method="equal_principal", principal=Decimal("3000.00"), annual_rate=Decimal("0"),
                       day_count="30/360", start_date=D("2026-01-20"),
                       instalments=[instalment(1, "2026-02-05"), instalment(2, "2026-03-05"), instalment(3, "2026-04-05")])
LOAN = LoanSnapshot(loan_id="L-RM-1", borrower_id="B-RM", original_principal=Decimal("3000.00"),
                    outstanding_principal=Decimal("3000.00"), annual_rate=Decimal("0.05"), original_term_months=12,
                    remaining_term_months=3, contractual_instalment=Decimal("1100.00"), as_of=D("2026-01-05"))


def journey() -> list[tuple[str, bytes]]:
    """(topic, value) of the case's events, each topic in its own order."""
    n = iter(range(1000))
    return [
        ("monitoring.events", env("business_date.advanced", monitoring.BusinessDateAdvanced(previous=None, current=D("2026-01-20")), "2026-01-20", "lender", next(n))),
        ("intake.events", env("case.opened", intake.CaseOpened(borrower_id="B-RM", hardship_category="illness", channel="phone", dpd_at_first_contact=35, opened_on=D("2026-01-05"), loan_ids=["L-RM-1"]), "2026-01-05", minutes=next(n))),
        ("intake.events", env("evidence.requested", intake.EvidenceRequested(missing_document_types=["medical_certificate"], deadline=D("2026-01-19")), "2026-01-05", minutes=next(n))),
        ("intake.events", env("case.submitted", intake.CaseSubmitted(borrower_id="B-RM", submission=1, hardship_category="illness", channel="phone", dpd_at_first_contact=35, opened_on=D("2026-01-05"), loans=[LOAN], statement=None, evidence=[]), "2026-01-10", minutes=next(n))),
        ("evaluation.events", env("case.decided", evaluation.CaseDecided(decision_id="D1", borrower_id="B-RM", outcome="approve", reasons=[], policy_version="p1", decided_on=D("2026-01-12")), "2026-01-12", minutes=next(n))),
        ("agreement.events", env("offer.made", agreement.OfferMade(offer_id="O1", decision_id="D1", borrower_id="B-RM", rank=1, option="term_extension", new_instalment=Decimal("1000.00"), term_months=3, expires_on=D("2026-01-26")), "2026-01-12", minutes=next(n))),
        ("agreement.events", env("offer.made", agreement.OfferMade(offer_id="O2", decision_id="D1", borrower_id="B-RM", rank=2, option="rate_reduction", new_instalment=Decimal("1050.00"), term_months=3, expires_on=D("2026-01-26")), "2026-01-12", minutes=next(n))),
        ("agreement.events", env("offer.accepted", agreement.OfferAccepted(offer_id="O1", agreement_id=AGREEMENT, borrower_id="B-RM", accepted_on=D("2026-01-14")), "2026-01-14", minutes=next(n))),
        ("agreement.events", env("offer.withdrawn", agreement.OfferWithdrawn(offer_id="O2", borrower_id="B-RM", withdrawn_on=D("2026-01-14"), reason="another_offer_accepted"), "2026-01-14", minutes=next(n))),
        ("agreement.events", env("agreement.signed", agreement.AgreementSigned(agreement_id=AGREEMENT, party="borrower", signed_by="agent1", document_sha256="ab" * 32, signed_on=D("2026-01-15")), "2026-01-15", minutes=next(n))),
        ("agreement.events", env("agreement.signed", agreement.AgreementSigned(agreement_id=AGREEMENT, party="lender", signed_by="super1", document_sha256="ab" * 32, signed_on=D("2026-01-20")), "2026-01-20", minutes=next(n))),
        ("agreement.events", env("agreement.activated", agreement.AgreementActivated(agreement_id=AGREEMENT, borrower_id="B-RM", loan_ids=["L-RM-1"], option="term_extension", schedule=SCHEDULE, document_sha256="ab" * 32, activated_on=D("2026-01-20"), policy_version="p1"), "2026-01-20", minutes=next(n))),
        ("monitoring.events", env("agreement.near_breach", near_breach(1, "2026-02-05", "2026-01-29"), "2026-01-29", minutes=next(n))),
        ("monitoring.events", env("payment.applied", monitoring.PaymentApplied(agreement_id=AGREEMENT, reference="P1", amount=Decimal("1000.00"), source="corebanking", received_on=D("2026-02-05"), allocation=[monitoring.AllocationLine(instalment=1, component="principal", amount=Decimal("1000.00"))]), "2026-02-05", minutes=next(n))),
        ("monitoring.events", env("agreement.near_breach_cleared", monitoring.AgreementNearBreachCleared(agreement_id=AGREEMENT, instalment=1, due_date=D("2026-02-05"), amount_due=Decimal("1000.00"), amount_paid=Decimal("1000.00"), required_share=Decimal("0.50"), business_date=D("2026-02-05")), "2026-02-05", minutes=next(n))),
        ("monitoring.events", env("agreement.near_breach", near_breach(2, "2026-03-05", "2026-02-26"), "2026-02-26", minutes=next(n))),
        ("monitoring.events", env("instalment.missed", monitoring.InstalmentMissed(agreement_id=AGREEMENT, instalment=2, due_date=D("2026-03-05"), amount_outstanding=Decimal("1000.00"), detected_on=D("2026-03-08")), "2026-03-08", minutes=next(n))),
        ("monitoring.events", env("agreement.escalated", monitoring.AgreementEscalated(agreement_id=AGREEMENT, from_level="current", to_level="reminder", days_past_due=3, missed_instalments=1, on=D("2026-03-08")), "2026-03-08", minutes=next(n))),
        ("notifications.requested", env("notice.requested", monitoring.NoticeRequested(notice_id="N1", agreement_id=AGREEMENT, borrower_id="B-RM", level="reminder", days_past_due=3, amount_overdue=Decimal("1000.00"), on=D("2026-03-08")), "2026-03-08", minutes=next(n))),
        ("monitoring.events", env("agreement.near_breach", near_breach(3, "2026-04-05", "2026-03-29"), "2026-03-29", minutes=next(n))),
        # promises to pay: one kept, one broken (its judgement projected before its recording: order-safe)
        ("monitoring.events", env("promise.recorded", promise_recorded("PRM-1", "500.00", "2026-03-10", "2026-03-02"), "2026-03-02", minutes=next(n))),
        ("monitoring.events", env("promise.kept", monitoring.PromiseKept(promise_id="PRM-1", agreement_id=AGREEMENT, amount=Decimal("500.00"), paid=Decimal("500.00"), due_date=D("2026-03-10"), on=D("2026-03-09")), "2026-03-10", minutes=next(n))),
        ("monitoring.events", env("promise.broken", monitoring.PromiseBroken(promise_id="PRM-2", agreement_id=AGREEMENT, amount=Decimal("300.00"), paid=Decimal("299.99"), due_date=D("2026-03-20"), on=D("2026-03-20")), "2026-03-21", minutes=next(n))),
        ("monitoring.events", env("promise.recorded", promise_recorded("PRM-2", "300.00", "2026-03-20", "2026-03-12"), "2026-03-12", minutes=next(n))),
        ("monitoring.events", env("business_date.advanced", monitoring.BusinessDateAdvanced(previous=D("2026-03-30"), current=D("2026-03-31")), "2026-03-31", "lender", next(n))),
        *[e for case_id in (TO_REVIEW, READY) for e in gathering(case_id, n)],
        *appeals(n),
    ]


def appeals(n: Iterator[int]) -> list[tuple[str, bytes]]:
    def lodged(appeal_id: str, case_id: str) -> tuple[str, bytes]:
        return ("evaluation.events", env("appeal.lodged", evaluation.AppealLodged(
            appeal_id=appeal_id, decision_id=f"D-{appeal_id}", borrower_id="B-RM3", lodged_on=D("2026-03-20"),
            deadline=D("2026-04-09"), lodged_by="borrower", evidence_types=["discharge_summary"]),
            "2026-03-20", case_id, next(n)))
    lodged_upheld = lodged("APL-1", UPHELD)
    upheld = ("evaluation.events", env("appeal.decided", evaluation.AppealDecided(
        appeal_id="APL-1", decision_id="D-APL-1", borrower_id="B-RM3", outcome="upheld", decided_on=D("2026-03-25")),
        "2026-03-25", UPHELD, next(n)))
    return [upheld, lodged_upheld, lodged("APL-2", PENDING)]


def promise_recorded(promise_id: str, amount: str, due: str, made_on: str) -> monitoring.PromiseRecorded:
    return monitoring.PromiseRecorded(promise_id=promise_id, agreement_id=AGREEMENT, amount=Decimal(amount),
                                      currency="CNY", due_date=D(due), channel="phone", recorded_by="agent",
                                      made_on=D(made_on))


def near_breach(number: int, due: str, checkpoint: str) -> monitoring.AgreementNearBreach:
    # nothing paid by the checkpoint: 0.00 < 0.50 x 1,000.00
    return monitoring.AgreementNearBreach(agreement_id=AGREEMENT, instalment=number, due_date=D(due),
                                          checkpoint=D(checkpoint), amount_due=Decimal("1000.00"),
                                          amount_paid=Decimal("0.00"), required_share=Decimal("0.50"),
                                          business_date=D(checkpoint))


def gathering(case_id: str, n: Iterator[int]) -> list[tuple[str, bytes]]:
    events = [
        ("intake.events", env("case.opened", intake.CaseOpened(borrower_id="B-RM2", hardship_category="illness", channel="portal", dpd_at_first_contact=5, opened_on=D("2026-03-02"), loan_ids=["L-RM-2"]), "2026-03-02", case_id, next(n))),
        ("intake.events", env("evidence.requested", intake.EvidenceRequested(missing_document_types=["medical_certificate"], deadline=D("2026-03-16")), "2026-03-02", case_id, next(n))),
        ("intake.events", env("evidence.received", intake.EvidenceReceived(document_id=f"DOC-{case_id}", document_type="medical_certificate", sha256="cd" * 32, size_bytes=1234, received_on=D("2026-03-03")), "2026-03-03", case_id, next(n))),
    ]
    if case_id == READY:
        events.append(("intake.events", env("evidence.reviewed", intake.EvidenceReviewed(document_id=f"DOC-{case_id}", document_type="medical_certificate", outcome="accepted", reviewed_on=D("2026-03-04")), "2026-03-04", case_id, next(n))))
    return events


@pytest.fixture(scope="module")
def rm_infra(infra: TestInfra) -> Iterator[TestInfra]:
    """Topics and a database of this module alone: its made-up business dates (2026-03-31) must
    not reach the services other tests of the run start on the run's own topics, and the run's
    own console worker (the session's stack) projects every other test's events into the run's
    database."""
    database = f"{infra.database}_rm"
    with psycopg.connect(infra.admin_url, autocommit=True) as conn:
        conn.execute(f"create database {database}")
    own = dataclasses.replace(infra, topic_prefix=f"{infra.topic_prefix}rm.", group_prefix=f"{infra.group_prefix}rm-",
                              database=database, database_url=infra.database_url.rsplit("/", 1)[0] + f"/{database}")
    create_topics(own.bootstrap, own.topic_prefix)
    yield own
    drop_database(own)  # (waits out an autovacuum worker still in it, which this role cannot end)


@pytest.fixture(scope="module")
def read_model(rm_infra: TestInfra) -> Iterator[ServiceContext]:
    infra = rm_infra
    from forbear_console.entrypoints import worker

    with pytest.MonkeyPatch.context() as patch:
        for name, value in infra.service_env().items():
            patch.setenv(name, value)
        spec = worker.consumer(pool_size=3)
        ctx = spec.service.ctx
        stop = threading.Event()
        loop = build_consumer(ctx.settings, ctx.pool, spec)
        thread = threading.Thread(target=loop.run, args=(stop,), daemon=True)
        thread.start()
        try:
            yield ctx
        finally:
            stop.set()
            thread.join(30)
            ctx.pool.close()


def rows(ctx: ServiceContext, sql: str, *args: Any) -> list[dict[str, Any]]:
    with ctx.pool.connection() as conn:
        return [dict(r) for r in conn.execute(sql, args)]


def snapshot(ctx: ServiceContext) -> dict[str, list[Any]]:
    keys = {"rm_case": "case_id", "rm_timeline": "event_id", "rm_offer": "offer_id", "rm_agreement": "agreement_id",
            "rm_instalment": "agreement_id, number", "rm_allocation": "reference, instalment",
            "rm_payment": "reference", "rm_notice": "notice_id", "rm_month_end_dpd": "agreement_id, month_end",
            "rm_document": "document_id", "rm_required_document": "case_id, document_type",
            "rm_near_breach": "agreement_id, instalment", "rm_promise": "promise_id",
            "rm_appeal": "appeal_id"}
    assert set(keys) == set(TABLES)
    # as JSON: an unset order-safety timestamp is -infinity, which Python's datetime cannot hold
    return {t: rows(ctx, f"select to_jsonb(r) as row from {t} r order by {k}") for t, k in keys.items()}


def test_events_in_rows_out_duplicates_skipped_poison_dead_lettered_and_a_rebuild_is_equal(
        rm_infra: TestInfra, read_model: ServiceContext) -> None:
    infra = rm_infra
    send = producer(infra)
    events = journey()
    for topic, value in events:
        send.send(infra.topic(topic), key=b"k", value=value)
    # the same case.opened again (a redelivery) and a malformed event
    send.send(infra.topic("intake.events"), key=CASE.encode(), value=events[1][1])
    send.send(infra.topic("intake.events"), key=CASE.encode(), value=b'{"type": "case.opened", "payload": 7}')
    send.flush()

    eventually(lambda: rows(read_model, "select 1 from rm_month_end_dpd where month_end = '2026-03-31'") or None,
               timeout=90)
    eventually(lambda: rows(read_model, "select 1 from rm_case where case_id = %s and evidence_state = 'ready_to_submit'",
                            READY) or None, timeout=60)
    # the appeals come on evaluation's topic, read beside the others: both lodged, one decided
    eventually(lambda: len(rows(read_model, "select 1 from rm_appeal where lodged_on is not null")) == 2
               and rows(read_model, "select 1 from rm_appeal where status = 'upheld'") or None, timeout=60)
    case = rows(read_model, "select * from rm_case where case_id = %s", CASE)[0]
    assert (case["queue"], case["submissions"], case["first_decided_on"]) == ("at_risk", 1, D("2026-01-12"))
    timeline = rows(read_model, "select type from rm_timeline where case_id = %s order by occurred_at", CASE)
    assert [t["type"] for t in timeline].count("case.opened") == 1  # the duplicate had no effect
    assert len(timeline) == 23  # every case event (not the two business-date ones)
    offers = {o["offer_id"]: o["status"] for o in rows(read_model, "select * from rm_offer")}
    assert offers == {"O1": "accepted", "O2": "withdrawn"}
    instalments = rows(read_model, "select number, paid, settled_on, missed_on from rm_instalment order by number")
    assert [(i["number"], i["paid"], i["settled_on"], i["missed_on"]) for i in instalments] == [
        (1, Decimal("1000.00"), D("2026-02-05"), None), (2, Decimal("0.00"), None, D("2026-03-08")),
        (3, Decimal("0.00"), None, None)]
    dpd = rows(read_model, "select month_end, dpd from rm_month_end_dpd order by month_end")
    assert [(r["month_end"], r["dpd"]) for r in dpd] == [(D("2026-01-31"), 0), (D("2026-02-28"), 0),
                                                        (D("2026-03-31"), 26)]

    from forbear_console import kpis

    with read_model.pool.connection() as conn:
        k = kpis.report(conn)  # compute's KPIs, and none split: the events name one policy version
    assert k["policies"] == [] and k["policy_comparison"] == []
    assert [f["count"] for f in k["funnel"]] == [3, 1, 1, 1, 1, 1, 0]
    assert k["roll_rates"][0] == {"from": "current", "to": "1-30", "observed": 2, "rolled": 1, "rate": 0.5, "cured": 0}
    assert k["cure"] == {"delinquent": 1, "cured": 0, "still_delinquent": 1, "referred": 0, "rate": 0.0}
    assert k["time_to_first_decision"]["median_days"] == 7
    assert k["offer_acceptance_rate"] == 0.5  # O1 accepted, O2 withdrawn
    assert k["notices_by_level"] == {"reminder": 1}
    assert k["agreements_near_breach"] == 1  # instalment 3; 1 was cleared, 2 missed
    # PRM-1 kept, PRM-2 broken: 1 / (1 + 1) = 0.5
    assert k["promises"] == {"recorded": 2, "kept": 1, "broken": 1} and k["promise_kept_rate"] == 0.5
    promised = rows(read_model, "select promise_id, amount, status, paid from rm_promise order by promise_id")
    assert [(p["promise_id"], p["amount"], p["status"], p["paid"]) for p in promised] == [
        ("PRM-1", Decimal("500.00"), "kept", Decimal("500.00")), ("PRM-2", Decimal("300.00"), "broken", Decimal("299.99"))]
    # APL-1 upheld (its decision arrived first), APL-2 pending: overturned 0 / (1 upheld + 0) = 0
    assert k["appeals"] == {"lodged": 2, "pending": 1, "upheld": 1, "overturned": 0}
    assert k["appeal_overturn_rate"] == 0.0
    appealed = rows(read_model, "select appeal_id, status, lodged_on, decided_on from rm_appeal order by appeal_id")
    assert [(a["appeal_id"], a["status"], a["lodged_on"], a["decided_on"]) for a in appealed] == [
        ("APL-1", "upheld", D("2026-03-20"), D("2026-03-25")), ("APL-2", "pending", D("2026-03-20"), None)]
    queued = {r["case_id"]: r["queue"] for r in rows(read_model, "select case_id, queue from rm_case where case_id in "
                                                                 "(%s, %s)", UPHELD, PENDING)}
    assert queued == {UPHELD: "declined", PENDING: "appeal_review"}
    # the snapshot /kpis reads is that same computation, kept with the number of events it is of
    import json

    from forbear_console.readmodel import snapshot as kpi_snapshot

    with read_model.pool.connection() as conn:
        assert kpi_snapshot.refresh(conn) is not None
        assert kpi_snapshot.refresh(conn) is None  # nothing projected since: not computed again
        kept = kpi_snapshot.latest(conn)
    assert kept.pop("computed")["of_events"] >= len(events)
    assert kept == json.loads(json.dumps(k, default=str))

    from forbear_console.readmodel import queries

    with read_model.pool.connection() as conn:
        queues = {q: [i["case_id"] for i in queries.queue(conn, q, limit=10, offset=0)["items"]]
                  for q in ("awaiting-evidence", "evidence-to-review", "ready-to-submit")}
    assert queues == {"awaiting-evidence": [], "evidence-to-review": [TO_REVIEW], "ready-to-submit": [READY]}
    with read_model.pool.connection() as conn:
        to_review = queries.queue(conn, "appeals-to-review", limit=10, offset=0)
        appeal_page = queries.timeline(conn, PENDING)
    assert to_review["total"] == 1
    assert [(i["case_id"], i["appeal_id"], i["deadline"]) for i in to_review["items"]] == [
        (PENDING, "APL-2", D("2026-04-09"))]
    assert appeal_page is not None
    assert [e["summary"] for e in appeal_page["events"]] == [
        "appeal APL-2 of decision D-APL-2 lodged by borrower (window until 2026-04-09), new evidence: Discharge summary"]

    warnings = rows(read_model, "select instalment, flagged_on, cleared_on from rm_near_breach order by instalment")
    assert [(w["instalment"], w["flagged_on"], w["cleared_on"]) for w in warnings] == [
        (1, D("2026-01-29"), D("2026-02-05")), (2, D("2026-02-26"), None), (3, D("2026-03-29"), None)]
    with read_model.pool.connection() as conn:
        near = queries.queue(conn, "near-breach", limit=10, offset=0)
        case_page = queries.timeline(conn, CASE)
    assert near["total"] == 1
    assert [(i["case_id"], i["instalment"], i["checkpoint"], i["amount_paid"]) for i in near["items"]] == [
        (CASE, 3, D("2026-03-29"), Decimal("0.00"))]
    assert case_page is not None
    assert [w["instalment"] for w in case_page["near_breach"]] == [3]
    assert [i["state"] for i in case_page["agreements"][0]["instalments"]] == ["paid", "missed", "near_breach"]
    [line] = [e["summary"] for e in case_page["events"] if e["type"] == "agreement.near_breach"
              and "instalment 3" in e["summary"]]
    assert line == "near breach: instalment 3 due 2026-04-05, 0.00 of 1,000.00 paid by 2026-03-29 (at least 50 % needed)"

    dead = read_topic(infra, "console.dlq", min_count=1, timeout=30)
    assert any(m.value.startswith(b'{"type": "case.opened", "payload": 7}') for m in dead)

    before = snapshot(read_model)
    done = rebuild(read_model.settings, read_model.pool, group=f"{infra.group_prefix}console-rebuild")
    assert done.records >= len(events) + 2
    assert snapshot(read_model) == before

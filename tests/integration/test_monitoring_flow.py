"""Monitoring end to end against the real broker, database and service processes.

Agreements arrive as ``agreement.activated`` events, payments as ``payment.received`` from
core banking; the business date moves only through ``POST /business-date/advance``. The
numbers come from the demo policy: grace 3 days, reminder at DPD 1, warning at DPD 7,
breach notice at DPD 15 with 14 days to remedy, referral when the remedy period has passed
or 3 missed instalments are unpaid; penalty interest = 12 % x 1.5 = 18 %/year, ACT/360, on
overdue principal from the due date.

Every test builds the same plan (``three_month_schedule``): 3,000.00 at 12 %, equal
principal, instalments 1,030.00 / 1,020.00 / 1,010.00, the first due 10 days after the
current business date (the session's business date only ever moves forward).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from forbear_shared.domain.money import Money
from forbear_shared.domain.schedule import equal_principal_schedule
from forbear_shared.events.schemas.common import LoanSnapshot, Reason
from forbear_shared.events.schemas.evaluation import CaseDecided
from forbear_shared.events.schemas.intake import CaseSubmitted, ContactRecorded, EvidenceItem, RenegotiationRequested

from tests.integration.test_monitoring_support import (
    activate,
    advance,
    advance_to,
    agreement,
    business_date,
    events,
    pay,
    send,
    three_month_schedule,
    uid,
    wait_payment,
)
from tests.support.calendar import grace_cutoff, missed_on, plain_first_due
from tests.support.http import client
from tests.support.infra import eventually

pytestmark = pytest.mark.integration

DAY = dt.timedelta(days=1)


def levels(notices: list[dict]) -> list[str]:
    return [n["payload"]["level"] for n in notices]


@pytest.mark.session_start
def test_close_of_business_across_spring_festival_2026_marks_the_instalment_missed_once_on_the_right_day(
        stack, infra) -> None:
    """Runs first in the session (``session_start``): it needs the business date before 春节 2026,
    as a new installation has it (5 Jan 2026).

    Due Fri 13 Feb 2026; grace 3 working days. By the State Council's notice Sat 14 Feb is a
    make-up working day (1), 15-23 Feb are closed, Tue 24 Feb (2), Wed 25 Feb (3): on time
    through 25 Feb, missed on Thu 26 Feb (3 calendar days of grace would have said 17 Feb)."""
    today = business_date()
    assert today <= dt.date(2026, 2, 10), f"the session's business date {today} is already past the start of 春节 2026"
    schedule = three_month_schedule(dt.date(2026, 2, 13))
    ids = activate(infra, schedule=schedule, on=today)
    eventually(lambda: agreement(ids["agreement_id"]))

    def missed_rows() -> list[tuple[int, dt.date]]:
        with infra.connect("monitoring") as conn:
            rows = conn.execute("select number, detected_on from missed_instalments where agreement_id = %s "
                                "order by number", (ids["agreement_id"],)).fetchall()
        return [(r["number"], r["detected_on"]) for r in rows]

    advance(dt.date(2026, 2, 25))  # one catch-up over the whole holiday week
    assert missed_rows() == []
    advance(dt.date(2026, 2, 26))
    assert missed_rows() == [(1, dt.date(2026, 2, 26))]
    advance(dt.date(2026, 3, 2))  # later sweeps do not detect it again
    assert missed_rows() == [(1, dt.date(2026, 2, 26))]
    missed = events(infra, "monitoring.events", ids["agreement_id"], "instalment.missed", min_count=1)
    assert [(m["payload"]["instalment"], m["payload"]["detected_on"]) for m in missed] == [(1, "2026-02-26")]


def test_paying_every_instalment_completes_the_agreement_and_publishes_a_credit_update(stack, infra) -> None:
    today = business_date()
    schedule = three_month_schedule(today + 10 * DAY)
    ids = activate(infra, schedule=schedule, on=today)
    for instalment in schedule.instalments:
        # each instalment paid on its due date: on time, no penalty
        advance_to(instalment.due_date)
        reference = pay(infra, ids["loan_id"], instalment.total.to_str(), instalment.due_date)
        wait_payment(ids["agreement_id"], reference)
    view = eventually(lambda: (lambda v: v if v["status"] == "completed" else None)(agreement(ids["agreement_id"])))
    assert [i["status"] for i in view["schedule"]] == ["paid", "paid", "paid"]
    assert view["level"] == "completed"
    completed = events(infra, "monitoring.events", ids["agreement_id"], "agreement.completed", min_count=1)
    assert len(completed) == 1
    credit = events(infra, "credit.updates", ids["agreement_id"], min_count=1)
    assert [c["payload"]["standing"] for c in credit] == ["plan_completed"]
    assert credit[0]["payload"]["borrower_id"] == ids["borrower_id"]
    applied = events(infra, "monitoring.events", ids["agreement_id"], "payment.applied", min_count=3)
    # fees -> penalty -> interest -> principal: instalment 1 = 30.00 interest then 1,000.00 principal
    assert [(a["instalment"], a["component"], a["amount"]) for a in applied[0]["payload"]["allocation"]] == [
        (1, "interest", "30.00"), (1, "principal", "1000.00")]
    # no notice was ever needed
    assert events(infra, "notifications.requested", ids["agreement_id"]) == []


def test_one_missed_instalment_is_reminded_and_warned_then_cured_by_a_full_payment(stack, infra) -> None:
    today = business_date()
    schedule = three_month_schedule(plain_first_due(today + 10 * DAY))
    due = schedule.instalments[0].due_date
    ids = activate(infra, schedule=schedule, on=today)

    advance_to(due + 3 * DAY)  # the last day of grace: nothing yet
    assert agreement(ids["agreement_id"])["level"] == "current"
    advance(due + 4 * DAY)  # DPD 1: missed, reminder
    view = agreement(ids["agreement_id"])
    assert view["level"] == "reminder" and view["days_past_due"] == 1
    assert view["schedule"][0]["status"] == "missed"
    advance(due + 10 * DAY)  # DPD 7: warning
    assert agreement(ids["agreement_id"])["level"] == "warning"
    notices = events(infra, "notifications.requested", ids["agreement_id"], min_count=2)
    assert levels(notices) == ["reminder", "warning"]
    assert [n["payload"]["days_past_due"] for n in notices] == [1, 7]

    # paid 10 days after the due date: 1,030.00 + penalty 1,000.00 x 18 % / 360 x 10 = 5.00
    reference = pay(infra, ids["loan_id"], "1035.00", due + 10 * DAY)
    wait_payment(ids["agreement_id"], reference)
    cured = events(infra, "monitoring.events", ids["agreement_id"], "agreement.cured", min_count=1)
    assert cured[0]["payload"]["from_level"] == "warning"
    view = agreement(ids["agreement_id"])
    assert view["level"] == "current" and view["days_past_due"] == 0
    assert view["arrears"]["total"] == "0.00"
    assert view["schedule"][0]["status"] == "paid_late"
    assert [(a["component"], a["amount"]) for a in view["payments"][0]["allocation"]] == [
        ("penalty", "5.00"), ("interest", "30.00"), ("principal", "1000.00")]
    missed = events(infra, "monitoring.events", ids["agreement_id"], "instalment.missed")
    assert [m["payload"]["instalment"] for m in missed] == [1]


def test_an_unremedied_breach_is_referred_to_legal_after_the_remedy_period_with_a_complete_dossier(stack, infra) -> None:
    today = business_date()
    schedule = three_month_schedule(plain_first_due(today + 10 * DAY))
    due = schedule.instalments[0].due_date
    ids = activate(infra, schedule=schedule, on=today)
    # the dossier's communications and evidence come from intake's events on the same case
    send(infra, "intake.events", "contact.recorded",
         ContactRecorded(contact_id=uid("C"), party="borrower", channel="phone", direction="outbound",
                         outcome="allowed", local_time="10:00", on=today), ids["case_id"], today)
    loan = LoanSnapshot(loan_id=ids["loan_id"], borrower_id=ids["borrower_id"], original_principal=Decimal("3000.00"),
                        outstanding_principal=Decimal("3000.00"), annual_rate=Decimal("0.12"),
                        original_term_months=3, remaining_term_months=3, contractual_instalment=Decimal("1030.00"),
                        as_of=today)
    send(infra, "intake.events", "case.submitted",
         CaseSubmitted(borrower_id=ids["borrower_id"], submission=1, hardship_category="unemployment",
                       channel="phone", dpd_at_first_contact=5, opened_on=today, loans=[loan], statement=None,
                       evidence=[EvidenceItem(document_id="DOC-1", document_type="termination_letter",
                                              status="accepted", sha256="cd" * 32)]),
         ids["case_id"], today)

    advance_to(due + 18 * DAY)  # DPD 15: breach notice, remedy until due + 18 + 14 = due + 32
    view = agreement(ids["agreement_id"])
    assert view["level"] == "breach_notice"
    assert view["remedy_deadline"] == (due + 32 * DAY).isoformat()
    # a partial payment does not remedy: 500.00 against 1,030.00 + penalty
    partial = pay(infra, ids["loan_id"], "500.00", due + 20 * DAY)
    wait_payment(ids["agreement_id"], partial)

    advance(due + 32 * DAY)  # the last day to remedy: still not referred
    assert agreement(ids["agreement_id"])["status"] == "active"
    advance(due + 33 * DAY)  # remedy period over: referral
    view = agreement(ids["agreement_id"])
    assert view["status"] == "referred" and view["level"] == "legal_referral"

    notices = events(infra, "notifications.requested", ids["agreement_id"], min_count=3)
    assert levels(notices) == ["reminder", "warning", "breach_notice"]
    assert notices[2]["payload"]["remedy_deadline"] == (due + 32 * DAY).isoformat()
    [referral] = events(infra, "legal.referrals", ids["agreement_id"], min_count=1)
    body = referral["payload"]
    # 3,000.00 + interest still owed, far below the 50,000.00 mediation limit, no broken agreement before
    assert body["route"] == "pre_litigation_mediation"
    assert [r["code"] for r in body["reasons"]][0] == "remedy_period_expired"
    dossier = body["dossier"]
    cutoff_of = {i.number: grace_cutoff(i.due_date) for i in schedule.instalments}
    expected_missed = [n for n, cutoff in cutoff_of.items() if cutoff < due + 33 * DAY]
    assert dossier["missed_instalments"] == expected_missed
    assert dossier["document_sha256"] == "ab" * 32
    assert len(dossier["schedule"]["instalments"]) == 3
    assert [(p["reference"], p["amount"]) for p in dossier["payments"]] == [(partial, "500.00")]
    assert [n["level"] for n in dossier["notices"]] == ["reminder", "warning", "breach_notice"]
    assert len(dossier["communications"]) == 1 and dossier["communications"][0]["channel"] == "phone"
    assert dossier["evidence"] == [{"document_id": "DOC-1", "document_type": "termination_letter",
                                    "status": "accepted", "sha256": "cd" * 32}]
    assert Decimal(dossier["outstanding_balance"]) > Decimal(dossier["amount_overdue"]) > 0
    referred = events(infra, "monitoring.events", ids["agreement_id"], "agreement.referred", min_count=1)
    assert referred[0]["payload"]["route"] == "pre_litigation_mediation"
    assert [c["payload"]["standing"] for c in events(infra, "credit.updates", ids["agreement_id"], min_count=1)] == [
        "plan_breached"]
    with client("monitoring", role="supervisor") as api:
        listed = api.get("/referrals").json()
        assert ids["agreement_id"] in [r["agreement_id"] for r in listed]
        full = api.get(f"/referrals/{body['referral_id']}").json()
        assert full["dossier"]["missed_instalments"] == expected_missed


def test_three_missed_instalments_refer_at_once_passing_through_every_notice(stack, infra) -> None:
    # an agreement taken over with its three instalments already past grace (due 40, 70 and 100
    # days ago): the first close of business finds 3 unpaid missed instalments -> reminder,
    # warning, breach notice, then referral by count without waiting for a remedy period
    today = business_date()
    schedule = equal_principal_schedule(Money.of("3000.00"), Decimal("0.12"), 3, today - 100 * DAY)
    ids = activate(infra, schedule=schedule, on=today)
    advance(today + DAY)
    view = agreement(ids["agreement_id"])
    assert view["status"] == "referred"
    missed = events(infra, "monitoring.events", ids["agreement_id"], "instalment.missed", min_count=3)
    assert sorted(m["payload"]["instalment"] for m in missed) == [1, 2, 3]
    assert levels(events(infra, "notifications.requested", ids["agreement_id"], min_count=3)) == [
        "reminder", "warning", "breach_notice"]
    [referral] = events(infra, "legal.referrals", ids["agreement_id"], min_count=1)
    assert referral["payload"]["reasons"][0]["code"] == "missed_instalments"
    assert referral["payload"]["dossier"]["missed_instalments"] == [1, 2, 3]


def test_a_renegotiation_request_in_the_remedy_period_blocks_referral_until_it_is_declined(stack, infra) -> None:
    today = business_date()
    schedule = three_month_schedule(plain_first_due(today + 10 * DAY))
    due = schedule.instalments[0].due_date
    ids = activate(infra, schedule=schedule, on=today)
    advance_to(due + 18 * DAY)  # breach notice; remedy until due + 32
    renegotiation_case = uid("CASE")
    send(infra, "intake.events", "renegotiation.requested",
         RenegotiationRequested(agreement_id=ids["agreement_id"], borrower_id=ids["borrower_id"],
                                requested_on=due + 18 * DAY), renegotiation_case, due + 18 * DAY)
    eventually(lambda: agreement(ids["agreement_id"])["pending_renegotiations"])

    advance(due + 40 * DAY)  # remedy over on due + 33, and more days pass: held, not referred
    view = agreement(ids["agreement_id"])
    assert view["status"] == "active" and view["level"] == "breach_notice"
    assert view["referral_blocked_since"] == (due + 33 * DAY).isoformat()
    blocked = events(infra, "monitoring.events", ids["agreement_id"], "referral.blocked", min_count=1)
    assert len(blocked) == 1  # once per blocking episode, not once per day
    assert blocked[0]["payload"]["reasons"][0]["code"] == "pending_renegotiation_request"
    assert events(infra, "legal.referrals", ids["agreement_id"]) == []

    send(infra, "evaluation.events", "case.decided",
         CaseDecided(decision_id=uid("D"), borrower_id=ids["borrower_id"], outcome="decline",
                     reasons=[Reason(code="capacity_to_pay")], policy_version="demo-lender-2026.1",
                     decided_on=due + 40 * DAY, renegotiates_agreement_id=ids["agreement_id"]),
         renegotiation_case, due + 40 * DAY)
    eventually(lambda: not agreement(ids["agreement_id"])["pending_renegotiations"])
    advance(due + 41 * DAY)  # the guard has cleared and the remedy period is still over: referral
    assert agreement(ids["agreement_id"])["status"] == "referred"
    [referral] = events(infra, "legal.referrals", ids["agreement_id"], min_count=1)
    assert referral["payload"]["referred_on"] == (due + 41 * DAY).isoformat()


def test_a_repeated_payment_reference_is_one_payment(stack, infra) -> None:
    today = business_date()
    schedule = three_month_schedule(today + 10 * DAY)
    ids = activate(infra, schedule=schedule, on=today)
    reference = uid("PAY")
    for _ in range(3):  # core banking redelivers the same payment (three events, one reference)
        pay(infra, ids["loan_id"], "1030.00", today, reference=reference)
    wait_payment(ids["agreement_id"], reference)
    # a later payment shows the earlier copies were consumed (one partition per loan keeps order)
    marker = pay(infra, ids["loan_id"], "10.00", today)
    view = wait_payment(ids["agreement_id"], marker)
    assert [p["reference"] for p in view["payments"]] == [reference, marker]
    assert view["schedule"][0]["status"] == "paid"
    assert view["schedule"][1]["paid"] == "10.00"
    applied = events(infra, "monitoring.events", ids["agreement_id"], "payment.applied", min_count=2)
    assert [a["payload"]["reference"] for a in applied] == [reference, marker]


def test_a_payment_entered_by_an_agent_between_core_banking_payments_is_seen_by_the_next_allocation(
        stack, infra) -> None:
    # the worker keeps ledgers in memory between batches; a payment applied by the API process
    # moves the ledger generation, so the worker reads the ledger again before the next one
    today = business_date()
    ids = activate(infra, schedule=three_month_schedule(today + 10 * DAY), on=today)
    first = pay(infra, ids["loan_id"], "500.00", today)  # instalment 1: interest 30.00, principal 470.00
    wait_payment(ids["agreement_id"], first)
    with client("monitoring", role="agent", subject="agent-7") as api:
        slip = api.post(f"/agreements/{ids['agreement_id']}/payments",
                        json={"reference": uid("SLIP"), "amount": "530.00"})  # the last 530.00 of instalment 1
    assert slip.status_code == 201, slip.text
    assert [(a["instalment"], a["component"], a["amount"]) for a in slip.json()["allocation"]] == [
        (1, "principal", "530.00")]
    last = pay(infra, ids["loan_id"], "100.00", today)
    view = wait_payment(ids["agreement_id"], last)
    applied = events(infra, "monitoring.events", ids["agreement_id"], "payment.applied", min_count=3)
    by_reference = {a["payload"]["reference"]: a["payload"]["allocation"] for a in applied}
    # instalment 2 is 1,000.00 principal + 20.00 interest: interest first
    assert [(a["instalment"], a["component"], a["amount"]) for a in by_reference[last]] == [
        (2, "interest", "20.00"), (2, "principal", "80.00")]
    assert view["schedule"][0]["status"] == "paid"
    assert view["schedule"][1]["paid"] == "100.00"


def test_monitoring_down_for_several_business_days_detects_each_missed_instalment_exactly_once(stack, infra) -> None:
    today = business_date()
    schedule = three_month_schedule(today + 10 * DAY)
    ids = activate(infra, schedule=schedule, on=today)
    last_due = schedule.instalments[-1].due_date
    # a pending renegotiation holds referral, so the agreement stays monitored while all three
    # instalments fall due and are missed
    send(infra, "intake.events", "renegotiation.requested",
         RenegotiationRequested(agreement_id=ids["agreement_id"], borrower_id=ids["borrower_id"], requested_on=today),
         uid("CASE"), today)
    eventually(lambda: agreement(ids["agreement_id"])["pending_renegotiations"])
    stack.kill("monitoring-worker")  # its relay and consumers are gone; COB still runs in the API
    try:
        # business days pass in uneven steps, then one long catch-up over many skipped days
        advance(today + 20 * DAY)
        advance(today + 21 * DAY)
        advance(last_due + 10 * DAY)
    finally:
        stack.start("monitoring-worker")
        stack.wait_ready(["monitoring-worker"])
    with infra.connect("monitoring") as conn:
        rows = conn.execute(
            "select number, detected_on from missed_instalments where agreement_id = %s order by number",
            (ids["agreement_id"],),
        ).fetchall()
    # each instalment detected on the day after its grace ended: the due date moved to a working
    # day, then 3 working days (working days by the State Council's table, read here straight
    # from chinese-calendar, not through Forbear's calendar)
    assert [(r["number"], r["detected_on"]) for r in rows] == [
        (i.number, grace_cutoff(i.due_date) + DAY) for i in schedule.instalments]
    missed = events(infra, "monitoring.events", ids["agreement_id"], "instalment.missed", min_count=3)
    assert sorted(m["payload"]["instalment"] for m in missed) == [1, 2, 3]
    assert len(missed) == 3
    assert agreement(ids["agreement_id"])["status"] == "active"
    assert len(events(infra, "monitoring.events", ids["agreement_id"], "referral.blocked", min_count=1)) == 1
    # and the business date announcements covered every day, one event per day swept
    advance(last_due + 11 * DAY)
    assert len(events(infra, "monitoring.events", ids["agreement_id"], "instalment.missed")) == 3


def test_an_instalment_short_of_half_at_its_checkpoint_is_near_breach_once_before_it_is_missed(stack, infra) -> None:
    # instalment 1 = 1,030.00 due 10 days from now; checkpoint 7 days before = today + 3;
    # 0.50 x 1,030.00 = 515.00 must be paid by then: 300.00 is not enough -> near breach
    today = business_date()
    schedule = three_month_schedule(today + 10 * DAY)
    due = schedule.instalments[0].due_date
    checkpoint = due - 7 * DAY
    ids = activate(infra, schedule=schedule, on=today)
    wait_payment(ids["agreement_id"], pay(infra, ids["loan_id"], "300.00", today))

    advance(checkpoint + 2 * DAY)  # a catch-up over the checkpoint: flagged on the checkpoint, once
    view = agreement(ids["agreement_id"])
    assert view["level"] == "current" and view["days_past_due"] == 0
    assert view["near_breach"] == [{"instalment": 1, "due_date": due.isoformat(), "checkpoint": checkpoint.isoformat(),
                                    "amount_due": "1030.00", "amount_paid": "300.00", "required_share": "0.50",
                                    "since": checkpoint.isoformat()}]
    assert view["schedule"][0]["early_warning"] == "near_breach"

    # grace ends 3 working days after the payable day; the close of the day after finds it missed
    # and the near breach is superseded
    advance(missed_on(due) + DAY)
    advance(missed_on(due) + 2 * DAY)
    [warning] = events(infra, "monitoring.events", ids["agreement_id"], "agreement.near_breach", min_count=1)
    assert warning["payload"] == {
        "agreement_id": ids["agreement_id"], "instalment": 1, "due_date": due.isoformat(),
        "checkpoint": checkpoint.isoformat(), "amount_due": "1030.00", "amount_paid": "300.00",
        "required_share": "0.50", "business_date": checkpoint.isoformat()}
    assert warning["business_date"] == checkpoint.isoformat() and warning["case_id"] == ids["case_id"]
    # one near breach, announced before the missed instalment on the agreement's (case-keyed) partition
    flow = [e["type"] for e in events(infra, "monitoring.events", ids["agreement_id"], min_count=3)
            if e["type"] in ("agreement.near_breach", "agreement.near_breach_cleared", "instalment.missed")]
    assert flow == ["agreement.near_breach", "instalment.missed"]
    with infra.connect("monitoring") as conn:
        [row] = conn.execute("select number, flagged_on, state, resolved_on from near_breaches where agreement_id = %s",
                             (ids["agreement_id"],)).fetchall()
    assert (row["number"], row["flagged_on"], row["state"], row["resolved_on"]) == (
        1, checkpoint, "superseded", missed_on(due))
    view = agreement(ids["agreement_id"])
    assert view["near_breach"] == [] and view["schedule"][0]["early_warning"] == "superseded"


def test_paying_up_to_half_clears_a_near_breach(stack, infra) -> None:
    # nothing paid by the checkpoint (0.00 < 515.00): near breach; 515.00 paid two days later clears it
    # at that day's close of business
    today = business_date()
    schedule = three_month_schedule(today + 10 * DAY)
    due = schedule.instalments[0].due_date
    ids = activate(infra, schedule=schedule, on=today)
    advance(due - 7 * DAY)
    assert [w["instalment"] for w in agreement(ids["agreement_id"])["near_breach"]] == [1]
    advance(due - 5 * DAY)
    wait_payment(ids["agreement_id"], pay(infra, ids["loan_id"], "515.00", due - 5 * DAY))
    advance(due - 4 * DAY)  # the close of business after the payment clears it
    [cleared] = events(infra, "monitoring.events", ids["agreement_id"], "agreement.near_breach_cleared", min_count=1)
    assert (cleared["payload"]["amount_paid"], cleared["payload"]["business_date"]) == (
        "515.00", (due - 4 * DAY).isoformat())
    assert agreement(ids["agreement_id"])["near_breach"] == []
    assert len(events(infra, "monitoring.events", ids["agreement_id"], "agreement.near_breach")) == 1


def test_manual_payment_entry_with_idempotency_and_a_closed_agreement(stack, infra) -> None:
    today = business_date()
    schedule = three_month_schedule(today + 10 * DAY)
    ids = activate(infra, schedule=schedule, on=today)
    path = f"/agreements/{ids['agreement_id']}/payments"
    body = {"reference": uid("SLIP"), "amount": "1030.00"}
    with client("monitoring", role="agent", subject="agent-7") as api:
        first = api.post(path, json=body, headers={"Idempotency-Key": "k-" + body["reference"]})
        assert first.status_code == 201, first.text
        assert first.json()["status"] == "applied"
        assert [(a["instalment"], a["component"], a["amount"]) for a in first.json()["allocation"]] == [
            (1, "interest", "30.00"), (1, "principal", "1000.00")]
        again = api.post(path, json=body, headers={"Idempotency-Key": "k-" + body["reference"]})
        assert again.status_code == 201 and again.json() == first.json()
        reused = api.post(path, json={**body, "amount": "5.00"}, headers={"Idempotency-Key": "k-" + body["reference"]})
        assert reused.status_code == 409 and reused.json()["reason"] == "idempotency_key_reused"
        same_reference = api.post(path, json=body)  # no key: the reference itself makes it the same payment
        assert same_reference.status_code == 200 and same_reference.json()["replayed"] is True
        clash = api.post(path, json={**body, "amount": "7.00"})
        assert clash.status_code == 409 and clash.json()["reason"] == "payment_reference_conflict"
        rest = api.post(path, json={"reference": uid("SLIP"), "amount": "2030.00"})  # 1,020.00 + 1,010.00
        assert rest.status_code == 201
        assert agreement(ids["agreement_id"])["status"] == "completed"
        closed = api.post(path, json={"reference": uid("SLIP"), "amount": "1.00"})
        assert closed.status_code == 409 and closed.json()["reason"] == "agreement_closed"
        assert api.post("/agreements/AGR-unknown/payments", json=body).status_code == 404
        bad = api.post(path, json={"reference": "x", "amount": "-1.00"})
        assert bad.status_code == 422


def test_roles_and_ownership(stack, infra) -> None:
    today = business_date()
    ids = activate(infra, schedule=three_month_schedule(today + 10 * DAY), on=today)
    path = f"/agreements/{ids['agreement_id']}"
    with client("monitoring", role="borrower", borrower_id=ids["borrower_id"]) as own:
        assert own.get(path).status_code == 200
        assert own.get("/agreements").status_code == 403
        assert own.post(path + "/payments", json={"reference": "r", "amount": "1.00"}).status_code == 403
        assert own.get("/referrals").status_code == 403
        assert own.post("/business-date/advance", json={}).status_code == 403
        assert own.get("/business-date").status_code == 200
    with client("monitoring", role="borrower", borrower_id=uid("B")) as other:
        response = other.get(path)
        assert response.status_code == 404  # someone else's agreement does not exist for them
    with client("monitoring", role="agent") as agent:
        assert agent.get("/agreements", params={"level": "current"}).status_code == 200
        assert agent.post("/business-date/advance", json={}).status_code == 403
        assert agent.get("/agreements/AGR-missing").status_code == 404
        assert agent.get("/payments/unmatched").status_code == 200
    with client("monitoring", role="system") as system:
        assert system.get(path).status_code == 403
        assert system.get("/referrals").status_code == 403
    with client("monitoring", role="supervisor") as supervisor:
        at_risk = supervisor.get("/agreements", params={"level": "current", "status": "active"}).json()
        assert ids["agreement_id"] in [a["agreement_id"] for a in at_risk["items"]]
    import httpx

    from tests.support.http import api_url

    assert httpx.get(api_url("monitoring") + path).status_code == 401


def test_a_manual_payment_is_dated_within_the_backdating_window_and_a_backdated_entry_is_recorded(
        stack, infra) -> None:
    """Policy payments.max_backdated_days = 10: a slip may say it was received up to 10 days
    before the business date, never before the agreement's activation, never after the date."""
    today = business_date()
    schedule = three_month_schedule(today + 20 * DAY)
    ids = activate(infra, schedule=schedule, on=today)
    entry_day = today + 12 * DAY  # before the first due date (+20): nothing is overdue yet
    advance(entry_day)
    path = f"/agreements/{ids['agreement_id']}/payments"

    def slip(received_on: dt.date | str, amount: str = "1030.00", **extra: object):
        body = {"reference": uid("SLIP"), "amount": amount,
                "received_on": received_on if isinstance(received_on, str) else received_on.isoformat(), **extra}
        with client("monitoring", role="agent", subject="agent-7") as api:
            return api.post(path, json=body)

    in_1900 = slip("1900-01-02")
    # refused against the agreement and the business date: valid in form, so 409 with the reason
    assert in_1900.status_code == 409 and in_1900.json()["reason"] == "received_on_before_agreement"
    before_activation = slip(today - DAY)
    assert before_activation.status_code == 409
    assert before_activation.json()["reason"] == "received_on_before_agreement"
    too_far = slip(entry_day - 11 * DAY)  # after the activation, but 11 days back
    assert too_far.status_code == 409 and too_far.json()["reason"] == "received_on_backdated_too_far"
    tomorrow = slip(entry_day + DAY)
    assert tomorrow.status_code == 409 and tomorrow.json()["reason"] == "received_on_after_business_date"
    huge = slip(entry_day, amount="1E+17")
    assert huge.status_code == 422 and "amount" in json.dumps(huge.json()["detail"])
    unknown_field = slip(entry_day, note="paid in cash")
    assert unknown_field.status_code == 422 and "note" in json.dumps(unknown_field.json()["detail"])
    assert agreement(ids["agreement_id"])["payments"] == []  # nothing refused was recorded

    backdated_to = entry_day - 10 * DAY
    accepted = slip(backdated_to)
    assert accepted.status_code == 201, accepted.text
    recorded = accepted.json()
    days_back = 10
    assert recorded["backdated_days"] == days_back
    assert recorded["entered_by"] == "agent-7" and recorded["entered_on"] == entry_day.isoformat()
    with client("monitoring", role="supervisor") as api:
        staff_view = api.get(f"/agreements/{ids['agreement_id']}").json()
    assert [(p["received_on"], p["backdated_days"], p["entered_by"]) for p in staff_view["payments"]] == [
        (backdated_to.isoformat(), days_back, "agent-7")]
    with client("monitoring", role="borrower", borrower_id=ids["borrower_id"]) as own:
        borrower_view = own.get(f"/agreements/{ids['agreement_id']}").json()
    assert borrower_view["payments"][0]["backdated_days"] == days_back
    assert "entered_by" not in borrower_view["payments"][0]

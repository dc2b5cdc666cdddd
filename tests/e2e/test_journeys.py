"""Forbear end to end: the four services as real processes over the real broker and database.

Every scenario goes through the HTTP APIs (and core banking's ``payment.received`` events) and
watches the real topics. The whole session shares one business date that only moves forward:
each scenario starts from whatever date it finds and computes its dates from the agreement's
own schedule. The numbers come from the demo lender's policy (grace 3 working days; reminder at DPD 1,
warning at DPD 7, breach notice at DPD 15 with 14 days to remedy; referral when the remedy
period has passed or 3 instalments are missed; offers valid 14 days; evidence due in 14 days).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from tests.e2e.journey import (
    DAY,
    ESC,
    POLICY,
    UNEMPLOYED_STATEMENT,
    advance,
    advance_to,
    affordable,
    complete_unemployment_evidence,
    corebanking_payment,
    d,
    decisions,
    disposable,
    intake_case,
    loan_snapshot,
    manual_payment,
    monitored,
    open_case,
    penalty,
    put_statement,
    review,
    services_agree_on_the_date,
    submit,
    to_active_agreement,
    topic_events,
    uid,
    upload,
    wait_case_status,
    wait_monitored,
    wait_payment,
)
from tests.support.calendar import dpd_date, grace_cutoff, missed_on

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


# -- 1 --------------------------------------------------------------------------------------------


def test_an_unemployed_borrower_with_complete_evidence_pays_a_term_extension_to_completion(stack, infra) -> None:
    journey = to_active_agreement()
    offer = journey.offer
    loan = journey.loan

    # the plan: a longer term than the 2 months left, at an instalment the borrower can afford
    assert offer["option"] == "term_extension"
    assert offer["term_months"] > loan["remaining_term_months"]
    assert Decimal(offer["new_instalment"]) <= affordable(UNEMPLOYED_STATEMENT) < Decimal(loan["contractual_instalment"])
    instalments = journey.instalments
    assert len(instalments) == offer["term_months"]
    assert sum(Decimal(i["principal"]) for i in instalments) == Decimal(offer["schedule"]["principal"])
    # the offer is valid for the policy's 14 days
    assert d(offer["expires_on"]) == journey.opened_on + POLICY.offers.validity_days * DAY

    # the agreement's events: both signatures, then activation with the schedule offered
    signed = topic_events(infra, "agreement.events", type_="agreement.signed", case_id=journey.case_id, min_count=2)
    assert [e["payload"]["party"] for e in signed] == ["borrower", "lender"]
    [activated] = topic_events(infra, "agreement.events", type_="agreement.activated", case_id=journey.case_id,
                               min_count=1)
    assert activated["payload"]["schedule"] == offer["schedule"]
    assert activated["payload"]["loan_ids"] == [journey.loan_id]
    wait_case_status(journey.case_id, "agreement_active")

    # the borrower pays every instalment on its due date: core banking and the branch take turns
    for instalment in instalments:
        due = d(instalment["due_date"])
        advance_to(due)
        if instalment["number"] % 2:
            reference = corebanking_payment(infra, journey.loan_id, instalment["total"], due)
            wait_payment(journey.agreement_id, reference)
        else:
            slip = manual_payment(journey.agreement_id, instalment["total"], due)
            assert slip["status"] == "applied" and slip["unallocated"] in (None, "0.00")
        view = monitored(journey.agreement_id)
        assert view is not None and view["level"] in ("current", "completed")

    view = wait_monitored(journey.agreement_id, lambda v: v["status"] == "completed")
    assert view["level"] == "completed"
    assert all(i["status"] == "paid" for i in view["schedule"])
    assert sum(Decimal(p["amount"]) for p in view["payments"]) == sum(Decimal(i["total"]) for i in instalments)

    completed = topic_events(infra, "monitoring.events", type_="agreement.completed",
                             agreement_id=journey.agreement_id, min_count=1)
    assert len(completed) == 1
    credit = topic_events(infra, "credit.updates", agreement_id=journey.agreement_id, min_count=1)
    assert [c["type"] for c in credit] == ["credit.standing_updated"]
    assert credit[0]["payload"]["standing"] == "plan_completed"
    assert credit[0]["payload"]["borrower_id"] == journey.borrower_id
    # paid on time: no notice was ever needed, nothing was missed
    assert topic_events(infra, "notifications.requested", agreement_id=journey.agreement_id) == []
    assert topic_events(infra, "monitoring.events", type_="instalment.missed", agreement_id=journey.agreement_id) == []
    wait_case_status(journey.case_id, "completed")


# -- 2 --------------------------------------------------------------------------------------------


def test_a_borrower_who_can_pay_and_twice_went_silent_is_declined_as_wilful_with_both_reasons(stack, infra) -> None:
    today = services_agree_on_the_date()
    borrower_id = uid("BRW")
    loan = loan_snapshot(borrower_id, today)
    # lender's records: two earlier overdue episodes without contact in the last 24 months
    history = {"no_contact_delinquencies_24m": POLICY.evaluation.wilful_default.no_contact_delinquencies_threshold,
               "broken_agreements_12m": 0, "declaration_untrue": False}
    case = open_case(borrower_id, [loan], history=history)
    # salary 6,000.00 - essentials 2,500.00 = 3,500.00 disposable, above the 1,015.00 instalment
    statement = {"income": [{"category": "salary", "monthly_amount": "6000.00"}],
                 "essential_expenditure": [{"category": "rent", "monthly_amount": "2500.00"}]}
    assert disposable(statement) >= Decimal(loan["contractual_instalment"])
    put_statement(borrower_id, case["case_id"], statement)
    complete_unemployment_evidence(borrower_id, case["case_id"])
    submit(borrower_id, case["case_id"])

    [decision] = decisions(case["case_id"])
    assert decision["outcome"] == "decline"
    assert "capacity_to_pay" in POLICY.evaluation.wilful_default.decline_indicators
    codes = [r["code"] for r in decision["reasons"]]
    assert "capacity_to_pay" in codes and "repeated_no_contact_delinquency" in codes
    assert decision["policy_version"] == POLICY.version
    assert decision["offers"] == []

    [event] = topic_events(infra, "evaluation.events", type_="case.decided", case_id=case["case_id"], min_count=1)
    assert event["payload"]["outcome"] == "decline"
    assert {"capacity_to_pay", "repeated_no_contact_delinquency"} <= {r["code"] for r in event["payload"]["reasons"]}
    assert event["payload"]["offers"] == []
    declined = wait_case_status(case["case_id"], "declined")
    assert declined["last_outcome"] == "decline"
    # no offer is ever made on a declined case
    assert topic_events(infra, "agreement.events", type_="offer.made", case_id=case["case_id"]) == []


# -- 3 --------------------------------------------------------------------------------------------


def test_incomplete_evidence_past_its_deadline_is_declined_for_the_missing_evidence(stack, infra) -> None:
    today = services_agree_on_the_date()
    borrower_id = uid("BRW")
    case = open_case(borrower_id, [loan_snapshot(borrower_id, today)])
    deadline = d(case["evidence_deadline"])
    assert deadline == today + POLICY.evidence.deadline_days * DAY
    put_statement(borrower_id, case["case_id"], UNEMPLOYED_STATEMENT)
    # only the termination letter arrives; the unemployment registration never does
    from forbear_simulator.client import tiny_pdf

    letter = upload(borrower_id, case["case_id"], "termination_letter", tiny_pdf(case["case_id"]), "l.pdf",
                    "application/pdf")
    review(case["case_id"], letter["document_id"])
    assert intake_case(case["case_id"])["status"] == "awaiting_evidence"

    advance_to(deadline)  # the last day to bring evidence: nothing happens yet
    assert intake_case(case["case_id"])["status"] == "awaiting_evidence"
    advance(deadline + DAY)  # the deadline has passed

    [submitted] = topic_events(infra, "intake.events", type_="case.submitted", case_id=case["case_id"], min_count=1)
    assert submitted["payload"]["evidence_deadline_passed"] is True
    declined = wait_case_status(case["case_id"], "declined")
    assert declined["last_outcome"] == "decline"
    [decision] = decisions(case["case_id"])
    assert decision["outcome"] == "decline"
    # the decline tells the borrower how to appeal and by when, in both languages (the date as
    # each reads it, written here by hand), and where free advice is found
    by = d(decision["appeal_deadline"])
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December"]
    assert any(f"可在{by.year}年{by.month}月{by.day}日（含当日）之前提出申诉" in s for s in decision["rights"]["zh-CN"])
    assert any(f"you may appeal until {months[by.month - 1]} {by.day}, {by.year} (inclusive)" in s
               for s in decision["rights"]["en"])
    assert "12348" in decision["rights"]["zh-CN"][-1]
    reasons = {r["code"]: r["detail"] for r in decision["reasons"]}
    assert "evidence_deadline_expired" in reasons
    assert "unemployment_registration" in reasons["evidence_deadline_expired"]
    assert "termination_letter" not in reasons["evidence_deadline_expired"].split("without:")[-1]


# -- 4 --------------------------------------------------------------------------------------------


def test_one_missed_instalment_is_reminded_then_warned_then_cured_by_a_full_payment(stack, infra) -> None:
    journey = to_active_agreement(borrower_signs_in_person=True)
    first = journey.instalments[0]
    due = d(first["due_date"])

    advance_to(grace_cutoff(due))  # the last day of grace: not missed yet
    view = monitored(journey.agreement_id)
    assert view is not None and view["level"] == "current"
    advance(dpd_date(due, ESC.reminder_dpd))
    view = monitored(journey.agreement_id)
    assert view is not None
    assert view["level"] == "reminder" and view["days_past_due"] == ESC.reminder_dpd
    assert view["schedule"][0]["status"] == "missed"
    advance(dpd_date(due, ESC.warning_dpd))
    view = monitored(journey.agreement_id)
    assert view is not None and view["level"] == "warning" and view["days_past_due"] == ESC.warning_dpd

    notices = topic_events(infra, "notifications.requested", agreement_id=journey.agreement_id, min_count=2)
    assert [n["payload"]["level"] for n in notices] == ["reminder", "warning"]
    assert [n["payload"]["days_past_due"] for n in notices] == [ESC.reminder_dpd, ESC.warning_dpd]

    # full payment before any referral: the instalment plus penalty interest on its principal since the due date
    paid_on = dpd_date(due, ESC.warning_dpd)
    owed = Decimal(first["total"]) + penalty(Decimal(first["principal"]), Decimal(journey.offer["annual_rate"]),
                                             (paid_on - due).days)
    assert Decimal(view["arrears"]["total"]) == owed
    reference = corebanking_payment(infra, journey.loan_id, owed, paid_on)
    wait_payment(journey.agreement_id, reference)

    cured = topic_events(infra, "monitoring.events", type_="agreement.cured", agreement_id=journey.agreement_id,
                         min_count=1)
    assert cured[0]["payload"]["from_level"] == "warning"
    view = wait_monitored(journey.agreement_id, lambda v: v["level"] == "current")
    assert view["status"] == "active" and view["days_past_due"] == 0
    assert Decimal(view["arrears"]["total"]) == 0
    assert view["schedule"][0]["status"] == "paid_late"
    assert topic_events(infra, "legal.referrals", agreement_id=journey.agreement_id) == []
    missed = topic_events(infra, "monitoring.events", type_="instalment.missed", agreement_id=journey.agreement_id)
    assert [m["payload"]["instalment"] for m in missed] == [1]


# -- 5 --------------------------------------------------------------------------------------------


def test_an_unremedied_breach_is_referred_to_legal_after_the_remedy_period_with_a_complete_dossier(
    stack, infra
) -> None:
    journey = to_active_agreement()
    due = journey.due(1)
    # the case's communication log: an agent calls the borrower during office hours
    from tests.support.http import client

    with client("intake", role="agent", subject="agent-e2e") as api:
        call = api.post(f"/cases/{journey.case_id}/contacts",
                        json={"party": "borrower", "channel": "phone", "local_time": "10:30"})
    assert call.status_code == 201, call.text

    breach_on = dpd_date(due, ESC.breach_notice_dpd)
    advance_to(breach_on)
    view = monitored(journey.agreement_id)
    assert view is not None and view["level"] == "breach_notice"
    remedy_deadline = d(view["remedy_deadline"])
    assert remedy_deadline >= breach_on + ESC.remedy_days * DAY
    # the breach notice tells the borrower their rights, in both languages: the overdue amount
    # that remedies it by its last day (written here by hand: ¥ and thousands separators in both,
    # 年月日 in Chinese, "Month D, YYYY" in English), and where free advice is found
    [notice] = [n for n in view["notices"] if n["level"] == "breach_notice"]
    amount, by = Decimal(notice["amount_overdue"]), d(notice["remedy_deadline"])
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December"]
    assert (f"在{by.year}年{by.month}月{by.day}日（含当日）之前付清¥{amount:,.2f}即可纠正违约"
            in notice["rights"]["zh-CN"][2])
    assert (f"Paying CN¥{amount:,.2f} by {months[by.month - 1]} {by.day}, {by.year} (inclusive) remedies the breach"
            in notice["rights"]["en"][2])
    assert "12348" in notice["rights"]["zh-CN"][-1] and "12378" in notice["rights"]["en"][-1]
    # a partial payment does not remedy the breach
    partial = manual_payment(journey.agreement_id, "100.00")

    advance(remedy_deadline)  # the last day to remedy: still monitored
    view = monitored(journey.agreement_id)
    assert view is not None and view["status"] == "active" and view["level"] == "breach_notice"
    assert topic_events(infra, "legal.referrals", agreement_id=journey.agreement_id) == []
    referred_on = remedy_deadline + DAY
    advance(referred_on)
    view = wait_monitored(journey.agreement_id, lambda v: v["status"] == "referred")
    assert view["level"] == "legal_referral"

    notices = topic_events(infra, "notifications.requested", agreement_id=journey.agreement_id, min_count=3)
    assert [n["payload"]["level"] for n in notices] == ["reminder", "warning", "breach_notice"]
    [referral] = topic_events(infra, "legal.referrals", agreement_id=journey.agreement_id, min_count=1)
    body = referral["payload"]
    assert body["referred_on"] == referred_on.isoformat()
    assert body["reasons"][0]["code"] == "remedy_period_expired"
    # a small debt and no broken agreement before: mediation first
    assert Decimal(body["dossier"]["outstanding_balance"]) <= POLICY.legal.mediation_max_amount
    assert body["route"] == "pre_litigation_mediation"

    dossier = body["dossier"]
    expected_missed = [i["number"] for i in journey.instalments if grace_cutoff(d(i["due_date"])) < referred_on]
    assert dossier["missed_instalments"] == expected_missed
    assert dossier["document_sha256"] == journey.agreement["document_sha256"]
    # the signed PDF by its hash and its address at the agreement service: the one served there
    assert dossier["signed_pdf"]["href"] == f"/agreements/{journey.agreement_id}/document.pdf"
    with client("agreement", role="agent") as agreement_api:
        signed_pdf = agreement_api.get(dossier["signed_pdf"]["href"])
    assert signed_pdf.status_code == 200
    assert dossier["signed_pdf"]["sha256"] == hashlib.sha256(signed_pdf.content).hexdigest()
    assert [(i["number"], i["due_date"], i["total"]) for i in dossier["schedule"]["instalments"]] == [
        (i["number"], i["due_date"], i["total"]) for i in journey.instalments]
    assert [(p["reference"], p["amount"]) for p in dossier["payments"]] == [(partial["reference"], "100.00")]
    assert [n["level"] for n in dossier["notices"]] == ["reminder", "warning", "breach_notice"]
    assert [(c["party"], c["channel"]) for c in dossier["communications"]] == [("borrower", "phone")]
    assert sorted((e["document_type"], e["status"], e["sha256"]) for e in dossier["evidence"]) == sorted(
        (doc["document_type"], "accepted", doc["sha256"]) for doc in journey.documents)

    referred = topic_events(infra, "monitoring.events", type_="agreement.referred", agreement_id=journey.agreement_id,
                            min_count=1)
    assert len(referred) == 1
    standing = topic_events(infra, "credit.updates", agreement_id=journey.agreement_id, min_count=1)
    assert [c["payload"]["standing"] for c in standing] == ["plan_breached"]
    wait_case_status(journey.case_id, "legal_referral")
    with client("monitoring", role="supervisor") as api:
        full = api.get(f"/referrals/{body['referral_id']}")
    assert full.status_code == 200 and full.json()["dossier"]["missed_instalments"] == expected_missed


# -- 6 --------------------------------------------------------------------------------------------


def test_a_renegotiation_request_in_the_remedy_period_holds_the_referral_until_its_evaluation_ends(
    stack, infra
) -> None:
    journey = to_active_agreement()
    due = journey.due(1)
    breach_on = dpd_date(due, ESC.breach_notice_dpd)
    advance_to(breach_on)
    view = monitored(journey.agreement_id)
    assert view is not None and view["level"] == "breach_notice"
    remedy_deadline = d(view["remedy_deadline"])

    # the borrower asks to renegotiate during the remedy period (the day after the breach notice)
    advance(breach_on + DAY)
    services_agree_on_the_date()
    renegotiation = open_case(journey.borrower_id, [], loan_ids=[journey.loan_id], renegotiates=journey.agreement_id)
    assert renegotiation["renegotiates_agreement_id"] == journey.agreement_id
    [requested] = topic_events(infra, "intake.events", type_="renegotiation.requested",
                               case_id=renegotiation["case_id"], min_count=1)
    assert requested["payload"]["agreement_id"] == journey.agreement_id
    wait_monitored(journey.agreement_id, lambda v: v["pending_renegotiations"])

    held_on = remedy_deadline + DAY
    # (its evidence is due no earlier than that day: the request is still being gathered then)
    assert d(renegotiation["evidence_deadline"]) >= held_on
    advance(held_on)  # the remedy period is over: referral is due, but held
    view = monitored(journey.agreement_id)
    assert view is not None and view["status"] == "active" and view["level"] == "breach_notice"
    assert view["referral_blocked_since"] == held_on.isoformat()
    blocked = topic_events(infra, "monitoring.events", type_="referral.blocked", agreement_id=journey.agreement_id,
                           min_count=1)
    assert len(blocked) == 1
    assert blocked[0]["payload"]["reasons"][0]["code"] == "pending_renegotiation_request"
    assert topic_events(infra, "legal.referrals", agreement_id=journey.agreement_id) == []

    # the renegotiation is evaluated and declined: the borrower's income now covers the instalment
    statement = {"income": [{"category": "salary", "monthly_amount": "6000.00"}],
                 "essential_expenditure": [{"category": "rent", "monthly_amount": "2500.00"}]}
    assert disposable(statement) >= Decimal(journey.loan["contractual_instalment"])
    put_statement(journey.borrower_id, renegotiation["case_id"], statement)
    complete_unemployment_evidence(journey.borrower_id, renegotiation["case_id"])
    submit(journey.borrower_id, renegotiation["case_id"])
    [decision] = decisions(renegotiation["case_id"])
    assert decision["outcome"] == "decline"
    assert "capacity_to_pay" in [r["code"] for r in decision["reasons"]]
    wait_monitored(journey.agreement_id, lambda v: not v["pending_renegotiations"])
    assert topic_events(infra, "legal.referrals", agreement_id=journey.agreement_id) == []

    referred_on = held_on + DAY
    advance(referred_on)  # the guard has cleared and the remedy period is over: referral
    view = wait_monitored(journey.agreement_id, lambda v: v["status"] == "referred")
    assert view["level"] == "legal_referral"
    [referral] = topic_events(infra, "legal.referrals", agreement_id=journey.agreement_id, min_count=1)
    assert referral["payload"]["referred_on"] == referred_on.isoformat()
    assert referral["payload"]["reasons"][0]["code"] == "remedy_period_expired"


# -- 7 --------------------------------------------------------------------------------------------


def test_monitoring_down_for_several_business_days_detects_each_missed_instalment_exactly_once(
    stack, infra
) -> None:
    journey = to_active_agreement()
    instalments = journey.instalments
    # a renegotiation request holds referral, so every instalment stays monitored while it falls due
    services_agree_on_the_date()
    renegotiation = open_case(journey.borrower_id, [], loan_ids=[journey.loan_id], renegotiates=journey.agreement_id)
    wait_monitored(journey.agreement_id, lambda v: v["pending_renegotiations"])
    last_due = d(instalments[-1]["due_date"])
    first_due = d(instalments[0]["due_date"])

    stack.kill("monitoring-worker")  # its consumers and its outbox relay are gone
    try:
        advance(missed_on(first_due) + DAY)  # instalment 1 missed while the worker is down
        stack.kill("monitoring-api")  # the whole service is down for a while
        stack.start("monitoring-api")
        stack.wait_ready(["monitoring-api"])
        # business days pass in uneven steps, then one long catch-up over many skipped days
        advance(missed_on(first_due) + 2 * DAY)
        advance(last_due + 10 * DAY)
    finally:
        stack.start("monitoring-api")
        stack.start("monitoring-worker")
        stack.wait_ready(["monitoring-api", "monitoring-worker"])

    expected = [i["number"] for i in instalments]
    missed = topic_events(infra, "monitoring.events", type_="instalment.missed", agreement_id=journey.agreement_id,
                          min_count=len(expected))
    per_instalment: dict[int, int] = {}
    for event in missed:
        per_instalment[event["payload"]["instalment"]] = per_instalment.get(event["payload"]["instalment"], 0) + 1
    assert per_instalment == {n: 1 for n in expected}
    view = monitored(journey.agreement_id)
    assert view is not None
    # each detected on the business day after its grace ended
    assert [(i["number"], i["missed_detected_on"]) for i in view["schedule"]] == [
        (i["number"], missed_on(d(i["due_date"])).isoformat()) for i in instalments]
    # another close of business detects nothing again
    advance(last_due + 11 * DAY)
    assert len(topic_events(infra, "monitoring.events", type_="instalment.missed",
                            agreement_id=journey.agreement_id)) == len(expected)
    assert renegotiation["case_id"]


# -- 8 --------------------------------------------------------------------------------------------
# (the role and ownership matrix lives in tests/e2e/test_access.py)

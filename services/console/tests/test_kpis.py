"""The KPI definitions and the read model's pure rules, with the numbers visible.

The SQL that groups the read model's rows is exercised on a real database in
tests/integration/test_read_model.py; here each KPI is finished from its groups.
"""

from __future__ import annotations

import datetime as dt

from forbear_console import kpis
from forbear_console.readmodel.projector import month_ends
from forbear_console.readmodel.queries import instalment_state
from forbear_console.readmodel.rules import awaiting_signature_of, queue_after, summary


def test_dpd_buckets_follow_the_thirty_day_bands() -> None:
    assert [kpis.bucket(d) for d in (0, 1, 30, 31, 60, 61, 90, 91)] == [
        "current", "1-30", "1-30", "31-60", "31-60", "61-90", "61-90", "90+"]


def test_roll_rate_counts_agreements_that_moved_to_a_worse_bucket_a_month_later() -> None:
    # A: current -> current -> 1-30 -> 31-60 -> 61-90 (four month-end pairs); B: current at every month end
    moves = {("current", "current"): 1 + 4, ("current", "1-30"): 1, ("1-30", "31-60"): 1, ("31-60", "61-90"): 1}
    rows = {r["from"]: r for r in kpis.roll_rows(moves)}
    assert rows["current"]["observed"] == 6 and rows["current"]["rolled"] == 1
    assert rows["1-30"] == {"from": "1-30", "to": "31-60", "observed": 1, "rolled": 1, "rate": 1.0, "cured": 0}
    assert rows["61-90"] == {"from": "61-90", "to": "90+", "observed": 0, "rolled": 0, "rate": None, "cured": 0}


def test_a_delinquent_agreement_back_to_current_counts_as_cured_in_the_roll() -> None:
    rows = {r["from"]: r for r in kpis.roll_rows({("31-60", "current"): 2, ("31-60", "61-90"): 1})}
    assert rows["31-60"]["cured"] == 2 and rows["31-60"]["rate"] == round(1 / 3, 4)


def test_cure_rate_is_cured_over_ever_delinquent() -> None:
    # three ever delinquent: one back to current, one referred, one still in arrears
    assert kpis.cure_summary(delinquent=3, cured=1, referred=1) == {
        "delinquent": 3, "cured": 1, "still_delinquent": 1, "referred": 1, "rate": 0.3333}
    assert kpis.cure_summary(0, 0, 0)["rate"] is None


def test_breach_rate_by_month_on_plan_divides_by_the_agreements_still_unbroken() -> None:
    # activated 01-10, as of 06-30: one broken in month 2 (notice 02-20), one unbroken for 6 months
    rows = kpis.breach_rows([(2, 2, 1), (6, None, 1)])
    assert rows[0] == {"month": 1, "exposed": 2, "breached": 0, "rate": 0.0}
    assert rows[1] == {"month": 2, "exposed": 2, "breached": 1, "rate": 0.5}
    assert rows[2] == {"month": 3, "exposed": 1, "breached": 0, "rate": 0.0}
    assert len(rows) == 6


def test_time_to_first_decision_in_days_of_business_date() -> None:
    # two cases decided after 0 and 4 days: the median is the value at position floor(0.5 * 2) = 1
    result = kpis.first_decision_summary({0: 1, 4: 1})
    assert result["decided"] == 2 and result["median_days"] == 4 and result["p90_days"] == 4
    histogram = {b["label"]: b["count"] for b in result["histogram"]}
    assert histogram["0"] == 1 and histogram["3-4"] == 1 and histogram["30+"] == 0


def test_a_case_moves_through_the_queues_its_events_name() -> None:
    assert queue_after("case.opened", {}) == "gathering_evidence"
    assert queue_after("case.decided", {"outcome": "needs_supervisor"}) == "supervisor_review"
    assert queue_after("case.decided", {"outcome": "need_more_evidence"}) == "gathering_evidence"
    assert queue_after("offer.countered", {}) == "under_evaluation"
    assert queue_after("agreement.escalated", {"to_level": "warning"}) == "at_risk"
    assert queue_after("agreement.escalated", {"to_level": "breach_notice"}) == "breached"
    assert queue_after("agreement.cured", {"from_level": "warning"}) == "agreement_active"
    assert queue_after("contact.recorded", {}) is None  # a contact leaves the case where it is


def test_timeline_lines_are_short_and_mask_long_digit_runs() -> None:
    line = summary("offer.countered", {"proposed_instalment": "1234.50", "proposed_term_months": 24})
    assert line == "counter-proposal: 1,234.50 × 24"
    masked = summary("renegotiation.requested", {"agreement_id": "13800138000"})
    assert "13800138000" not in masked and masked.endswith("*******8000 requested")
    assert len(summary("case.decided", {"outcome": "decline", "reasons": [{"code": "x" * 300}]})) <= 200


def test_the_borrower_signs_first_then_the_lender() -> None:
    assert awaiting_signature_of(False, False) == "borrower"
    assert awaiting_signature_of(True, False) == "lender"


def test_an_unpaid_instalment_is_past_due_from_the_day_after_its_due_date() -> None:
    due = {"due_date": dt.date(2026, 3, 5), "settled_on": None, "missed_on": None}
    assert instalment_state(due, dt.date(2026, 3, 5)) == {**due, "state": "due", "dpd": 0}
    assert instalment_state({**due, "missed_on": dt.date(2026, 3, 8)}, dt.date(2026, 3, 31))["dpd"] == 26
    assert instalment_state({**due, "settled_on": dt.date(2026, 3, 20)}, dt.date(2026, 3, 31))["state"] == "paid"


def test_month_ends_reached_are_the_last_days_of_months_in_the_half_open_span() -> None:
    assert month_ends(dt.date(2026, 3, 30), dt.date(2026, 3, 31)) == [dt.date(2026, 3, 31)]
    assert month_ends(dt.date(2026, 3, 30), dt.date(2026, 4, 2)) == [dt.date(2026, 3, 31)]  # catch-up
    assert month_ends(dt.date(2026, 3, 31), dt.date(2026, 4, 29)) == []  # already reached
    assert month_ends(dt.date(2026, 1, 15), dt.date(2026, 3, 31)) == [dt.date(2026, 1, 31), dt.date(2026, 2, 28),
                                                                       dt.date(2026, 3, 31)]
    assert month_ends(dt.date(2026, 12, 30), dt.date(2027, 1, 31)) == [dt.date(2026, 12, 31), dt.date(2027, 1, 31)]
    assert month_ends(dt.date(2026, 3, 2), dt.date(2026, 3, 3)) == []


def test_a_representatives_timeline_line_names_kind_scope_and_dates_and_leaves_the_queue() -> None:
    line = summary("representative.authorised", {"representative_id": "R-1", "kind": "debt_adviser",
                                                 "scopes": ["communications", "negotiation"],
                                                 "starts_on": "2026-03-02", "ends_on": "2026-05-31"})
    assert line == ("representative R-1 authorised: debt adviser for communications, negotiation, "
                    "2026-03-02 to 2026-05-31")
    assert summary("representative.revoked", {"representative_id": "R-1", "revoked_on": "2026-03-09"}) == (
        "representative R-1 revoked on 2026-03-09")
    assert queue_after("representative.authorised", {}) is None

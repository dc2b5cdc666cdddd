"""The KPI definitions, with the numbers visible."""

from __future__ import annotations

import datetime as dt

from forbear_console import kpis


def schedule(*rows: tuple[str, str | None]) -> list[dict]:
    return [{"number": n, "due_date": due, "settled_on": settled, "status": "paid" if settled else "missed"}
            for n, (due, settled) in enumerate(rows, start=1)]


def test_dpd_is_days_since_the_oldest_due_date_not_settled_by_then() -> None:
    agreement = {"schedule": schedule(("2026-02-05", "2026-02-05"), ("2026-03-05", "2026-04-20"),
                                      ("2026-04-05", None))}
    assert kpis.dpd_on(agreement, dt.date(2026, 2, 28)) == 0
    assert kpis.dpd_on(agreement, dt.date(2026, 3, 31)) == 26  # 2026-03-05 unpaid
    assert kpis.dpd_on(agreement, dt.date(2026, 4, 30)) == 25  # March settled on 04-20; April still open


def test_roll_rate_counts_agreements_that_moved_to_a_worse_bucket_a_month_later() -> None:
    as_of = dt.date(2026, 5, 31)
    # A: current at end of Feb, 26 DPD at end of March (1-30), 56 at end of April (31-60)
    a = {"activated_on": "2026-01-20", "schedule": schedule(("2026-02-05", "2026-02-05"), ("2026-03-05", None),
                                                            ("2026-04-05", None))}
    # B: always paid on the due date: current at every month end
    b = {"activated_on": "2026-01-20", "schedule": schedule(("2026-02-05", "2026-02-05"),
                                                            ("2026-03-05", "2026-03-05"))}
    rows = {r["from"]: r for r in kpis.roll_rates([a, b], as_of)}
    # month ends Jan..May: 4 transitions each; A: cur->cur, cur->1-30, 1-30->31-60, 31-60->61-90
    assert rows["current"]["observed"] == 2 + 4 and rows["current"]["rolled"] == 1
    assert rows["1-30"] == {"from": "1-30", "to": "31-60", "observed": 1, "rolled": 1, "rate": 1.0, "cured": 0}
    assert rows["31-60"]["rolled"] == 1


def test_cure_rate_is_cured_over_ever_delinquent() -> None:
    cured = {"status": "active", "level": "current", "schedule": [{"number": 1, "missed_detected_on": "2026-02-09"}]}
    still = {"status": "active", "level": "warning", "schedule": [{"number": 1, "status": "missed"}]}
    referred = {"status": "referred", "level": "legal_referral", "schedule": [{"number": 1, "status": "missed"}]}
    clean = {"status": "active", "level": "current", "schedule": [{"number": 1, "status": "paid"}]}
    result = kpis.cure_rate([cured, still, referred, clean])
    assert result == {"delinquent": 3, "cured": 1, "still_delinquent": 1, "referred": 1, "rate": 0.3333}


def test_breach_rate_by_month_on_plan_divides_by_the_agreements_still_unbroken() -> None:
    as_of = dt.date(2026, 6, 30)
    broken_in_month_2 = {"activated_on": "2026-01-10", "notices": [{"level": "breach_notice", "on": "2026-02-20"}]}
    unbroken = {"activated_on": "2026-01-10", "notices": []}
    rows = kpis.breach_by_months_on_plan([broken_in_month_2, unbroken], as_of)
    assert rows[0] == {"month": 1, "exposed": 2, "breached": 0, "rate": 0.0}
    assert rows[1] == {"month": 2, "exposed": 2, "breached": 1, "rate": 0.5}
    assert rows[2] == {"month": 3, "exposed": 1, "breached": 0, "rate": 0.0}


def test_time_to_first_decision_in_days_of_business_date() -> None:
    cases = [{"case_id": "a", "opened_on": "2026-01-05"}, {"case_id": "b", "opened_on": "2026-01-05"},
             {"case_id": "c", "opened_on": "2026-01-06"}]
    result = kpis.time_to_first_decision(cases, {"a": dt.date(2026, 1, 5), "b": dt.date(2026, 1, 9)})
    assert result["decided"] == 2 and result["median_days"] == 4 and result["p90_days"] == 4
    assert {b["label"]: b["count"] for b in result["histogram"]}["3-4"] == 1


def test_the_funnel_follows_a_case_from_opening_to_completion() -> None:
    cases = [{"case_id": "a", "status": "agreement_active", "submissions": 1, "last_outcome": "approve"},
             {"case_id": "b", "status": "declined", "submissions": 1, "last_outcome": "decline"},
             {"case_id": "c", "status": "awaiting_evidence", "submissions": 0}]
    offers = [{"case_id": "a", "status": "accepted"}]
    agreements = [{"case_id": "a", "status": "active"}]
    stages = {s["stage"]: s["count"] for s in kpis.funnel(cases, offers, agreements, [{"status": "completed"}])}
    assert stages == {"opened": 3, "submitted": 2, "decided": 2, "approved": 1, "offer accepted": 1,
                      "signed (active)": 1, "completed": 1}

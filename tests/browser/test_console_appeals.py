"""A supervisor finds a borrower's appeal in the console's "appeals to review" queue and overturns
the decline from the case page."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.browser.test_console import (
    SUPERVISOR,
    browser,
    log_in,
    new_page,
    reload_case_until,
    reload_queues_until,
    seed_unemployed_borrower_case,
)
from tests.support.catalogues import en_date
from tests.support.http import client
from tests.support.infra import eventually

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the fixture, shared with the console's other browser tests

GROUNDS = "My spouse's salary stopped in January; the payslips in the file are from before that."


def declined_case() -> tuple[str, str, dict]:
    """The seeded borrower with a statement that covers the instalment: salary 9,000.00 - rent
    2,500.00 = 6,500.00 disposable, above the contractual 2,566.38, so the rules decline
    (capacity_to_pay is a decline indicator in the demo policy)."""
    case_id = seed_unemployed_borrower_case()
    with client("intake", role="agent", subject="channel-seed") as api:
        assert api.put(f"/cases/{case_id}/statement", json={
            "income": [{"category": "salary", "monthly_amount": "9000.00"}],
            "essential_expenditure": [{"category": "rent", "monthly_amount": "2500.00"}]}).status_code == 200
        case = api.get(f"/cases/{case_id}").json()
        for document in case["documents"]:
            reviewed = api.post(f"/cases/{case_id}/evidence/{document['document_id']}/review", json={"outcome": "accept"})
            assert reviewed.status_code == 200, reviewed.text
        submitted = api.post(f"/cases/{case_id}/submit")
        assert submitted.status_code == 200, submitted.text

    def declined() -> dict | None:
        with client("evaluation", role="agent") as api:
            response = api.get(f"/cases/{case_id}/decisions")
        listed = response.json()["decisions"] if response.status_code == 200 else []
        return next((d for d in listed if d["outcome"] == "decline"), None)

    decision = eventually(declined, timeout=60)
    return case_id, case["borrower_id"], decision


def test_a_supervisor_overturns_a_borrowers_appeal_from_the_console(browser) -> None:
    case_id, borrower_id, decision = declined_case()
    assert "capacity_to_pay" in [r["code"] for r in decision["reasons"]]
    with client("evaluation", role="borrower", subject=f"portal-{borrower_id}", borrower_id=borrower_id) as me:
        lodged = me.post(f"/decisions/{decision['decision_id']}/appeals", json={
            "statement": GROUNDS, "evidence": [{"document_type": "pay_slips", "description": "January payslip, 0.00"}]})
    assert lodged.status_code == 201, lodged.text
    appeal_id = lodged.json()["appeal_id"]

    page = new_page(browser)
    log_in(page, SUPERVISOR)
    reload_queues_until(page, f"#queue-appeals-to-review :text('{appeal_id}')")
    reload_case_until(page, case_id, f"[data-appeal='{appeal_id}']")
    card = page.locator(f"[data-appeal='{appeal_id}']")
    expect(card).to_contain_text(GROUNDS)
    expect(card).to_contain_text("decline by the rules")
    expect(page.locator(f"[data-appeal-deadline='{decision['decision_id']}']")).to_contain_text(
        en_date(dt.date.fromisoformat(decision["appeal_deadline"])))
    page.fill(f"#appeal-reason-{appeal_id}", "The January payslip shows the lost income.")
    page.click(f"[data-overturn='{appeal_id}']")
    expect(page.locator(f"[data-appeal='{appeal_id}']")).to_contain_text("overturned")

    with client("evaluation", role="supervisor") as api:
        decided = api.get(f"/appeals/{appeal_id}").json()
    assert decided["status"] == "overturned" and decided["decision_reason"] == "The January payslip shows the lost income."
    with client("evaluation", role="agent") as api:
        latest = api.get(f"/cases/{case_id}/decisions").json()["decisions"][-1]
    assert (latest["outcome"], latest["decision_id"]) == ("need_more_evidence", decided["outcome_decision_id"])

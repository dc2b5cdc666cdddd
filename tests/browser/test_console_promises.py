"""Promises to pay on the console's case page, in zh-CN: an agent records a promise and the
payment that keeps it, then a second promise that nobody pays, broken at the close of business
of its date. Both stay on the case page with their state.

The business date is the session's, shared by every test: this test moves it three days on
from wherever it is (its own agreement is activated first, so no other test's dates are passed).
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.test_console import (
    AGENT,
    browser,
    log_in,
    new_page,
    no_missing_words,
    open_case_page,
    reload_case_until,
    shoot,
)
from tests.e2e.journey import advance, business_date, to_active_agreement
from tests.support.catalogues import zh_date, zh_money, zh_short_date
from tests.support.http import client

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the fixture, shared with the console's other browser tests
DAY = dt.timedelta(days=1)


def test_an_agent_records_a_promise_kept_by_a_payment_and_another_broken_past_its_date(browser) -> None:
    journey = to_active_agreement()
    today = business_date()
    page = new_page(browser)
    log_in(page, AGENT, lang="zh-CN")
    open_case_page(page, journey.case_id)
    card = page.locator("#promises")
    expect(card.locator("h3")).to_have_text("还款承诺")
    expect(card.locator(".empty")).to_have_text("暂无还款承诺。")

    # the borrower promises 500.00 by three days from today, on the phone
    page.fill("#promise-amount", "500.00")
    page.fill("#promise-date", (today + 3 * DAY).isoformat())
    page.select_option("#promise-channel", "phone")
    page.click("#promise-form button[type=submit]")
    expect(page.locator("#flash")).to_have_text("还款承诺已记录")
    first = card.locator("tbody tr").first
    expect(first).to_have_attribute("data-status", "open")
    expect(first.locator("td").nth(0)).to_have_text(zh_money("500.00"))
    expect(first.locator("td").nth(1)).to_have_text(zh_short_date(today + 3 * DAY))
    expect(first.locator("td").nth(2)).to_contain_text(f"{zh_date(today)}，电话，")
    expect(first.locator("td").nth(3)).to_have_text("待履行")

    # and pays it today: 500.00 received on the day it was made, within its date, reaches the amount
    page.fill("#payment-reference", f"PAY-{uuid.uuid4().hex[:8]}")
    page.fill("#payment-amount", "500.00")
    page.click("#payment-form button[type=submit]")
    expect(page.locator("#flash")).to_have_text("还款已记录")
    # the close of business of today judges it: kept, 500.00 paid, judged on today
    advance(today + DAY)
    reload_case_until(page, journey.case_id, "#promises tr[data-status=kept]")
    kept = page.locator("#promises tr[data-status=kept]")
    expect(kept.locator("td").nth(3)).to_have_text("已履行")
    expect(kept.locator("td").nth(4)).to_have_text(f"已还 {zh_money('500.00')}，判定于 {zh_date(today)}")

    # a second promise, 300.00 by tomorrow's date (the business date is now today + 1): nothing
    # is paid after it was made (the 500.00 came the day before), so the close of business of its
    # date, today + 2, breaks it with 0.00 paid
    page.fill("#promise-amount", "300.00")
    page.fill("#promise-date", (today + 2 * DAY).isoformat())
    page.click("#promise-form button[type=submit]")
    expect(page.locator("#flash")).to_have_text("还款承诺已记录")
    expect(page.locator("#promises tr[data-status=open]")).to_have_count(1)
    advance(today + 3 * DAY)
    reload_case_until(page, journey.case_id, "#promises tr[data-status=broken]")
    broken = page.locator("#promises tr[data-status=broken]")
    expect(broken.locator("td").nth(0)).to_have_text(zh_money("300.00"))
    expect(broken.locator("td").nth(1)).to_have_text(zh_short_date(today + 2 * DAY))
    expect(broken.locator("td").nth(3)).to_have_text("未履行")
    expect(broken.locator("td").nth(4)).to_have_text(f"已还 {zh_money('0.00')}，判定于 {zh_date(today + 2 * DAY)}")
    # both stay on the page with their state, oldest first; the service says the same
    expect(page.locator("#promises tbody tr")).to_have_count(2)
    assert [r.get_attribute("data-status") for r in page.locator("#promises tbody tr").all()] == ["kept", "broken"]
    expect(page.locator("#promises .count")).to_have_text("2")
    with client("monitoring", role="agent") as api:
        listed = api.get(f"/agreements/{journey.agreement_id}/promises").json()
    assert [(p["amount"], p["status"], p["judged_on"]) for p in listed] == [
        ("500.00", "kept", today.isoformat()), ("300.00", "broken", (today + 2 * DAY).isoformat())]
    no_missing_words(page)
    shoot(page, "zh-03-case-promises")

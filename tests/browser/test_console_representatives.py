"""The console's case page lists a borrower's representatives (names masked) and lets an agent
log a contact through one that communicates for the borrower."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.browser.test_console import (
    AGENT,
    PDF,
    browser,
    log_in,
    new_page,
    open_case_page,
    seed_unemployed_borrower_case,
)
from tests.support.http import client

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the fixture, shared with the console's other browser tests


def test_an_agent_sees_the_representative_masked_and_contacts_the_borrower_through_them(browser) -> None:
    case_id = seed_unemployed_borrower_case()
    with client("intake", role="agent", subject="channel-seed") as api:
        today = dt.date.fromisoformat(api.get("/business-date").json()["business_date"])
        document = api.post(f"/cases/{case_id}/evidence", data={"document_type": "representative_authorisation"},
                            files={"file": ("authorisation.pdf", PDF, "application/pdf")}).json()
        authorised = api.post(f"/cases/{case_id}/representatives", json={
            "kind": "lawyer", "name": "李律师", "channel": "phone", "scopes": ["communications"],
            "ends_on": (today + dt.timedelta(days=30)).isoformat(), "document_id": document["document_id"]})
        assert authorised.status_code == 201, authorised.text
    rid = authorised.json()["representative_id"]

    page = new_page(browser)
    log_in(page, AGENT)
    open_case_page(page, case_id)
    card = page.locator("#representatives")
    expect(card).to_contain_text(rid)
    expect(card).to_contain_text("李**")
    expect(card).not_to_contain_text("李律师")
    page.fill("#representative-contact-time", "10:00")
    page.click("#representative-contact-form button[type=submit]")
    expect(page.locator("#contacts")).to_contain_text("representative")
    with client("intake") as api:
        log = api.get(f"/cases/{case_id}/contacts").json()
    assert [(c["party"], c["outcome"], c["representative_id"]) for c in log] == [("representative", "allowed", rid)]

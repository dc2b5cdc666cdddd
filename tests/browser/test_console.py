"""The operations console in Debian's chromium: an agent and a supervisor work a case from
evidence review to a signed agreement, through the page only, against the real services.

The case is opened through the services' HTTP APIs (as a lender's channel would), then
everything else is done in the browser. Screenshots of the main pages are kept in
``artifacts/screenshots/`` as test artefacts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import time
import uuid
import zipfile
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.support.catalogues import (
    STATIC,
    catalogue,
    en_date,
    en_money,
    en_short_date,
    zh_date,
    zh_money,
    zh_short_date,
)
from tests.support.http import PORT_OFFSET, client
from tests.support.infra import KEYCLOAK_ISSUER, signing_code

pytestmark = pytest.mark.browser

CONSOLE_URL = f"http://127.0.0.1:{8100 + PORT_OFFSET}"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: the demo realm's operators (deploy/keycloak/forbear-realm.json), who log in at Keycloak
AGENT = ("agent1", "agent1-demo")
SUPERVISOR = ("super1", "super1-demo")
#: the page waits on the services (and they on Kafka); give every assertion time on a busy 2-core machine
expect.set_options(timeout=15_000)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(scope="module")
def browser(stack) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def download_case_file(page: Page, case_id: str, role: str) -> dict[str, bytes]:
    """Click the page's case-file link; the archive's files (path -> bytes), once its manifest
    is checked: made for this case by this role, and every other file listed with its SHA-256."""
    with page.expect_download() as downloading:
        page.click("#case-file")
    with zipfile.ZipFile(downloading.value.path()) as archive:
        files = {n.removeprefix(f"{case_id}/"): archive.read(n) for n in archive.namelist()}
    manifest = json.loads(files.pop("manifest.json"))
    files.pop("SHA256SUMS")
    assert manifest["case_id"] == case_id and manifest["produced_by"]["role"] == role
    assert {f["path"]: f["sha256"] for f in manifest["files"]} == {
        path: hashlib.sha256(data).hexdigest() for path, data in files.items()}
    return files


def new_page(browser: Browser, width: int = 1440, height: int = 900) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def no_missing_words(page: Page) -> None:
    # t() marks <html data-missing> with any key the catalogue lacked
    assert page.locator("html[data-missing]").count() == 0, page.locator("html").get_attribute("data-missing")


def log_in(page: Page, who: tuple[str, str], lang: str = "en", url: str = CONSOLE_URL) -> None:
    """Through the identity provider: the console sends the browser to Keycloak's login page
    (authorization code + PKCE), which sends it back with a code the console exchanges.
    The console speaks zh-CN first; ``lang`` is chosen on the login page's switch (the English
    tests read the words of the en catalogue)."""
    page.goto(url + "/")
    # the page asks the console whether a session exists, then shows the login or the app
    # (a selector, not a script: the page's CSP allows no script from elsewhere, eval included)
    expect(page.locator("#login-view:not([hidden]), #app:not([hidden])").first).to_be_visible()
    if page.locator("#logout").is_visible():
        page.click("#logout")
    if page.locator("html").get_attribute("lang") != lang:
        page.select_option("#login-lang-switch", lang)
        expect(page.locator(f"html[lang='{lang}']")).to_have_count(1)
    page.click("#login-submit")
    expect(page.locator("#kc-login")).to_be_visible()
    assert page.url.startswith(KEYCLOAK_ISSUER + "/protocol/openid-connect/auth?")
    page.fill("#username", who[0])
    page.fill("#password", who[1])
    page.click("#kc-login")
    expect(page.locator("#who-name")).to_have_text(who[0])
    assert page.locator("html").get_attribute("lang") == lang
    # the session is an HttpOnly cookie: nothing the page's scripts can read or store (the
    # browser keeps only the operator's choice of language)
    assert page.evaluate("document.cookie") == ""
    assert page.evaluate("JSON.stringify(sessionStorage)") == "{}"
    assert json.loads(page.evaluate("JSON.stringify(localStorage)")) == {"forbear.console.lang": lang}
    cookie = next(c for c in page.context.cookies() if c["name"] == "forbear_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"


def open_case_page(page: Page, case_id: str) -> None:
    page.goto(f"{CONSOLE_URL}/#/case/{case_id}")
    page.reload()  # the same URL with another hash is a same-document navigation: load it afresh
    title = f"案件 {case_id}" if page.locator("html").get_attribute("lang") == "zh-CN" else f"Case {case_id}"
    expect(page.locator("#case-title")).to_have_text(title)


def reload_until(page: Page, what: str, selector: str, loaded: str, timeout: float = 90.0) -> None:
    """The workers and the read model move on asynchronously (Kafka): reload the page until
    ``selector`` shows (``loaded`` shows once each load is done)."""
    deadline = time.monotonic() + timeout
    while True:
        expect(page.locator(loaded)).to_be_visible()
        if page.locator(selector).count():
            return
        if time.monotonic() > deadline:
            shoot(page, f"timeout-{re.sub(r'[^a-z]+', '-', selector)}")
            raise AssertionError(f"{selector} never appeared on {what}")
        time.sleep(1.0)
        page.reload()  # a hash-only navigation would not load the page again


def reload_queues_until(page: Page, selector: str) -> None:
    page.goto(CONSOLE_URL + "/#/queues")
    reload_until(page, "the queues", selector, "#read-model-lag")


def reload_case_until(page: Page, case_id: str, selector: str) -> None:
    open_case_page(page, case_id)
    reload_until(page, f"case {case_id}", selector, "#case-title")


def seed_unemployed_borrower_case() -> str:
    """An unemployed borrower the demo policy approves (the evaluation CLI's example, in a case):
    spouse's salary and benefit 8300.00 a month against 6100.00 essential spending and 300.00 of other
    debts leaves 1900.00, below the contractual 2566.38 but enough for a term extension."""
    borrower_id = f"B-{uuid.uuid4().hex[:10]}"
    # the loan as core banking sees it today: a snapshot within the policy's window of the
    # session's business date (an earlier test of the session may have moved it on)
    with client("intake", role="agent", subject="channel-seed") as api:
        today = api.get("/business-date").json()["business_date"]
    body = {
        "borrower": {"borrower_id": borrower_id, "name": "王小明", "national_id": "310101199001011234",
                     "phone": "13812345678"},
        "loans": [{
            "loan_id": f"L-{uuid.uuid4().hex[:10]}", "borrower_id": borrower_id,
            "original_principal": "80000.00", "outstanding_principal": "51582.38", "annual_rate": "0.096",
            "original_term_months": 36, "remaining_term_months": 22, "contractual_instalment": "2566.38",
            "overdue_principal": "4256.30", "overdue_interest": "876.46", "penalty_interest": "38.20",
            "days_past_due": 19, "as_of": today,
        }],
        "hardship_category": "unemployment",
        "story": "Laid off when the factory closed in December.",
        "channel": "phone",
        "history": {"no_contact_delinquencies_24m": 0, "broken_agreements_12m": 0, "declaration_untrue": False},
    }
    statement = {
        "income": [{"category": "unemployment_benefit", "monthly_amount": "1900.00"},
                   {"category": "spouse_salary", "monthly_amount": "6400.00"}],
        "essential_expenditure": [{"category": "rent", "monthly_amount": "3000.00"},
                                  {"category": "food", "monthly_amount": "1800.00"},
                                  {"category": "utilities", "monthly_amount": "400.00"},
                                  {"category": "childcare", "monthly_amount": "600.00"},
                                  {"category": "transport", "monthly_amount": "300.00"}],
        "other_debt_payments": [{"category": "credit_card", "monthly_amount": "300.00"}],
        "dependants": 1,
        "gross_monthly_income": "10500.00",
    }
    with client("intake", role="agent", subject="channel-seed") as api:
        opened = api.post("/cases", json=body)
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["case_id"]
        assert api.put(f"/cases/{case_id}/statement", json=statement).status_code == 200
        for document_type in opened.json()["evidence"]["missing"]:
            uploaded = api.post(f"/cases/{case_id}/evidence", data={"document_type": document_type},
                                files={"file": (f"{document_type}.pdf", PDF, "application/pdf")})
            assert uploaded.status_code == 201, uploaded.text
    return case_id


def test_an_agent_and_a_supervisor_work_a_case_from_evidence_review_to_a_signed_agreement(browser) -> None:
    case_id = seed_unemployed_borrower_case()
    page = new_page(browser)
    page.goto(CONSOLE_URL + "/")
    expect(page.locator("#login-form")).to_be_visible()
    # Chinese first: the login page speaks zh-CN until the operator switches
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    expect(page.locator("#login-submit")).to_have_text("登录")
    shoot(page, "01-login")

    # the agent finds the case in the "evidence to review" queue: the read model's, fed by
    # intake's evidence.received events (the page calls no service's list)
    log_in(page, AGENT)
    queue = page.locator("#queue-evidence-to-review")
    reload_queues_until(page, f"#queue-evidence-to-review a[title='{case_id}']")
    expect(queue.get_by_role("link", name=case_id)).to_be_visible()
    shoot(page, "02-queues")
    queue.get_by_role("link", name=case_id).click()
    expect(page.locator("#case-title")).to_have_text(f"Case {case_id}")
    # personal data stays masked on the page
    head = page.locator(".case-head").inner_text()
    assert "13812345678" not in head and "310101199001011234" not in head
    shoot(page, "03-case-evidence-to-review")

    # accept both documents (termination letter, unemployment registration), then submit
    for _ in range(2):
        button = page.locator("[data-accept]").first
        button.click()
        expect(page.locator("#flash")).to_contain_text("accepted")
    expect(page.locator("#evidence .count")).to_have_text("complete")
    page.click("#submit-case")
    expect(page.locator("#flash")).to_contain_text("submitted")

    # a contact with the borrower, logged under the contact rules
    page.fill("#contact-time", "10:30")
    page.fill("#contact-note", "explained the offer process")
    page.click("#contact-form button[type=submit]")
    expect(page.locator("#contacts")).to_contain_text("allowed")

    # evaluation approves (worker), agreement makes the offers (worker): accept the first one
    reload_case_until(page, case_id, "[data-accept-offer]")
    expect(page.locator("#decisions")).to_contain_text("approve")
    # each offer shows its APR (年化利率) as the agreement service states it, to 2 places of a percent
    with client("agreement", role="agent") as api:
        offers = api.get(f"/cases/{case_id}/offers").json()
    assert offers and all(o["apr"] for o in offers)
    for offer in offers:
        shown = (Decimal(offer["apr"]) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        # en's percent (Intl): the digits and a % sign, no space
        expect(page.locator(f"[data-offer='{offer['offer_id']}'] .apr")).to_have_text(f"APR {shown}%")
    shoot(page, "04-case-offers")
    page.locator("[data-accept-offer]").first.click()
    expect(page.locator("#sign-borrower")).to_be_visible()
    # the borrower's one-time code goes to the borrower's phone (the dev mailbox); the borrower
    # reads it out and the agent types it
    page.click("#send-code")
    expect(page.locator("#flash")).to_contain_text("Code sent")
    agreement_id = page.locator("#agreement").get_attribute("data-agreement")
    assert agreement_id
    page.fill("#borrower-code", signing_code(agreement_id))
    page.click("#sign-borrower")
    expect(page.locator("#agreement")).to_contain_text("borrower:")

    # the lender signs: a supervisor (agents have no lender signing authority)
    log_in(page, SUPERVISOR)
    awaiting = page.locator("#queue-awaiting-signature")
    reload_queues_until(page, f"#queue-awaiting-signature a[title='{case_id}']")
    expect(awaiting.get_by_role("link", name=case_id)).to_be_visible()
    expect(awaiting).to_contain_text("lender")  # the read model knows whose signature is missing
    awaiting.get_by_role("link", name=case_id).click()
    page.click("#sign-lender")
    expect(page.locator("#agreement .pill").first).to_have_text("active")

    # monitoring takes the agreement over (worker): the schedule with its instalments shows
    reload_case_until(page, case_id, "#schedule[data-monitored=active]")
    # the timeline is the read model's: every event of the case, from every service, in order
    reload_case_until(page, case_id, "#timeline li[data-type='agreement.activated']")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("lender signed")
    # the line names the hardship in the catalogue's words, as the rest of the page does
    hardship = catalogue(STATIC, "en")["hardship.unemployment"]
    expect(timeline.locator("li[data-type='case.opened']")).to_contain_text(f"case opened: {hardship} via phone")
    kinds = [t for t in timeline.locator("li").evaluate_all("items => items.map(i => i.dataset.type)")]
    assert kinds.index("case.opened") < kinds.index("case.decided") < kinds.index("offer.accepted") \
        < kinds.index("agreement.activated")
    shoot(page, "05-case-signed-agreement")

    # the agent records the first instalment's payment
    log_in(page, AGENT)
    open_case_page(page, case_id)
    first = page.locator("#schedule tbody tr").first
    first_total = first.get_attribute("data-total")
    assert first_total
    expect(first.locator("td").nth(2)).to_have_text(en_money(first_total))
    page.fill("#payment-reference", f"PAY-{uuid.uuid4().hex[:8]}")
    page.fill("#payment-amount", first_total)
    page.click("#payment-form button[type=submit]")
    expect(page.locator("#flash")).to_contain_text("Payment recorded")
    expect(page.locator("#schedule tbody tr").first).to_contain_text("paid")

    # the signed agreement is on the dashboard: the active agreements queue and the KPIs
    page.click("a[data-nav=queues]")
    reload_queues_until(page, f"#queue-active-agreements a[title='{case_id}']")
    expect(page.locator("#queue-active-agreements").get_by_role("link", name=case_id)).to_be_visible()
    expect(page.locator("#queue-evidence-to-review").get_by_role("link", name=case_id)).to_have_count(0)
    shoot(page, "06-queues-with-agreement")
    page.click("a[data-nav=kpis]")
    funnel = page.locator("#kpi-funnel svg")
    expect(funnel).to_be_visible()
    expect(funnel).to_contain_text("signed (active)")
    # the KPIs are the read model's, and the page says how far behind the events it is
    expect(page.locator("#read-model-lag")).to_contain_text("As of event")
    expect(page.locator("#read-model-lag")).to_contain_text("s behind")
    for chart in ("#kpi-cure", "#kpi-breach", "#kpi-roll", "#kpi-ttfd"):
        expect(page.locator(chart)).to_be_visible()
    shoot(page, "07-kpis")

    # early warning: close of business reaches the second instalment's checkpoint (7 days before
    # its due date) with nothing paid towards it, 0.00 < 0.50 x its total: near breach, shown
    # on the case page and the queues before anything is missed (grace ends 3 working days after the due date)
    open_case_page(page, case_id)
    second = page.locator("#schedule tbody tr").nth(1)
    expect(second).to_be_visible()
    due = dt.date.fromisoformat(second.get_attribute("data-due") or "")
    expect(second.locator("td").nth(1)).to_have_text(en_short_date(due))
    checkpoint = due - dt.timedelta(days=7)
    with client("monitoring", role="supervisor") as api:
        today = dt.date.fromisoformat(api.get("/business-date").json()["business_date"])
        assert today < checkpoint, f"the session's business date {today} is past the checkpoint {checkpoint}"
        assert api.post("/business-date/advance", json={"to": checkpoint.isoformat()}).status_code == 200
    reload_case_until(page, case_id, "#timeline li[data-type='agreement.near_breach']")
    reload_case_until(page, case_id, "#near-breach-flag")
    expect(page.locator("#near-breach")).to_contain_text(f"instalment 2 due {en_date(due)}")
    expect(page.locator("#near-breach")).to_contain_text(f"paid by {en_date(checkpoint)} (at least 50% needed)")
    expect(page.locator("#schedule tbody tr").nth(1)).to_contain_text("near breach")
    # the timeline's line writes its dates and share for the page's language, as the flag above does
    expect(page.locator("#timeline li[data-type='agreement.near_breach']")).to_contain_text(
        f"instalment 2 due {en_short_date(due)}, {en_money('0.00')} of ")
    expect(page.locator("#timeline li[data-type='agreement.near_breach']")).to_contain_text(
        f"paid by {en_short_date(checkpoint)} (at least 50% needed)")
    expect(page.locator("#timeline li[data-type='instalment.missed']")).to_have_count(0)
    expect(page.locator("#timeline-near-breach")).to_be_visible()
    shoot(page, "08-case-near-breach")
    # the same case file the borrower may download, produced by staff (the agent logged in since
    # the signature, e.g. for a court): every file hashed in its manifest, the evidence with the
    # lender's review records
    files = download_case_file(page, case_id, "agent")
    reviewed = json.loads(files["evidence/index.json"])
    assert reviewed and all(d["status"] == "accepted" and d["reviewed_by"] for d in reviewed)
    page.click("a[data-nav=queues]")
    reload_queues_until(page, f"#queue-near-breach a[title='{case_id}']")
    expect(page.locator("#queue-near-breach").get_by_role("link", name=case_id)).to_be_visible()
    expect(page.locator("#queue-at-risk").get_by_role("link", name=case_id)).to_have_count(0)
    # the KPI snapshot is recomputed within seconds of new events: reload until it counts this one
    page.click("a[data-nav=kpis]")
    tile = page.locator(".tile", has_text="agreements near breach").locator(".value")
    deadline = time.monotonic() + 60
    while tile.inner_text() == "0" and time.monotonic() < deadline:
        time.sleep(1.0)
        page.reload()
    assert int(tile.inner_text()) >= 1
    shoot(page, "09-kpis-near-breach")


def test_the_queues_a_case_page_and_the_kpis_speak_chinese_with_no_missing_word(browser) -> None:
    case_id = seed_unemployed_borrower_case()
    with client("intake", role="agent") as api:
        opened_on = dt.date.fromisoformat(api.get(f"/cases/{case_id}").json()["opened_on"])
    page = new_page(browser)
    log_in(page, AGENT, lang="zh-CN")
    reload_queues_until(page, f"#queue-evidence-to-review a[title='{case_id}']")
    expect(page.locator("#main > h2")).to_have_text("工作队列")
    expect(page.locator("a[data-nav=queues]")).to_have_text("工作队列")
    expect(page.locator("#queue-evidence-to-review h3")).to_have_text("材料待审核")
    expect(page.locator("#queue-awaiting-signature h3")).to_have_text("待签署")
    # the row: the case, its hardship, the day it was opened (zh-CN's numeric date), its channel
    row = page.locator(f"#queue-evidence-to-review tr:has(a[title='{case_id}'])")
    expect(row.locator("td")).to_have_text([case_id, "失业", zh_short_date(opened_on), "电话"])
    # the CJK font is there to draw it (Debian's fonts-wqy-microhei), and the stylesheet asks for it first
    assert page.evaluate("() => document.fonts.check('14px \"WenQuanYi Micro Hei\"', '工作队列')")
    assert page.evaluate("() => getComputedStyle(document.body).fontFamily").startswith('"WenQuanYi Micro Hei"')
    no_missing_words(page)
    shoot(page, "zh-01-queues")

    row.get_by_role("link", name=case_id).click()
    expect(page.locator("#case-title")).to_have_text(f"案件 {case_id}")
    expect(page.locator(".case-head")).to_contain_text(f"失业 · 电话 · 首次联系时逾期 19 天 · 受理于 {zh_date(opened_on)}")
    expect(page.locator(".case-head .pill").first).to_have_text("材料待审核")
    # both documents of an unemployment case, waiting for review
    expect(page.locator("#evidence tbody tr td:first-child")).to_have_text(["解除劳动合同证明", "失业登记证明"])
    expect(page.locator("#evidence tbody .pill")).to_have_text(["待审核", "待审核"])
    expect(page.locator("#evidence .count")).to_have_text("已通过 0/2")
    # the loan and the statement in yuan: 1900.00 + 6400.00 = 8300.00 of income;
    # 3000.00 + 1800.00 + 400.00 + 600.00 + 300.00 = 6100.00 of essential spending; 300.00 of other debts
    loan = page.locator("#facts tbody tr").first
    expect(loan.locator("td").nth(1)).to_have_text(zh_money("51582.38"))
    expect(loan.locator("td").nth(2)).to_have_text(zh_money("2566.38"))
    expect(page.locator("#facts dd")).to_have_text([zh_money("8300.00"), zh_money("6100.00"), zh_money("300.00"), "1"])
    expect(page.locator("#timeline h3")).to_have_text("时间线")
    # what happened, in Chinese (the read model's one-line summary of the event's fields beside it)
    expect(page.locator("#timeline li[data-type='case.opened'] .kind")).to_have_text("受理案件")
    no_missing_words(page)
    shoot(page, "zh-02-case")

    page.click("a[data-nav=kpis]")
    expect(page.locator("#kpi-funnel h3")).to_have_text("漏斗")
    expect(page.locator("#kpi-funnel svg")).to_contain_text("已签署（生效）")
    no_missing_words(page)

    # English on request, kept for the next visit
    page.select_option("#lang-switch", "en")
    expect(page.locator("#kpi-funnel h3")).to_have_text("Funnel")
    page.reload()
    expect(page.locator("a[data-nav=queues]")).to_have_text("Work queues")
    assert page.locator("html").get_attribute("lang") == "en"
    no_missing_words(page)


@pytest.mark.parametrize("width", [1280, 1024])
def test_the_queue_page_has_no_horizontal_overflow_at_laptop_widths(browser, width: int) -> None:
    case_id = seed_unemployed_borrower_case()  # at least one row in a queue
    page = new_page(browser, width=width, height=800)
    log_in(page, AGENT)
    reload_queues_until(page, f"#queue-evidence-to-review a[title='{case_id}']")
    expect(page.locator("#queue-evidence-to-review .count")).not_to_have_text("0")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the queue page is {overflow}px wider than a {width}px window"
    shoot(page, f"queues-{width}px")

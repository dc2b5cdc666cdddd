"""The borrowers' portal in Debian's chromium on a 390 px phone: a borrower of the realm logs in
at Keycloak and goes from opening a hardship request to a signed agreement and its schedule,
through the page only, in Chinese (the default), against the real services.

What the borrower cannot do is done as the lender would: core banking publishes the loan on
``corebanking.loans`` (Kafka) before the borrower asks; an agent reviews the documents and a
supervisor signs for the lender (through the services' APIs, as the console does). Screenshots
go to ``artifacts/screenshots/`` (``portal-*.png``).
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from decimal import ROUND_HALF_UP, Decimal

import pytest
from forbear_shared.events import encode, new_event
from forbear_shared.events.schemas.common import LoanSnapshot
from forbear_shared.events.schemas.corebanking import LoanSnapshotted
from forbear_simulator.identity import KeycloakIdentities
from playwright.sync_api import Locator, Page, expect

from tests.browser.test_console import PDF, SCREENSHOTS, browser, download_case_file, new_page, no_missing_words, shoot
from tests.support.catalogues import en_date, zh_date, zh_money
from tests.support.http import PORT_OFFSET, client
from tests.support.infra import KEYCLOAK_ISSUER, eventually, producer, signing_code

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the fixture, shared with the console's browser tests

PORTAL_URL = f"http://127.0.0.1:{8105 + PORT_OFFSET}"
PHONE = {"width": 390, "height": 844}
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360"
                    "000002000154a24f5d0000000049454e44ae426082")


def register_borrower(borrower_id: str) -> tuple[str, str]:
    """A self-service borrower of the realm (role borrower, attribute borrower_id), as the
    lender's registration makes one."""
    username, password = f"portal-{borrower_id}".lower(), secrets.token_urlsafe(12)
    KeycloakIdentities(KEYCLOAK_ISSUER).register(username, borrower_id, password)
    return username, password


def publish_loan(infra, borrower_id: str, today: dt.date) -> str:
    """Core banking's snapshot of the borrower's loan, on its topic: 51,582.38 outstanding at
    9.6 %, 22 of 36 instalments of 2,566.38 left, 19 days past due."""
    loan_id = f"L-{uuid.uuid4().hex[:10]}"
    loan = LoanSnapshot(
        loan_id=loan_id, borrower_id=borrower_id, original_principal=Decimal("80000.00"),
        outstanding_principal=Decimal("51582.38"), annual_rate=Decimal("0.096"), original_term_months=36,
        remaining_term_months=22, contractual_instalment=Decimal("2566.38"), overdue_principal=Decimal("4256.30"),
        overdue_interest=Decimal("876.46"), penalty_interest=Decimal("38.20"), days_past_due=19, as_of=today,
    )
    event = new_event(type="loan.snapshot", payload=LoanSnapshotted(loan=loan), case_id=loan_id,
                      business_date=today, producer="corebanking", occurred_at=dt.datetime.now(dt.UTC))
    kafka = producer(infra)
    kafka.send(infra.topic("corebanking.loans"), key=loan_id.encode(), value=encode(event)).get(timeout=30)
    kafka.flush()

    def stored() -> bool:
        with infra.connect("intake") as conn:
            return conn.execute("select 1 from loans where loan_id = %s", (loan_id,)).fetchone() is not None

    eventually(stored, timeout=60)
    return loan_id


def shoot_card(page: Page, selector: str, name: str) -> None:
    """One card as a phone shows it (the README's pictures are these)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(selector).screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def no_overflow(page: Page, what: str) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{what} is {overflow}px wider than the 390px phone"


def reload_until(page: Page, selector: str, errors: list[str], timeout: float = 120.0) -> None:
    """The services move on asynchronously (Kafka): reload the request until ``selector`` shows."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            expect(page.locator("#case-title")).to_be_visible()
        except AssertionError:
            shoot(page, "portal-failed")
            raise AssertionError(f"the request did not load: {page.locator('#flash').text_content()!r} {errors}") from None
        if page.locator(selector).count():
            return
        if time.monotonic() > deadline:
            shoot(page, "portal-timeout")
            raise AssertionError(f"{selector} never appeared")
        time.sleep(1.5)
        page.reload()


def test_a_borrower_on_a_390px_phone_goes_from_opening_a_request_to_a_signed_agreement(browser, infra) -> None:
    borrower_id = f"B-{uuid.uuid4().hex[:10]}"
    username, password = register_borrower(borrower_id)
    with client("intake", role="agent", subject="channel-seed") as api:
        today = dt.date.fromisoformat(api.get("/business-date").json()["business_date"])
    loan_id = publish_loan(infra, borrower_id, today)

    page = new_page(browser, **PHONE)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(PORTAL_URL + "/")
    expect(page.locator("#login-view")).to_be_visible()
    # Chinese first: the page's language and words are zh-CN's until the borrower switches
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    expect(page.locator("#login-submit")).to_have_text("登录")
    # the CJK font is there to draw it (Debian's fonts-wqy-microhei)
    assert page.evaluate("() => document.fonts.check('16px \"WenQuanYi Micro Hei\"', '困难协商')")
    shoot(page, "portal-01-login")
    page.click("#login-submit")
    expect(page.locator("#kc-login")).to_be_visible()
    assert page.url.startswith(KEYCLOAK_ISSUER + "/protocol/openid-connect/auth?")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#kc-login")

    # back at the portal: the session is an HttpOnly cookie of the portal's own name
    expect(page.locator("#open-form")).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "forbear_portal_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    expect(page.locator("#my-cases")).to_have_text("您还没有困难协商申请。")

    # opening a request: the loan, what happened (the documents it needs show), the story
    page.fill("#open-loan", loan_id)
    page.select_option("#open-category", "unemployment")
    expect(page.locator("#open-required li")).to_have_text(["解除劳动合同证明", "失业登记证明"])
    page.fill("#open-story", "工厂去年十二月关闭，我被裁员，目前靠失业金和配偶工资生活。")
    no_overflow(page, "the request form")
    shoot(page, "portal-02-open")
    page.click("#open-submit")
    expect(page.locator("#case-title")).to_have_text("困难协商申请：失业")
    case_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("#case-head .pill")).to_have_text("待提供材料")
    # the deadline: the policy's 14 days from the business date the request was opened on
    deadline = today + dt.timedelta(days=14)
    expect(page.locator("#evidence-deadline")).to_have_text(f"请在 {deadline.year}年{deadline.month}月{deadline.day}日 前提供全部材料。")

    # the income and expenditure statement, with the policy's guidance worked out as it is typed:
    # income 1,900.00 + 6,400.00 = 8,300.00; essentials 3,000.00 + 1,800.00 + 400.00 + 600.00 +
    # 300.00 = 6,100.00; other debts 300.00 -> 1,900.00 left; at most 70 % of it: 1,330.00
    lines = {"income": [("unemployment_benefit", "1900.00"), ("spouse_salary", "6400.00")],
             "essential_expenditure": [("rent", "3000.00"), ("food", "1800.00"), ("utilities", "400.00"),
                                       ("childcare", "600.00"), ("transport", "300.00")],
             "other_debt_payments": [("credit_card", "300.00")]}
    for group, entries in lines.items():
        for n, (category, amount) in enumerate(entries):
            if n:
                page.click(f"[data-add-line={group}]")
            row = page.locator(f"#lines-{group} .line").nth(n)
            row.locator("select").select_option(category)
            row.locator("input").fill(amount)
    page.fill("#statement-dependants", "1")
    page.fill("#statement-gross", "10500.00")
    guidance = page.locator("#statement-guidance")
    expect(guidance).to_have_attribute("data-affordable", "1330.00")
    expect(guidance).to_have_text("每月可支配收入 ¥1,900.00。按政策，新的月供最多占其中的 70%，即 ¥1,330.00。")
    shoot(page, "portal-03-statement")
    page.click("#statement-save")
    expect(page.locator("#flash")).to_have_text("收支表已保存。")
    expect(page.locator("#statement")).to_have_attribute("data-recorded", "yes")

    # uploads from the phone: the termination letter as a photo, the registration as a PDF
    page.select_option("#upload-type", "termination_letter")
    page.set_input_files("#upload-file", {"name": "letter.png", "mimeType": "image/png", "buffer": PNG})
    page.click("#upload-submit")
    expect(page.locator("#flash")).to_have_text("材料已上传，等待审核。")
    page.select_option("#upload-type", "unemployment_registration")
    page.set_input_files("#upload-file", {"name": "registration.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.click("#upload-submit")
    expect(page.locator("#evidence li[data-doc-type=unemployment_registration]")).to_have_attribute("data-status", "pending")

    # the lender's agent reviews: the photo is refused with a reason, the PDF accepted
    with client("intake", role="agent", subject="agent-review") as api:
        documents = {d["document_type"]: d["document_id"] for d in api.get(f"/cases/{case_id}/evidence").json()}
        assert api.post(f"/cases/{case_id}/evidence/{documents['termination_letter']}/review",
                        json={"outcome": "reject", "reason": "照片模糊，请重新拍摄"}).status_code == 200
        assert api.post(f"/cases/{case_id}/evidence/{documents['unemployment_registration']}/review",
                        json={"outcome": "accept"}).status_code == 200
    page.click("#refresh")
    letter = page.locator("#evidence li[data-doc-type=termination_letter]")
    expect(letter).to_have_attribute("data-status", "rejected")
    expect(letter.locator(".error")).to_have_text("未通过：照片模糊，请重新拍摄")
    expect(page.locator("#evidence li[data-doc-type=unemployment_registration] .pill")).to_have_text("已通过")
    shoot(page, "portal-04-evidence")
    shoot_card(page, "#evidence", "portal-card-evidence")
    page.select_option("#upload-type", "termination_letter")
    page.set_input_files("#upload-file", {"name": "letter.pdf", "mimeType": "application/pdf",
                                          "buffer": PDF.replace(b"Catalog", b"Catalog /Lang (zh)")})
    page.click("#upload-submit")
    expect(letter).to_have_attribute("data-status", "pending")
    with client("intake", role="agent", subject="agent-review") as api:
        pending = [d for d in api.get(f"/cases/{case_id}/evidence").json() if d["status"] == "pending"]
        assert len(pending) == 1
        assert api.post(f"/cases/{case_id}/evidence/{pending[0]['document_id']}/review",
                        json={"outcome": "accept"}).status_code == 200
    page.click("#refresh")
    expect(page.locator("#case-head .pill")).to_have_text("可提交")
    page.click("#submit-case")
    expect(page.locator("#flash")).to_have_text("已提交，我们会尽快给您答复。")

    # the decision with its reasons in plain words, then the offers side by side
    reload_until(page, "#offer-compare [data-accept-offer]", errors)
    approve = page.locator("#decisions li[data-outcome=approve]")
    expect(approve.locator(".pill")).to_have_text("批准")
    with client("agreement", role="borrower", subject=username, borrower_id=borrower_id) as mine:
        offers = [mine.get(f"/offers/{o['offer_id']}").json() for o in mine.get(f"/cases/{case_id}/offers").json()]
    assert offers
    found = approve.locator("li[data-reason=affordable_plan_found]")
    expect(found.locator("b")).to_have_text("根据您的收支，找到了您可负担的还款方案。")
    # and its facts in Chinese: the waterfall's plan (the first offer) at its instalment, monthly
    waterfall = min(offers, key=lambda o: o["rank"])
    expect(found.locator(".reason-detail")).to_contain_text(zh_money(waterfall["new_instalment"]))
    expect(found.locator(".reason-detail")).to_contain_text("按月")
    for offer in offers:
        def cell(cls: str, offer_id: str = offer["offer_id"]) -> Locator:
            return page.locator(f"#offer-compare td.{cls}[data-offer='{offer_id}']")

        expect(cell("new-instalment")).to_have_text(zh_money(offer["new_instalment"]))
        expect(cell("term")).to_have_text(f"{offer['term_months']} 个月")
        # total payable: the sum of the offer's instalments
        total = sum((Decimal(i["total"]) for i in offer["schedule"]["instalments"]), Decimal("0"))
        expect(cell("total-payable")).to_have_text(zh_money(total))
        apr = (Decimal(offer["apr"]) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        expect(cell("apr")).to_have_text(f"{apr}%")
        expect(cell("waived")).to_have_text(zh_money(offer["waived_amount"] or "0.00"))
    no_overflow(page, "the offers")
    shoot(page, "portal-05-offers")
    shoot_card(page, "#offers", "portal-card-offers")
    shoot_card(page, "#statement", "portal-card-statement")

    # accept the first, then sign with the code sent to the phone (the dev mailbox)
    first = min(offers, key=lambda o: o["rank"])
    page.click(f"[data-accept-offer='{first['offer_id']}']")
    expect(page.locator("#sign-form")).to_be_visible()
    agreement_id = page.locator("#agreement").get_attribute("data-agreement")
    assert agreement_id
    page.click("#send-code")
    expect(page.locator("#flash")).to_have_text("验证码已发送到您的手机。")
    page.fill("#signing-code", signing_code(agreement_id))
    shoot(page, "portal-06-sign")
    page.click("#sign")
    expect(page.locator("#awaiting-lender")).to_have_text("等待贷款机构签署后协议生效。")
    with client("agreement", role="agent") as api:
        signatures = api.get(f"/agreements/{agreement_id}").json()["signatures"]
    assert [(s["party"], s["signed_role"], s["otp_verified"]) for s in signatures] == [("borrower", "borrower", True)]

    # the lender signs (a supervisor); the page, waiting, moves on to the schedule by itself
    with client("agreement", role="supervisor", subject="super-sign") as api:
        document = api.get(f"/agreements/{agreement_id}/document").json()
        signed = api.post(f"/agreements/{agreement_id}/signatures",
                          json={"party": "lender", "document_sha256": document["document_sha256"]})
        assert signed.status_code in (200, 201), signed.text
    expect(page.locator("#agreement-active")).to_be_visible(timeout=90_000)
    expect(page.locator("#schedule")).to_be_visible(timeout=90_000)
    schedule = first["schedule"]["instalments"]
    due = dt.date.fromisoformat(schedule[0]["due_date"])
    expect(page.locator("#next-due")).to_have_text(
        f"下一期：{zh_date(due)} 应还 {zh_money(schedule[0]['total'])}")
    expect(page.locator("#instalments tbody tr")).to_have_count(len(schedule))
    expect(page.locator("#payments")).to_have_text("暂无还款记录。")
    no_overflow(page, "the schedule")
    no_missing_words(page)
    shoot(page, "portal-07-schedule")
    shoot_card(page, "#agreement", "portal-card-agreement")

    # keep every record: the whole case file from the phone, its manifest hashing every file in it
    files = download_case_file(page, case_id, "borrower")
    with client("agreement", role="agent") as api:
        pdf = api.get(f"/agreements/{agreement_id}/document.pdf")
    assert files[f"agreements/{agreement_id}/agreement.pdf"] == pdf.content
    assert len([p for p in files if p.startswith("evidence/") and p != "evidence/index.json"]) >= 2

    # English on request, kept for the next visit
    page.select_option("#lang-switch", "en")
    expect(page.locator("#schedule h3").first).to_have_text("Repayment schedule")
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.locator("#next-due")).to_contain_text(en_date(due))
    page.reload()
    expect(page.locator("#case-title")).to_have_text("Hardship request: Lost my job")
    no_missing_words(page)
    shoot(page, "portal-08-schedule-en")
    assert errors == []


def test_a_borrower_on_a_phone_counter_proposes_and_reads_the_answer_in_plain_words(browser) -> None:
    from tests.e2e.journey import open_offers, ready_to_submit, submit

    # a submitted case of an unemployed borrower (tests/e2e/journey.py), approved with offers
    application = ready_to_submit()
    submit(application.borrower_id, application.case_id)
    offers = open_offers(application.case_id)
    username, password = register_borrower(application.borrower_id)

    page = new_page(browser, **PHONE)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(PORTAL_URL + "/")
    page.click("#login-submit")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#kc-login")
    expect(page.locator(f"#my-cases li[data-case='{application.case_id}'] .pill")).to_have_text("已批准")
    page.click(f"#my-cases li[data-case='{application.case_id}'] a")
    expect(page.locator("#offer-compare [data-accept-offer]")).to_have_count(len(offers))

    # none fits: the borrower says what they can pay instead of the first plan
    first = offers[0]
    page.select_option("#counter-offer", first["offer_id"])
    page.fill("#counter-instalment", "600.00")
    page.click("#counter-submit")
    expect(page.locator("#flash")).to_have_text("已提交您的方案，请等待答复。")
    expect(page.locator(f"#offer-compare td.status[data-offer='{first['offer_id']}'] .pill")).to_have_text("已还价")
    with client("agreement", role="agent") as api:
        countered = api.get(f"/offers/{first['offer_id']}").json()
    assert countered["status"] == "countered" and countered["counter_proposal"]["proposed_instalment"] == "600.00"

    # evaluation answers the proposal (a decision of its own); the page says why in plain words
    reload_until(page, "#decisions li[data-decision]:nth-child(2)", errors)
    with client("evaluation", role="agent") as api:
        decisions = api.get(f"/cases/{application.case_id}/decisions").json()["decisions"]
    answer = next(d for d in decisions if d["trigger"] == "counter_proposal")
    codes = {r["code"] for r in answer["reasons"]}
    assert codes & {"counter_proposal_met", "counter_proposal_declined"}
    words = {"counter_proposal_met": "已按您提出的方案重新制定。",
             "counter_proposal_declined": "您提出的方案无法接受，原方案仍可选择。"}
    for code in codes & set(words):
        answered = page.locator(f"#decisions li[data-decision='{answer['decision_id']}'] li[data-reason={code}]")
        expect(answered.locator("b")).to_have_text(words[code])
        # what was proposed, in the borrower's words and money: at most 600.00 a month
        expect(answered.locator(".reason-detail")).to_contain_text(zh_money("600.00"))
    no_overflow(page, "the answered proposal")
    no_missing_words(page)
    shoot(page, "portal-09-counter-proposal")
    assert errors == []

"""A live challenger on a stack of its own: cases split by id, each decided under its arm's policy.

The stack runs the test lender's policy with a challenger of half the new cases that asks a
smaller share of disposable income (0.5 where the champion asks 0.7). The journey's borrower has
900.00 a month disposable (tests/e2e/journey.py), so the champion's instalment may be up to
0.7 x 900.00 = 630.00 and the challenger's up to 0.5 x 900.00 = 450.00. The arm of each case is
recomputed here from the rule the policy reference states (SHA-256 of the case id), and the test
checks that every event of the case carries that arm and its version, that the decision and the
offers follow the arm's share, that a guard (the contact limit) holds on the challenger's cases
as on the champion's, and that the read model's KPIs and their gauges are split by version.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from forbear_shared.devstack import CONSOLE_PORT, CONSOLE_WORKER_METRICS_PORT, Stack
from playwright.sync_api import expect, sync_playwright
from prometheus_client.parser import text_string_to_metric_families

from tests.browser.test_console import CHROMIUM_ARGS, SUPERVISOR, log_in, new_page, no_missing_words, shoot
from tests.e2e import journey
from tests.support import calendar as test_calendar
from tests.support import http
from tests.support.infra import TestInfra, eventually, read_events, start_test_infra, stop_test_infra

pytestmark = pytest.mark.integration

#: a stack of its own beside the shared one; its console's port is one the demo realm lets the
#: console client return to (the browser test logs in at the identity provider)
CHALLENGER_OFFSET = http.PORT_OFFSET + 10000
CHAMPION_VERSION = test_calendar.policy().version
CHALLENGER_VERSION = "test-lender-challenger-half"
SHARE = Decimal("0.5")
CHALLENGER = f"""
[challenger]
version = "{CHALLENGER_VERSION}"
share = "{SHARE}"

[challenger.evaluation]
affordable_share_of_disposable_income = "0.5"
"""
SHARE_OF_INCOME = {"champion": Decimal("0.7"), "challenger": Decimal("0.5")}
WAIT = 90.0


def arm_of(case_id: str) -> str:
    point = int(hashlib.sha256(case_id.encode("utf-8")).hexdigest()[:16], 16)
    return "challenger" if Decimal(point) < SHARE * 2 ** 64 else "champion"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestInfra]:
    own = start_test_infra()
    policy_file = test_calendar.written_policy(test_calendar.policy_text() + CHALLENGER)
    stack = Stack(Path(tmp_path_factory.mktemp("challenger")), {**own.service_env(), "FORBEAR_POLICY_FILE": str(policy_file)},
                  port_offset=CHALLENGER_OFFSET)
    names = [n for n in stack.procs if n != "portal"]
    try:
        for name in names:
            stack.start(name)
        stack.wait_ready(names, timeout=WAIT)
        with http.serving_at(CHALLENGER_OFFSET):
            yield own
    finally:
        stack.down()
        stop_test_infra(own)


@pytest.fixture(scope="module")
def cases(live: TestInfra) -> dict[str, list[journey.Application]]:
    """Cases submitted until each arm has two (the arm of a new id is a fair coin at this share)."""
    by_arm: dict[str, list[journey.Application]] = {"champion": [], "challenger": []}
    for _ in range(40):
        if min(len(v) for v in by_arm.values()) >= 2:
            break
        application = journey.ready_to_submit()
        journey.submit(application.borrower_id, application.case_id)
        by_arm[arm_of(application.case_id)].append(application)
    assert min(len(v) for v in by_arm.values()) >= 2, {k: len(v) for k, v in by_arm.items()}
    return by_arm


def test_each_case_is_decided_under_its_arms_policy_and_its_offers_follow_that_arms_share(
        live: TestInfra, cases: dict[str, list[journey.Application]]) -> None:
    disposable = journey.disposable(journey.UNEMPLOYED_STATEMENT)
    assert disposable == Decimal("900.00")
    for arm, applications in cases.items():
        ceiling = (SHARE_OF_INCOME[arm] * disposable).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        for application in applications:
            [decision] = journey.decisions(application.case_id)
            assert decision["outcome"] == "approve", decision
            assert decision["policy_version"] == (CHALLENGER_VERSION if arm == "challenger" else CHAMPION_VERSION)
            offers = journey.open_offers(application.case_id)
            assert offers and all(Decimal(o["new_instalment"]) <= ceiling for o in offers), (arm, offers)
            if arm == "champion":
                # the arms differ: the champion's plan costs more a month than the challenger may ask
                assert max(Decimal(o["new_instalment"]) for o in offers) > SHARE_OF_INCOME["challenger"] * disposable


def test_every_event_of_a_case_carries_its_arm_and_the_version_its_producer_acted_under(
        live: TestInfra, cases: dict[str, list[journey.Application]]) -> None:
    ids = {a.case_id: arm for arm, applications in cases.items() for a in applications}
    for topic in ("intake.events", "evaluation.events", "agreement.events"):
        def seen(topic: str = topic) -> list[dict[str, Any]] | None:
            events = [e for e in read_events(live, topic, timeout=5) if e["case_id"] in ids]
            return events if {e["case_id"] for e in events} == set(ids) else None

        events = eventually(seen, timeout=WAIT)
        for event in events:
            arm = ids[event["case_id"]]
            assert event["policy_arm"] == arm, event["type"]
            assert event["policy_version"] == (CHALLENGER_VERSION if arm == "challenger" else CHAMPION_VERSION)
        if topic == "evaluation.events":
            decided = [e for e in events if e["type"] == "case.decided"]
            assert {e["case_id"] for e in decided} == set(ids)
            assert all(e["payload"]["policy_version"] == e["policy_version"] for e in decided)


def test_the_contact_limit_holds_on_the_challengers_cases_as_on_the_champions(
        live: TestInfra, cases: dict[str, list[journey.Application]]) -> None:
    attempts = test_calendar.policy().contact.max_attempts
    for arm in ("challenger", "champion"):
        case_id = cases[arm][0].case_id
        with http.client("intake", role="agent") as api:
            allowed = [api.post(f"/cases/{case_id}/contacts",
                                json={"party": "borrower", "channel": "phone", "local_time": "10:00"})
                       for _ in range(attempts)]
            over = api.post(f"/cases/{case_id}/contacts",
                            json={"party": "borrower", "channel": "phone", "local_time": "10:30"})
            third_party = api.post(f"/cases/{case_id}/contacts",
                                   json={"party": "phone_contact", "channel": "phone", "local_time": "11:00"})
        assert [r.status_code for r in allowed] == [201] * attempts, arm
        assert (over.status_code, over.json()["reason"]) == (422, "too_many_attempts"), arm
        assert (third_party.status_code, third_party.json()["reason"]) == (422, "party_not_allowed"), arm


def test_the_read_model_splits_every_kpi_by_policy_version(
        live: TestInfra, cases: dict[str, list[journey.Application]]) -> None:
    url = f"http://127.0.0.1:{CONSOLE_WORKER_METRICS_PORT + CHALLENGER_OFFSET}/metrics"
    expected = {(CHAMPION_VERSION, "champion"): len(cases["champion"]),
                (CHALLENGER_VERSION, "challenger"): len(cases["challenger"])}

    def split() -> dict[tuple[str, str, str, str], float] | None:
        values = {}
        for family in text_string_to_metric_families(httpx.get(url, timeout=5).text):
            for sample in family.samples:
                if sample.name == "forbear_kpi_by_policy":
                    labels = sample.labels
                    values[(labels["policy_version"], labels["arm"], labels["kpi"], labels["key"])] = sample.value
        decided = {(v, a): n for (v, a, kpi, key), n in values.items() if kpi == "funnel_cases" and key == "decided"}
        assert decided == expected, decided
        return values

    values = eventually(split, timeout=WAIT)
    for (version, arm), count in expected.items():
        assert values[(version, arm, "funnel_cases", "opened")] == count
        assert values[(version, arm, "rate", "approval")] == 1.0
    # the read model's rows say the same, and every case has its arm
    with live.connect("console") as conn:
        rows = conn.execute("select case_id, policy_version, policy_arm from rm_case").fetchall()
    ids = {a.case_id: arm for arm, applications in cases.items() for a in applications}
    assert {r["case_id"]: r["policy_arm"] for r in rows} == ids
    assert all(re.fullmatch(CHALLENGER_VERSION if r["policy_arm"] == "challenger" else CHAMPION_VERSION,
                            r["policy_version"]) for r in rows)


@pytest.mark.browser
def test_the_policies_page_puts_the_arms_and_their_kpis_side_by_side_in_chinese_and_english(
        live: TestInfra, cases: dict[str, list[journey.Application]]) -> None:
    console = f"http://127.0.0.1:{CONSOLE_PORT + CHALLENGER_OFFSET}"
    decided = {arm: len(applications) for arm, applications in cases.items()}
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            page = new_page(chromium)
            log_in(page, SUPERVISOR, lang="zh-CN", url=console)
            page.click("a[data-nav=policies]")
            expect(page.locator("a[data-nav=policies]")).to_have_text("政策对照")

            def both_arms_decided() -> dict[str, Any] | None:
                shown = page.request.get(console + "/policies").json()
                counts = {a["arm"]: a["kpis"]["funnel"][2]["count"] for a in shown["arms"]}
                assert counts == decided, counts
                return shown

            shown = eventually(both_arms_decided, timeout=WAIT)
            page.reload()
            arms = page.locator("#policy-arms tbody tr")
            expect(arms).to_have_count(2)
            # the arms as the policy file names them: 50 % each, and the cases each has
            expect(page.locator("#policy-arms tr[data-arm=champion] td")).to_have_text(
                ["冠军策略", CHAMPION_VERSION, "50%", str(decided["champion"]), re.compile(r"\d+\.\d%")])
            expect(page.locator("#policy-arms tr[data-arm=challenger] td")).to_have_text(
                ["挑战策略", CHALLENGER_VERSION, "50%", str(decided["challenger"]), re.compile(r"\d+\.\d%")])
            # every case of both arms was approved: 100 % of n on each side, a difference of 0.0 points
            approval = page.locator("#policy-kpis tr[data-kpi=approval] td")
            expect(approval).to_have_text([
                "批准率", f"100.0% {decided['champion']}/{decided['champion']}",
                f"100.0% {decided['challenger']}/{decided['challenger']}", re.compile(r"^0\.0%（-?\d+\.\d% 至 \+?\d+\.\d%）$")])
            interval = next(r for r in shown["comparison"] if r["kpi"] == "approval")["interval"]
            cell = page.locator("#policy-kpis tr[data-kpi=approval] td span[data-low]")
            expect(cell).to_have_attribute("data-low", str(interval["low"]))
            expect(cell).to_have_attribute("data-high", str(interval["high"]))
            assert interval["low"] < 0 < interval["high"]  # two small arms that agree: no difference shown
            expect(page.locator("#policy-kpis tr[data-kpi=cases_opened] td")).to_have_text(
                ["受理案件", str(decided["champion"]), str(decided["challenger"]), ""])
            no_missing_words(page)
            shoot(page, "zh-06-policies")

            page.select_option("#lang-switch", "en")
            expect(page.locator("#main > h2")).to_contain_text("Policies: champion and challenger")
            expect(page.locator("#policy-arms tr[data-arm=challenger] td").first).to_have_text("challenger")
            expect(page.locator("#policy-kpis tr[data-kpi=approval] td").first).to_have_text("approval rate")
            no_missing_words(page)
        finally:
            chromium.close()

"""The timeline's lines: each event's line is a catalogue key with its arguments (readmodel/rules.py),
written by the page in the reader's language. Every line of every event type the read model can
meet (the contract's golden events) has words in both catalogues with exactly the line's
placeholders, and every code a line carries has words in both languages."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from forbear_console.readmodel import rules
from forbear_intake.domain.personal_data import RULE as ERASURE_RULE
from forbear_monitoring.domain.dual_tracking import PendingKind
from forbear_shared.events.schemas.agreement import OfferWithdrawn
from forbear_shared.events.schemas.monitoring import CreditStandingUpdated

from tests.support import catalogues
from tests.support.catalogues import CJK, PLACEHOLDER, STATIC, golden_payloads
from tests.support.catalogues import phrase_parts as parts


def test_every_line_type_is_an_event_the_contract_has() -> None:
    assert set(rules.LINE_TYPES) <= {event_type for event_type, _ in golden_payloads()}


@pytest.mark.parametrize("lang", catalogues.LANGUAGES)
@pytest.mark.parametrize("event_type, payload", golden_payloads(), ids=lambda v: v if isinstance(v, str) else "")
def test_each_events_line_has_words_with_exactly_its_placeholders(event_type: str, payload: dict[str, Any],
                                                                   lang: str) -> None:
    words = catalogues.catalogue(STATIC, lang)
    for key, args in parts(*rules.line(event_type, payload)):
        assert key in words, key
        assert set(PLACEHOLDER.findall(words[key])) == set(args), key
    written = rules.render(*rules.line(event_type, payload), words)
    assert "{" not in written and written.strip()


def test_a_line_in_chinese_is_written_in_chinese() -> None:
    zh = catalogues.catalogue(STATIC, "zh-CN")
    written = rules.render(*rules.line("agreement.escalated", {
        "from_level": "reminder", "to_level": "warning", "days_past_due": 12, "remedy_deadline": "2026-03-20"}), zh)
    assert written == "还款提醒 → 逾期警告（逾期 12 天），须于 2026-03-20 前补救"
    assert CJK.search(rules.render(*rules.line("case.opened", {
        "hardship_category": "illness", "channel": "phone", "dpd_at_first_contact": 20, "loan_ids": ["L1"]}), zh))


def test_an_optional_part_is_left_out_when_the_event_lacks_it() -> None:
    assert rules.summary("notice.requested", {"level": "warning", "days_past_due": 35}) == "warning notice, 35 DPD"
    assert rules.summary("notice.requested", {"level": "breach_notice", "days_past_due": 65,
                                              "remedy_deadline": "2026-04-30"}) == (
        "breach notice notice, 65 DPD, remedy by 2026-04-30")


def test_the_arguments_keep_amounts_and_dates_as_they_came_for_the_page_to_format() -> None:
    key, args = rules.line("promise.kept", {"paid": "1500.00", "amount": "1500.00", "currency": "CNY",
                                            "due_date": "2026-03-16"})
    assert key == "line.promise.kept"
    assert args == {"paid": {"money": "1500.00", "currency": "CNY"}, "amount": {"money": "1500.00", "currency": "CNY"},
                    "due": {"date": "2026-03-16"}}
    # long digit runs in a string argument are masked, as in the summary
    _, masked = rules.line("renegotiation.requested", {"agreement_id": "13800138000"})
    assert masked == {"agreement": "*******8000"}


@pytest.mark.parametrize("group, values", [
    ("erasure_rule", [ERASURE_RULE]),
    ("withdrawn", list(get_args(OfferWithdrawn.model_fields["reason"].annotation))),
    ("hold_reason", [f"pending_{k.value}" for k in PendingKind]),
    ("standing", list(get_args(CreditStandingUpdated.model_fields["standing"].annotation))),
])
def test_the_codes_only_lines_carry_have_words_in_both_languages(group: str, values: list[str]) -> None:
    assert values
    for lang in catalogues.LANGUAGES:
        words = catalogues.catalogue(STATIC, lang)
        assert [v for v in values if f"{group}.{v}" not in words] == []


def test_every_code_group_a_line_carries_is_one_the_catalogues_know() -> None:
    en = catalogues.catalogue(STATIC, "en")
    groups = {k.split(".", 1)[0] for k in en}
    used = catalogues.line_groups() - {"line", "line_part"}
    assert {"hardship", "level", "document", "withdrawn", "hold_reason"} <= used <= groups

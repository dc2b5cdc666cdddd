"""The console's words: every operator-facing text comes from its message catalogues
(static/i18n/zh-CN.json, en.json), in both languages, and nothing the page shows is written
anywhere else. The same walk as the portal's (tests/support/catalogues.py's scanner): the page's
``data-i18n`` elements, the scripts' ``t("key")``, and the codes ``term``/``pill`` translate
against the codes the services send (statuses, reasons, document types, levels, queues, ...).
"""

from __future__ import annotations

import re
from typing import get_args

import pytest
from forbear_agreement.domain.document import PaymentMethod
from forbear_console.kpis import FUNNEL_STAGES
from forbear_console.readmodel import queries
from forbear_console.readmodel.rules import QUEUES as CASE_QUEUES
from forbear_evaluation.service_layer.views import AppealStatus
from forbear_intake.domain.contact_rules import ContactRefusal
from forbear_monitoring.domain.early_warning import WatchState
from forbear_monitoring.domain.promises import PromiseStatus
from forbear_shared.auth import ROLES
from forbear_shared.domain.policy import ContactParty, LegalRoute, RepresentativeKind
from forbear_shared.domain.representatives import RepresentativeScope
from forbear_shared.events import registry
from forbear_shared.events.schemas.common import Channel

from tests.support import catalogues
from tests.support.catalogues import SERVICE_CODES as CODES
from tests.support.catalogues import STATIC, js_tokens

#: the console's helper that hands its first argument to t(): act("key", ...) (what a done action says)
HELPERS = ("act",)


def catalogue(lang: str) -> dict[str, str]:
    return catalogues.catalogue(STATIC, lang)


def script() -> str:
    return catalogues.script(STATIC / "console.js")


def page_queues() -> list[str]:
    """The ids of the queues the queue page lists (console.js's QUEUES)."""
    block = re.search(r"const QUEUES = \(\) => \[(.*?)\n\];", script(), re.S)
    assert block
    return re.findall(r'^  \{ id: "([a-z-]+)"', block.group(1), re.M)


def test_both_catalogues_have_the_same_keys_every_text_filled_and_the_same_placeholders() -> None:
    assert catalogues.catalogue_faults(STATIC) == []


def test_a_catalogue_fault_is_seen(tmp_path) -> None:
    # the check above can fail: a key in one catalogue only, a placeholder renamed, English left in zh-CN
    (tmp_path / "i18n").mkdir()
    (tmp_path / "i18n" / "zh-CN.json").write_text('{"a": "{n} 天", "b": "left in english here", "c": "好"}', encoding="utf-8")
    (tmp_path / "i18n" / "en.json").write_text('{"a": "{days} days", "b": "left in english here"}', encoding="utf-8")
    assert catalogues.catalogue_faults(tmp_path) == ["only in one: c", "placeholders differ: a", "zh-CN in English: b"]


def test_every_key_the_page_and_the_script_name_is_in_both_catalogues_and_none_is_left_over() -> None:
    used, faults = catalogues.key_faults(STATIC, script(), HELPERS,
                                          catalogues.line_groups() | catalogues.REASON_GROUPS | catalogues.OFFER_GROUPS)
    assert len(used) > 250  # the scanner found the script's keys
    assert faults == []


@pytest.mark.parametrize("group, codes", [
    ("status", CODES["case_status"]),
    ("hardship", CODES["hardship"]),
    ("document", CODES["document"]),
    ("doc_status", CODES["review_status"]),
    ("outcome", CODES["outcome"]),
    ("reason", CODES["reason"]),
    ("option", CODES["option"]),
    ("offer_status", CODES["offer_status"]),
    ("agreement_status", CODES["agreement_status"]),
    ("appeal_status", list(get_args(AppealStatus))),
    ("level", CODES["level"]),
    ("early_warning", [w.value for w in WatchState]),
    ("instalment", CODES["instalment"]),
    ("promise_status", [p.value for p in PromiseStatus]),
    ("party", [p.value for p in ContactParty] + ["representative", "lender"]),
    ("channel", list(get_args(Channel)) + ["sms"]),
    ("contact_outcome", ["allowed", "refused"]),
    ("contact_refusal", [r.value for r in ContactRefusal]),
    ("representative_kind", [k.value for k in RepresentativeKind]),
    ("scope", [s.value for s in RepresentativeScope]),
    ("payment_method", [m.value for m in PaymentMethod]),
    ("payment_source", ["corebanking", "manual"]),
    ("route", [r.value for r in LegalRoute]),
    ("role", list(ROLES)),
    ("queue", page_queues()),
    ("case_queue", list(CASE_QUEUES)),
    ("funnel", list(FUNNEL_STAGES)),
    ("event", sorted({event_type for event_type, _ in registry.types()})),
])
def test_every_code_the_services_send_has_words_in_both_languages(group: str, codes: list[str]) -> None:
    assert catalogues.codes_without_words(STATIC, script(), group, codes) == []


def test_every_queue_the_page_lists_is_a_read_model_queue() -> None:
    listed = page_queues()
    assert len(listed) == 11 and set(listed) <= set(queries.QUEUES)


def test_the_page_has_no_text_outside_the_catalogue() -> None:
    parsed = catalogues.page(STATIC)
    assert parsed.loose == []
    assert parsed.filled == []


# literals the script may hold that are not words for the operator: its strict mode, HTTP header names
NOT_WORDS = {"use strict", "Accept", "Content-Type", "X-Requested-With", "Idempotency-Key"}


def test_the_script_writes_no_words_of_its_own() -> None:
    strings, _ = js_tokens(script())
    assert len(strings) > 800  # the scanner read the scripts
    assert catalogues.prose(strings, NOT_WORDS) == []


def test_the_stylesheet_puts_the_cjk_font_first() -> None:
    css = (STATIC / "console.css").read_text(encoding="utf-8")
    first = re.search(r"font-family:\s*([^,;]+)", css)
    assert first and first.group(1).strip('"') == "WenQuanYi Micro Hei"

"""The portal's words: every borrower-facing text comes from its message catalogues, in both
languages, and nothing the page shows is written anywhere else.

The catalogues (static/portal/i18n/zh-CN.json, en.json) are walked against the page
(index.html: ``data-i18n`` elements) and the scripts (static/common/*.js and portal.js:
``t("key")``, and the codes ``term("group", code)`` translates), and against the codes the
services send for those groups (hardship categories, document types, statuses, reasons, options,
levels). The scanner is tests/support/catalogues.py's, shared with the console's walk.
"""

from __future__ import annotations

import re

import pytest

from tests.support import catalogues
from tests.support.catalogues import LANGUAGES, STATIC, js_tokens
from tests.support.catalogues import SERVICE_CODES as CODES

PORTAL = STATIC / "portal"
#: the helpers of portal.js that hand their first argument to t(): act("key", ...) (what a done
#: action says), row("key", ...) (an offer row)
HELPERS = ("act", "row")


def catalogue(lang: str) -> dict[str, str]:
    return catalogues.catalogue(PORTAL, lang)


def script() -> str:
    return catalogues.script(PORTAL / "portal.js")


def static_keys() -> set[str]:
    return catalogues.static_keys(script(), HELPERS)


def dynamic_groups() -> set[str]:
    return catalogues.dynamic_groups(script())


def page() -> catalogues.PageText:
    return catalogues.page(PORTAL)


def test_both_catalogues_have_the_same_keys_every_text_filled_and_the_same_placeholders() -> None:
    # Chinese first: the zh-CN catalogue speaks Chinese (a sentence in it without a CJK
    # character was left in English); en speaks English
    assert catalogues.catalogue_faults(PORTAL) == []


def test_every_key_the_page_and_the_script_name_is_in_both_catalogues_and_none_is_left_over() -> None:
    used, faults = catalogues.key_faults(PORTAL, script(), HELPERS, catalogues.REASON_GROUPS)
    assert len(used) > 100  # the scanner found the script's keys
    assert faults == []


@pytest.mark.parametrize("group, codes", [
    ("hardship", CODES["hardship"]),
    ("document", CODES["document"]),
    ("status", CODES["case_status"]),
    ("status_help", CODES["case_status"]),
    ("outcome", CODES["outcome"]),
    ("outcome_help", CODES["outcome"]),
    ("reason", CODES["reason"]),
    ("option", CODES["option"]),
    ("offer_status", CODES["offer_status"]),
    ("agreement_status", CODES["agreement_status"]),
    ("level", CODES["level"]),
    ("evidence", CODES["review_status"] + ["missing"]),
    ("instalment", CODES["instalment"]),
])
def test_every_code_the_services_send_has_words_in_both_languages(group: str, codes: list[str]) -> None:
    assert catalogues.codes_without_words(PORTAL, script(), group, codes) == []


def test_the_statement_line_categories_of_the_script_have_words() -> None:
    block = re.search(r"const LINE_CATEGORIES = \{(.*?)\};", script(), re.S)
    assert block
    categories = re.findall(r'"([a-z_]+)"', block.group(1))
    groups = re.findall(r"^\s*([a-z_]+):", block.group(1), re.M)
    assert len(categories) >= 10 and groups == ["income", "essential_expenditure", "other_debt_payments"]
    for lang in LANGUAGES:
        words = catalogue(lang)
        assert [c for c in categories if f"line.{c}" not in words] == []
        assert [g for g in groups if f"statement.{g}" not in words] == []


def test_the_page_has_no_text_outside_the_catalogue() -> None:
    parsed = page()
    assert parsed.loose == []   # every text node and labelling attribute is a data-i18n element's
    assert parsed.filled == []  # which the script fills in (empty in the file)


# literals the script may hold that are not words for the borrower: its strict mode, HTTP header names
NOT_WORDS = {"use strict", "Accept", "Content-Type", "X-Requested-With", "Idempotency-Key"}


def test_the_script_writes_no_words_of_its_own() -> None:
    strings, _ = js_tokens(script())
    assert len(strings) > 200  # the scanner read the script
    assert catalogues.prose(strings, NOT_WORDS) == []


def test_the_scanner_would_see_a_literal_sentence() -> None:
    # the check above can fail: a sentence or a capitalised word in a literal is caught
    strings, _ = js_tokens('h("p", {}, "Your request is open"); h("b", {}, `Hello ${name}`); // "not this"\n')
    assert strings == ["p", "Your request is open", "b", "Hello \0"]

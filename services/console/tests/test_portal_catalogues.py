"""The portal's words: every borrower-facing text comes from its message catalogues, in both
languages, and nothing the page shows is written anywhere else.

The catalogues (static/portal/i18n/zh-CN.json, en.json) are walked against the page
(index.html: ``data-i18n`` elements) and the script (portal.js: ``t("key")``, and the codes
``term("group", code)`` translates), and against the codes the services send for those groups
(hardship categories, document types, statuses, reasons, options, levels).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import get_args

import pytest
from forbear_agreement.service_layer.views import AgreementStatusName, OfferStatusName
from forbear_evaluation.domain.counter_proposal import COUNTER_DECLINED, COUNTER_MET
from forbear_evaluation.domain.evaluate import Outcome, ReasonCode
from forbear_evaluation.domain.restructuring import OptionKind
from forbear_intake.domain.case_status import CaseStatus
from forbear_monitoring.domain.escalation import Stage
from forbear_shared.domain.hardship import DocumentType, HardshipCategory, ReviewStatus

PORTAL = Path(__file__).resolve().parents[1] / "forbear_console" / "static" / "portal"
LANGUAGES = ("zh-CN", "en")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def catalogue(lang: str) -> dict[str, str]:
    return json.loads((PORTAL / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def script() -> str:
    """portal.js without its comments (which may quote keys and words)."""
    source = (PORTAL / "portal.js").read_text(encoding="utf-8")
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    return re.sub(r"(^|\s)//.*$", "", source, flags=re.M)


def js_tokens(source: str) -> tuple[list[str], list[str]]:
    """The script's string literals (template literals' text parts included) and its code with
    comments and strings removed. A small scanner: the portal's regular expressions hold no quote."""
    strings: list[str] = []
    code: list[str] = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if source.startswith("//", i):
            i = source.find("\n", i)
            i = n if i < 0 else i
        elif source.startswith("/*", i):
            i = source.index("*/", i) + 2
        elif c in "\"'`":
            j, text = i + 1, []
            while source[j] != c:
                if source[j] == "\\":
                    text.append(source[j:j + 2])
                    j += 2
                elif c == "`" and source.startswith("${", j):
                    depth, j = 1, j + 2
                    start = j
                    while depth:
                        depth += {"{": 1, "}": -1}.get(source[j], 0)
                        j += 1
                    code.append(source[start:j - 1])
                    text.append("\0")  # where an interpolation was
                else:
                    text.append(source[j])
                    j += 1
            strings.append("".join(text))
            code.append(" STR ")
            i = j + 1
        else:
            code.append(c)
            i += 1
    return strings, code


def static_keys() -> set[str]:
    """Keys the script names whole: t("key", ...), and the first argument of the helpers that
    hand it to t(): act("key", ...) (what a done action says), row("key", ...) (an offer row)."""
    return set(re.findall(r"""\b(?:t|act|row)\(\s*"([a-z_.\-A-Z]+)"\s*[,)]""", script()))


def dynamic_groups() -> set[str]:
    """Groups whose keys the script makes from a code: term("group", code), pill("group", code),
    t(`group.${code}`)."""
    source = script()
    groups = set(re.findall(r"""\b(?:term|pill)\(\s*"([a-z_]+)"\s*,""", source))
    groups |= set(re.findall(r"\bt\(\s*`([a-z_]+)\.\$\{", source))
    groups |= set(re.findall(r"`(error)\.\$\{", source))
    return groups


class PageText(HTMLParser):
    """index.html's text outside elements whose words come from the catalogue, and its keys."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: set[str] = set()
        self.loose: list[str] = []
        self.filled: list[str] = []
        self._stack: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        for attribute in ("data-i18n", "data-i18n-aria-label"):
            if named.get(attribute):
                self.keys.add(str(named[attribute]))
        for attribute in ("placeholder", "aria-label", "title", "alt"):
            if named.get(attribute):
                self.loose.append(f"{tag}[{attribute}]={named[attribute]}")
        if tag not in ("meta", "link", "input", "br", "img"):
            self._stack.append("data-i18n" in named)

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("meta", "link", "input", "br", "img") and self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if data.strip():
            (self.filled if self._stack and self._stack[-1] else self.loose).append(data.strip())


def page() -> PageText:
    parsed = PageText()
    parsed.feed((PORTAL / "index.html").read_text(encoding="utf-8"))
    return parsed


def test_both_catalogues_have_the_same_keys_every_text_filled_and_the_same_placeholders() -> None:
    zh, en = catalogue("zh-CN"), catalogue("en")
    assert sorted(set(zh) ^ set(en)) == []
    for key in zh:
        assert zh[key].strip() and en[key].strip(), key
        assert sorted(PLACEHOLDER.findall(zh[key])) == sorted(PLACEHOLDER.findall(en[key])), key
    # Chinese first: the zh-CN catalogue speaks Chinese (a sentence in it without a CJK
    # character was left in English); en speaks English
    untranslated = [k for k, v in zh.items() if re.search(r"[a-z]{3,} [a-z]{3,}", v) and not CJK.search(v)]
    assert untranslated == []
    assert [k for k, v in en.items() if CJK.search(v) and k != "lang.zh-CN"] == []


def test_every_key_the_page_and_the_script_name_is_in_both_catalogues() -> None:
    used = static_keys() | page().keys
    assert len(used) > 100  # the scanner found the script's keys
    for lang in LANGUAGES:
        assert sorted(used - set(catalogue(lang))) == [], lang
    # and nothing in the catalogue is left over: a key is named whole, or belongs to a group
    # the script translates codes of
    groups = dynamic_groups()
    stale = [k for k in catalogue("en") if k not in used and k.split(".", 1)[0] not in groups]
    assert stale == []


@pytest.mark.parametrize("group, codes", [
    ("hardship", [c.value for c in HardshipCategory]),
    ("document", [d.value for d in DocumentType]),
    ("status", [s.value for s in CaseStatus]),
    ("status_help", [s.value for s in CaseStatus]),
    ("outcome", [o.value for o in Outcome]),
    ("outcome_help", [o.value for o in Outcome]),
    ("reason", [r.value for r in ReasonCode] + [COUNTER_MET, COUNTER_DECLINED]),
    ("option", [o.value for o in OptionKind]),
    ("offer_status", list(get_args(OfferStatusName))),
    ("agreement_status", list(get_args(AgreementStatusName))),
    ("level", [s.value for s in Stage]),
    ("evidence", [s.value for s in ReviewStatus] + ["missing"]),
    # forbear_monitoring.domain.standing.instalment_status's answers
    ("instalment", ["paid", "paid_late", "missed", "partially_paid", "due", "upcoming"]),
])
def test_every_code_the_services_send_has_words_in_both_languages(group: str, codes: list[str]) -> None:
    assert group in dynamic_groups()
    for lang in LANGUAGES:
        words = catalogue(lang)
        assert [c for c in codes if f"{group}.{c}" not in words] == [], lang


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
    prose = [s for s in strings if s not in NOT_WORDS and (
        CJK.search(s) or re.search(r"\b[A-Za-z]{2,}[,.!?]? +[A-Za-z]{2,}\b", s) or re.fullmatch(r"[A-Z][a-z]+.*", s))]
    assert prose == []


def test_the_scanner_would_see_a_literal_sentence() -> None:
    # the check above can fail: a sentence or a capitalised word in a literal is caught
    strings, _ = js_tokens('h("p", {}, "Your request is open"); h("b", {}, `Hello ${name}`); // "not this"\n')
    assert strings == ["p", "Your request is open", "b", "Hello \0"]

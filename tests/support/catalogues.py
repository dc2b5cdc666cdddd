"""The message catalogues of the console's and the portal's pages, walked against the pages:
one scanner for both (their index.html's ``data-i18n`` elements, their scripts' ``t("key")`` and
the codes ``term("group", code)`` / ``pill("group", code)`` translate), and the checks both share."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, get_args

from forbear_agreement.service_layer.views import AgreementStatusName, OfferStatusName
from forbear_evaluation.domain.counter_proposal import COUNTER_DECLINED, COUNTER_MET
from forbear_evaluation.domain.evaluate import Outcome, ReasonCode
from forbear_evaluation.domain.restructuring import OptionKind
from forbear_intake.domain.case_status import CaseStatus
from forbear_monitoring.domain.escalation import Stage
from forbear_shared.domain.hardship import DocumentType, HardshipCategory, ReviewStatus

STATIC = Path(__file__).resolve().parents[2] / "services" / "console" / "forbear_console" / "static"
#: the scripts both pages load before their own (static/common/)
COMMON_SCRIPTS = (STATIC / "common" / "dom.js", STATIC / "common" / "i18n.js")
LANGUAGES = ("zh-CN", "en")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
#: the attributes loadLanguage() fills from the catalogue, and the ones a person reads
#: the codes the services send that both pages translate, by what they are
SERVICE_CODES: dict[str, list[str]] = {
    "case_status": [s.value for s in CaseStatus],
    "hardship": [c.value for c in HardshipCategory],
    "document": [d.value for d in DocumentType],
    "review_status": [s.value for s in ReviewStatus],
    "outcome": [o.value for o in Outcome],
    "reason": [r.value for r in ReasonCode] + [COUNTER_MET, COUNTER_DECLINED],
    "option": [o.value for o in OptionKind],
    "offer_status": list(get_args(OfferStatusName)),
    "agreement_status": list(get_args(AgreementStatusName)),
    "level": [s.value for s in Stage],
    # forbear_monitoring.domain.standing.instalment_status's answers
    "instalment": ["paid", "paid_late", "missed", "partially_paid", "due", "upcoming"],
}
I18N_ATTRIBUTES = ("data-i18n", "data-i18n-aria-label", "data-i18n-placeholder", "data-i18n-title")
READ_ATTRIBUTES = ("placeholder", "aria-label", "title", "alt")


def catalogue(folder: Path, lang: str) -> dict[str, str]:
    return json.loads((folder / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def without_comments(source: str) -> str:
    """A script without its comments (which may quote keys and words)."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    return re.sub(r"(^|\s)//.*$", "", source, flags=re.M)


def script(*paths: Path) -> str:
    """The page's scripts, the common ones first, without comments."""
    return "\n".join(without_comments(p.read_text(encoding="utf-8")) for p in (*COMMON_SCRIPTS, *paths))


def js_tokens(source: str) -> tuple[list[str], list[str]]:
    """The script's string literals (template literals' text parts included) and its code with
    comments and strings removed. A small scanner: the pages' regular expressions hold no quote."""
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


def static_keys(source: str, helpers: tuple[str, ...]) -> set[str]:
    """Keys the script names whole: t("key", ...), and the first argument of the page's helpers
    that hand it to t() (``helpers``, e.g. act("key", ...): what a done action says)."""
    names = "|".join(("t", *helpers))
    return set(re.findall(rf"""\b(?:{names})\(\s*"([a-z_.\-A-Z0-9]+)"\s*[,)]""", source))


def dynamic_groups(source: str) -> set[str]:
    """Groups whose keys the script makes from a code: term("group", code), pill("group", code),
    t(`group.${code}`)."""
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
        for attribute in I18N_ATTRIBUTES:
            if named.get(attribute):
                self.keys.add(str(named[attribute]))
        for attribute in READ_ATTRIBUTES:
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


def page(folder: Path) -> PageText:
    parsed = PageText()
    parsed.feed((folder / "index.html").read_text(encoding="utf-8"))
    return parsed


def catalogue_faults(folder: Path) -> list[str]:
    """What is wrong between the two catalogues: keys in one only, an empty text, placeholders that
    differ, a zh-CN sentence without a CJK character (left in English), CJK in the English one."""
    zh, en = catalogue(folder, "zh-CN"), catalogue(folder, "en")
    faults = [f"only in one: {k}" for k in sorted(set(zh) ^ set(en))]
    for key in sorted(set(zh) & set(en)):
        if not (zh[key].strip() and en[key].strip()):
            faults.append(f"empty: {key}")
        if sorted(PLACEHOLDER.findall(zh[key])) != sorted(PLACEHOLDER.findall(en[key])):
            faults.append(f"placeholders differ: {key}")
        if re.search(r"[a-z]{3,} [a-z]{3,}", zh[key]) and not CJK.search(zh[key]):
            faults.append(f"zh-CN in English: {key}")
        if CJK.search(en[key]) and key != "lang.zh-CN":
            faults.append(f"en in Chinese: {key}")
    return faults


def prose(strings: list[str], not_words: set[str]) -> list[str]:
    """The literals that read as words for a person: CJK, two words, a capitalised word."""
    return [s for s in strings if s not in not_words and (
        CJK.search(s) or re.search(r"\b[A-Za-z]{2,}[,.!?]? +[A-Za-z]{2,}\b", s) or re.fullmatch(r"[A-Z][a-z]+.*", s))]


# -- how the pages write money and dates (Intl's formats, written out by hand for the tests) ----------


def zh_money(amount: object) -> str:
    """How zh-CN writes an amount of yuan: ¥ and thousands separators, 2 places."""
    return f"¥{Decimal(str(amount)):,.2f}"


def en_money(amount: object) -> str:
    """How en writes an amount of yuan: CN¥ and thousands separators, 2 places."""
    return f"CN¥{Decimal(str(amount)):,.2f}"


def zh_date(day: dt.date) -> str:
    """A date in zh-CN's long form: 2026年1月9日."""
    return f"{day.year}年{day.month}月{day.day}日"


def en_date(day: dt.date) -> str:
    """A date in en's long form: January 9, 2026."""
    return f"{day.strftime('%B')} {day.day}, {day.year}"


def key_faults(folder: Path, source: str, helpers: tuple[str, ...],
               data_groups: frozenset[str] = frozenset()) -> tuple[set[str], list[str]]:
    """The keys the page and its scripts name whole, and what is wrong with them: a key missing
    from a catalogue, or a catalogue's key left over (neither named whole nor of a group whose
    codes the script translates, nor of ``data_groups``, the groups the data names: the timeline's
    lines)."""
    used = static_keys(source, helpers) | page(folder).keys
    faults = [f"missing in {lang}: {k}" for lang in LANGUAGES for k in sorted(used - set(catalogue(folder, lang)))]
    groups = dynamic_groups(source) | data_groups
    faults += [f"left over: {k}" for k in catalogue(folder, "en") if k not in used and k.split(".", 1)[0] not in groups]
    return used, faults


def codes_without_words(folder: Path, source: str, group: str, codes: list[str]) -> list[str]:
    """The codes of ``group`` that a catalogue has no words for (and the group must be one the
    script translates codes of)."""
    assert codes and group in dynamic_groups(source), group
    return [f"{lang}: {group}.{c}" for lang in LANGUAGES for c in codes if f"{group}.{c}" not in catalogue(folder, lang)]


def zh_short_date(day: dt.date) -> str:
    """A date in a table's cell, zh-CN's numeric form: 2026/1/9."""
    return f"{day.year}/{day.month}/{day.day}"


def en_short_date(day: dt.date) -> str:
    """A date in a table's cell, en's numeric form: 1/9/2026."""
    return f"{day.month}/{day.day}/{day.year}"


GOLDEN = Path(__file__).resolve().parents[1] / "contract" / "golden"


def golden_payloads() -> list[tuple[str, dict[str, Any]]]:
    """(type, payload) of each golden event of the contract tests: one of every type and version."""
    found = []
    for path in sorted(GOLDEN.glob("*.json")):
        event = json.loads(path.read_text(encoding="utf-8"))["event"]
        found.append((event["type"], event["payload"]))
    return found


def phrase_parts(key: str, args: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A phrase (forbear_shared.phrasing: a timeline line, a reason) and every optional part
    inside it, each with its own arguments."""
    found = [(key, args)]
    for value in args.values():
        if isinstance(value, dict) and "line" in value:
            found += phrase_parts(value["line"], value["args"])
    return found


def phrase_codes(args: dict[str, Any]) -> set[str]:
    """The catalogue keys (``group.code``) of every code a phrase's arguments carry, parts included."""
    keys = set()
    for value in args.values():
        if isinstance(value, dict) and "code" in value:
            keys.add(f"{value['code']}.{value['value']}")
        elif isinstance(value, dict) and "codes" in value:
            keys |= {f"{value['codes']}.{v}" for v in value["values"]}
        elif isinstance(value, dict) and "line" in value:
            keys |= phrase_codes(value["args"])
    return keys


def _line_codes(args: dict[str, Any]) -> set[str]:
    return {key.split(".", 1)[0] for key in phrase_codes(args)}


#: the catalogue groups evaluation's reasons name in their phrases (their keys' and their codes'
#: groups; services/evaluation/tests/test_reason_phrases.py checks the reasons name no other)
REASON_GROUPS = frozenset({"reason_detail", "reason_part", "document", "option", "outcome", "frequency",
                           "concession", "contact_band", "plan_source"})
#: the groups an offer's summary phrases name (evaluation's offer_terms; the same test checks them)
OFFER_GROUPS = frozenset({"offer_part", "option", "frequency"})


def line_groups() -> frozenset[str]:
    """The catalogue groups the console's timeline lines name (readmodel/rules.py's line): their
    keys' (``line``, ``line_part``) and the groups of the codes they carry, over every event type."""
    from forbear_console.readmodel.rules import line

    groups = {"line", "line_part"}
    for event_type, payload in golden_payloads():
        groups |= _line_codes(line(event_type, payload)[1])
    return frozenset(groups)

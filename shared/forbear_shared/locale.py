"""Facts put into words for a language: dates and money as a borrower reads them, in each
language the lender writes in (CLDR's formats, through Babel).

``zh-CN``: 2026年3月16日, ¥1,234.50; ``en``: March 16, 2026, CN¥1,234.50. The rules choose what
to say (``forbear_shared.domain.rights``); this module only writes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from babel.dates import format_date
from babel.numbers import format_currency

from forbear_shared.domain.money import Money
from forbear_shared.domain.rights import LANGUAGES, Fact, Rights

#: Forbear's language tags (BCP 47) -> Babel's locale names
_BABEL = {"zh-CN": "zh_CN", "en": "en"}


def date_text(day: dt.date, language: str) -> str:
    return format_date(day, format="long", locale=_BABEL[language])


def money_text(amount: Money, language: str) -> str:
    return format_currency(amount.amount, amount.currency, locale=_BABEL[language])


def fact_text(fact: Fact, language: str) -> str:
    return money_text(fact, language) if isinstance(fact, Money) else date_text(fact, language)


def rights_text(rights: Rights) -> Mapping[str, list[str]]:
    """Each statement in each language, its facts written for that language."""
    out: dict[str, list[str]] = {}
    for language in LANGUAGES:
        facts = {name: fact_text(value, language) for name, value in rights.facts.items()}
        out[language] = [text.format_map(facts) for text in rights.statements[language]]
    return out

"""The borrower's rights, stated on every decision and every notice.

What the lender tells a borrower each time it decides or writes: how to appeal and by when
(on a decline), how to remedy and by when (on a breach notice), what the lender may and may not
do, and where free advice is found. The words are the lender's, in the policy's ``[rights]``
section, in every language the lender writes in (zh-CN and en for the demo lender); the rules
here choose which statements a decision or a notice carries and the facts they name (a date, an
amount). Putting the facts into words for a language (``2026年3月16日`` / ``16 March 2026``) is
``forbear_shared.locale``'s.

A statement names its facts as ``{appeal_by}``, ``{remedy_by}`` or ``{remedy_amount}``; each
section allows only the facts it is given (a decline knows its appeal deadline, a reminder has no
remedy date), so a policy cannot promise a date nobody fills in.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .money import Money

#: the languages every statement must be written in
LANGUAGES = ("zh-CN", "en")
#: the facts each section may name
FACTS: Mapping[str, frozenset[str]] = {
    "decision": frozenset(),
    "decline": frozenset({"appeal_by"}),
    "notice": frozenset(),
    "breach_notice": frozenset({"remedy_by", "remedy_amount"}),
    "advice": frozenset(),
}

Text = Annotated[str, Field(min_length=1, max_length=600)]


class PolicyModel(BaseModel):
    """As every section of the policy: frozen, no unknown field (``policy.Policy``'s sections)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class Statements(PolicyModel):
    """One section: the same statements in each language, in the same order."""

    # the policy file's key is the language tag ("zh-CN"), and so is a dump's
    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True,
                              serialize_by_alias=True, use_attribute_docstrings=True)

    zh_CN: tuple[Text, ...] = Field(default=(), alias="zh-CN", max_length=12)
    """The statements in Chinese (key ``zh-CN``), in the order they are shown."""
    en: tuple[Text, ...] = Field(default=(), max_length=12)
    """The same statements in English, as many and in the same order."""

    @model_validator(mode="after")
    def _same_statements_in_every_language(self) -> Statements:
        if len(self.zh_CN) != len(self.en):
            raise ValueError(f"zh-CN has {len(self.zh_CN)} statements and en {len(self.en)}: each statement is "
                             "written in both languages")
        return self

    def texts(self, language: str) -> tuple[str, ...]:
        return self.zh_CN if language == "zh-CN" else self.en


class RightsPolicy(PolicyModel):
    """What every decision and notice tells the borrower (empty sections say nothing)."""

    decision: Statements = Statements()
    """On every decision: what the borrower may expect of the lender whatever the outcome."""
    decline: Statements = Statements()
    """Beside those on a decline: how to appeal and by when (``{appeal_by}``)."""
    notice: Statements = Statements()
    """On every notice (reminder, warning, breach notice): what the lender may and may not do."""
    breach_notice: Statements = Statements()
    """Beside those on a breach notice: how to remedy (``{remedy_amount}`` by ``{remedy_by}``)."""
    advice: Statements = Statements()
    """On every decision and notice: where free advice is found."""

    @model_validator(mode="after")
    def _facts_each_section_is_given(self) -> RightsPolicy:
        for section, allowed in FACTS.items():
            statements: Statements = getattr(self, section)
            for language in LANGUAGES:
                for n, text in enumerate(statements.texts(language), start=1):
                    named = _named_facts(text)
                    if named - allowed:
                        raise ValueError(
                            f"{section}.{language}[{n}] names {', '.join(sorted(named - allowed))}; "
                            f"a {section.replace('_', ' ')} statement may name only "
                            f"{', '.join(sorted(allowed)) or 'no facts'}")
        return self


def _named_facts(text: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:  # an unmatched brace
        raise ValueError(f"{text[:40]!r}: {exc}") from None


Fact = dt.date | Money


@dataclass(frozen=True)
class Rights:
    """The statements a decision or notice carries, per language, and the facts they name."""

    statements: Mapping[str, tuple[str, ...]]
    facts: Mapping[str, Fact]


def _rights(policy: RightsPolicy, sections: tuple[str, ...], facts: Mapping[str, Fact]) -> Rights:
    return Rights(
        statements={language: tuple(text for section in sections
                                    for text in getattr(policy, section).texts(language))
                    for language in LANGUAGES},
        facts=dict(facts),
    )


def on_decision(policy: RightsPolicy, outcome: str, *, appeal_by: dt.date | None) -> Rights:
    """A decision's rights: a decline that may be appealed (``appeal_by``, its last day, from the
    policy's appeal window) says how and by when; every decision where to find free advice."""
    if outcome == "decline" and appeal_by is not None:
        return _rights(policy, ("decision", "decline", "advice"), {"appeal_by": appeal_by})
    return _rights(policy, ("decision", "advice"), {})


def on_notice(policy: RightsPolicy, level: str, *, remedy_by: dt.date | None = None,
              remedy_amount: Money | None = None) -> Rights:
    """A notice's rights: a breach notice says what remedies it and by when."""
    if level == "breach_notice":
        if remedy_by is None or remedy_amount is None:
            raise ValueError("a breach notice states the remedy amount and its date")
        return _rights(policy, ("notice", "breach_notice", "advice"),
                       {"remedy_by": remedy_by, "remedy_amount": remedy_amount})
    return _rights(policy, ("notice", "advice"), {})

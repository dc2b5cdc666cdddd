"""Every reason evaluation gives is phrased for the catalogues: a key and typed arguments that the
console and the portal write in the reader's language (forbear_shared.phrasing). Over the seeded
cases of ``golden_cases`` (every policy variant, counter-proposals included), each phrase's key has
words in both languages of both pages, with exactly the phrase's placeholders, and every code it
carries has words too."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from forbear_evaluation.cli import case_from_dict
from forbear_evaluation.domain import wilful_default
from forbear_evaluation.domain.counter_proposal import CounterProposal, evaluate_counter
from forbear_evaluation.domain.evaluate import ReasonCode, evaluate
from forbear_evaluation.domain.without_statement import decide_without_statement
from forbear_evaluation.service_layer.mapping import offer_terms
from forbear_shared.domain.hardship import HardshipCategory
from forbear_shared.domain.money import Money

from services.evaluation.tests import golden_cases
from tests.support import catalogues
from tests.support.catalogues import PLACEHOLDER, STATIC
from tests.support.catalogues import phrase_codes as codes
from tests.support.catalogues import phrase_parts as parts

PORTAL = STATIC / "portal"
PAGES = (STATIC, PORTAL)


def phrases() -> list[tuple[str, str, dict[str, Any]]]:
    """(reason code, key, args) of every reason the seeded cases and their counters give."""
    rng = random.Random(golden_cases.SEED)
    variants = golden_cases.policies()
    found = []
    for index in range(150):  # enough of the seeded cases to meet every code
        data = golden_cases.random_case(rng, index)
        policy = variants[index % len(variants)]
        case = case_from_dict(data, policy.currency)
        as_of = date.fromisoformat(data["as_of"])
        decision = evaluate(case, policy, as_of)
        found += [(r.code.value, r.phrase_key, dict(r.args)) for r in decision.reasons]
        for offer in decision.offers:
            terms = offer_terms(offer)
            assert len(terms.summary_phrases) == len(terms.summary.split("; ")), terms.summary
            OFFER_PHRASES.extend((offer.plan.kind.value, p.key, p.args) for p in terms.summary_phrases)
        affordable = decision.affordability.affordable_instalment
        for proposal in (CounterProposal(Money(affordable.amount * Decimal("0.8"), affordable.currency), None)
                         if affordable.is_positive() else CounterProposal(None, 12),
                         CounterProposal(None, 7 + index % 50)):
            counter = evaluate_counter(case, policy, as_of, proposal)
            # the service names the offer the counter answers (decisions.answer_counter)
            found.append((counter.code, counter.key, {"offer": "OFF-1", **counter.args}))
    # the wilful-default indicators the seeded cases do not all meet, each made directly
    indicators = [wilful_default.capacity_to_pay(Money.of("900.00", "CNY"), Money.of("800.00", "CNY")),
                  wilful_default.evidence_false(("pay_slips",)), wilful_default.declaration_untrue(True)]
    found += [(i.code.value, f"reason_detail.{i.code.value}", dict(i.args)) for i in indicators if i is not None]
    # a failed value test is phrased by the same expression as a passed one (evaluate)
    passed = next(args for code, _, args in found if code == "value_test_passed")
    found.append(("value_test_failed", "reason_detail.value_test_failed", passed))
    for deadline in (date(2026, 3, 1), date(2026, 4, 1)):
        without = decide_without_statement(HardshipCategory.ILLNESS, (), deadline, date(2026, 3, 10))
        found += [(r.code.value, r.phrase_key, dict(r.args)) for r in without.reasons]
    return found


OFFER_PHRASES: list[tuple[str, str, dict[str, Any]]] = []
PHRASES = phrases()


def test_the_seeded_cases_give_every_reason_code_and_every_counter_answer() -> None:
    seen_codes = {code for code, _, _ in PHRASES}
    assert {c.value for c in ReasonCode} <= seen_codes
    seen_keys = {key for _, key, _ in PHRASES}
    for answer in ("met", "declined.not_considered", "declined.no_plan_over_term", "declined.no_plan"):
        assert f"reason_detail.counter_proposal_{answer}" in seen_keys, answer


@pytest.mark.parametrize("page", PAGES, ids=("console", "portal"))
@pytest.mark.parametrize("lang", catalogues.LANGUAGES)
def test_each_reason_has_words_with_exactly_its_placeholders_and_each_code_has_words(page: Any, lang: str) -> None:
    words = catalogues.catalogue(page, lang)
    faults = set()
    for code, key, args in PHRASES:
        for part_key, part_args in parts(key, args):
            if part_key not in words:
                faults.add(f"{code}: no {part_key}")
            elif set(PLACEHOLDER.findall(words[part_key])) != set(part_args):
                faults.add(f"{part_key}: placeholders {sorted(PLACEHOLDER.findall(words[part_key]))} != {sorted(part_args)}")
        faults |= {f"{code}: no words for {c}" for c in codes(args) if c not in words}
    assert not faults, sorted(faults)


def test_a_reason_keeps_its_facts_as_they_are_for_the_page_to_format() -> None:
    found = next(args for code, _, args in PHRASES if code == "affordable_plan_found")
    assert set(found) == {"option", "instalment", "frequency", "instalments", "rate", "affordable", "concessions"}
    assert set(found["instalment"]) == {"money", "currency"} and Decimal(found["instalment"]["money"]) > 0
    assert Decimal(found["rate"]["share"]) < 1 and isinstance(found["instalments"], int)
    missing = next(args for code, _, args in PHRASES if code == "evidence_incomplete")
    assert missing["missing"]["codes"] == "document" and missing["missing"]["values"]


def test_the_reasons_name_only_the_catalogue_groups_the_pages_are_told_of() -> None:
    named = set()
    for _, key, args in PHRASES:
        for part_key, part_args in parts(key, args):
            named.add(part_key.split(".", 1)[0])
            named |= {c.split(".", 1)[0] for c in codes(part_args)}
    assert named <= catalogues.REASON_GROUPS, named - catalogues.REASON_GROUPS


@pytest.mark.parametrize("lang", catalogues.LANGUAGES)
def test_each_offers_summary_has_words_in_the_console_with_exactly_its_placeholders(lang: str) -> None:
    words = catalogues.catalogue(STATIC, lang)
    assert {option for option, _, _ in OFFER_PHRASES} >= {"term_extension", "payment_deferral"}
    faults = set()
    for option, key, args in OFFER_PHRASES:
        if key not in words:
            faults.add(f"{option}: no {key}")
        elif set(PLACEHOLDER.findall(words[key])) != set(args):
            faults.add(f"{key}: placeholders {sorted(PLACEHOLDER.findall(words[key]))} != {sorted(args)}")
        faults |= {f"{key}: no words for {c}" for c in codes(args) if c not in words}
        faults |= {f"{key}: group {c}" for c in codes(args) | {key} if c.split(".", 1)[0] not in catalogues.OFFER_GROUPS}
    assert not faults, sorted(faults)

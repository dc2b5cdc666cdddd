"""The borrower's rights on every decision and notice: which statements, with which facts, in
each language (the demo lender's ``[rights]``)."""

import datetime as dt
import tomllib
from decimal import Decimal

import pytest
from forbear_shared import locale
from forbear_shared.domain import rights
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import PolicyError, parse_policy
from forbear_shared.policy_loader import load_policy, read_policy_text

POLICY = load_policy().rights


def demo_data() -> dict:
    return tomllib.loads(read_policy_text())


def test_a_decline_says_how_to_appeal_and_by_when_in_both_languages():
    stated = locale.rights_text(rights.on_decision(POLICY, "decline", appeal_by=dt.date(2026, 10, 8)))
    # the demo policy: 2 statements on every decision, 2 on a decline, 1 on free advice
    assert [len(stated["zh-CN"]), len(stated["en"])] == [5, 5]
    # CLDR's long dates: 8 October 2026 as a zh-CN and an en reader read it
    assert "可在2026年10月8日（含当日）之前提出申诉" in stated["zh-CN"][2]
    assert "you may appeal until October 8, 2026 (inclusive)" in stated["en"][2]
    assert "12348" in stated["zh-CN"][4] and "12378" in stated["en"][4]


def test_an_approval_and_a_decline_that_cannot_be_appealed_name_no_appeal():
    approved = locale.rights_text(rights.on_decision(POLICY, "approve", appeal_by=None))
    assert len(approved["en"]) == 3 and not any("appeal" in s for s in approved["en"])
    # a policy without an appeal window gives a decline no deadline: it promises no appeal
    final = locale.rights_text(rights.on_decision(POLICY, "decline", appeal_by=None))
    assert final == approved


def test_a_breach_notice_states_the_remedy_amount_and_date_written_for_each_language():
    stated = locale.rights_text(rights.on_notice(POLICY, "breach_notice", remedy_by=dt.date(2026, 3, 16),
                                                 remedy_amount=Money(Decimal("1234.50"), "CNY")))
    assert stated["zh-CN"][2] == "在2026年3月16日（含当日）之前付清¥1,234.50即可纠正违约，协议继续有效。"
    assert stated["en"][2] == "Paying CN¥1,234.50 by March 16, 2026 (inclusive) remedies the breach and the agreement continues."
    reminder = locale.rights_text(rights.on_notice(POLICY, "reminder"))
    assert len(reminder["zh-CN"]) == 3  # 2 on every notice, 1 on free advice
    with pytest.raises(ValueError, match="remedy"):
        rights.on_notice(POLICY, "breach_notice")


def test_every_statement_is_written_in_both_languages():
    data = demo_data()
    data["rights"]["decision"]["en"] = data["rights"]["decision"]["en"][:1]
    with pytest.raises(PolicyError, match=r"(?s)rights\.decision.*zh-CN has 2 statements and en 1"):
        parse_policy(data)


def test_a_statement_may_name_only_the_facts_its_section_is_given():
    data = demo_data()
    data["rights"]["notice"]["en"][0] = "Pay {remedy_amount} now."
    with pytest.raises(PolicyError, match=r"notice\.en\[1\] names remedy_amount"):
        parse_policy(data)
    data = demo_data()
    data["rights"]["decline"]["zh-CN"][0] = "申诉截止{appeal_by"
    with pytest.raises(PolicyError, match="rights"):
        parse_policy(data)
    data = demo_data()
    data["rights"]["decline"]["fr"] = ["Vous pouvez faire appel."]
    with pytest.raises(PolicyError, match="fr"):
        parse_policy(data)

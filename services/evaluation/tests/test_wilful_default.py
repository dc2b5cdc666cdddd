"""Wilful default is not hardship: each indicator, its code and its explanation."""

from datetime import date

from forbear_evaluation.domain.wilful_default import (
    ConductRecord,
    DelinquencyEpisode,
    WilfulDefaultCode,
    WilfulDefaultRules,
    capacity_to_pay,
    recent_agreement_broken,
    repeated_no_contact_delinquency,
    wilful_default_indicators,
)
from forbear_shared.domain.money import Money

RULES = WilfulDefaultRules(
    no_contact_episodes_threshold=2, no_contact_window_months=24, broken_agreement_window_months=12
)
AS_OF = date(2025, 6, 15)


def test_disposable_income_covering_original_instalment_is_wilful() -> None:
    found = capacity_to_pay(Money.of("2000.00"), Money.of("1800.00"))
    assert found is not None
    assert found.code is WilfulDefaultCode.CAPACITY_TO_PAY
    assert "2000.00 CNY" in found.explanation and "1800.00 CNY" in found.explanation


def test_disposable_income_exactly_equal_to_the_instalment_is_capacity_to_pay() -> None:
    assert capacity_to_pay(Money.of("1800.00"), Money.of("1800.00")) is not None


def test_disposable_income_one_cent_short_of_the_instalment_is_not_capacity() -> None:
    assert capacity_to_pay(Money.of("1799.99"), Money.of("1800.00")) is None


def test_two_silent_overdue_episodes_in_24_months_is_repeated_no_contact_delinquency() -> None:
    episodes = (
        DelinquencyEpisode(date(2023, 6, 15), borrower_made_contact=False),  # exactly 24 months back: inside
        DelinquencyEpisode(date(2024, 11, 2), borrower_made_contact=False),
    )
    found = repeated_no_contact_delinquency(episodes, AS_OF, RULES)
    assert found is not None
    assert found.code is WilfulDefaultCode.REPEATED_NO_CONTACT_DELINQUENCY
    assert found.explanation.startswith("2 earlier overdue episodes since 2023-06-15")


def test_episodes_where_the_borrower_got_in_touch_or_older_than_24_months_do_not_count() -> None:
    episodes = (
        DelinquencyEpisode(date(2023, 6, 14), borrower_made_contact=False),  # one day outside the window
        DelinquencyEpisode(date(2024, 1, 10), borrower_made_contact=True),  # borrower called us
        DelinquencyEpisode(date(2024, 11, 2), borrower_made_contact=False),
    )
    assert repeated_no_contact_delinquency(episodes, AS_OF, RULES) is None


def test_agreement_broken_eleven_months_ago_is_recent() -> None:
    found = recent_agreement_broken((date(2024, 7, 20),), AS_OF, RULES)
    assert found is not None and found.code is WilfulDefaultCode.RECENT_AGREEMENT_BROKEN


def test_agreement_broken_thirteen_months_ago_is_not_recent() -> None:
    assert recent_agreement_broken((date(2024, 5, 14),), AS_OF, RULES) is None


def test_all_indicators_are_reported_in_a_fixed_order() -> None:
    conduct = ConductRecord(
        earlier_delinquencies=(
            DelinquencyEpisode(date(2024, 1, 1), False),
            DelinquencyEpisode(date(2024, 8, 1), False),
        ),
        evidence_rejected_as_false=("termination_letter",),
        declaration_untrue=True,
        agreements_broken_on=(date(2025, 1, 31),),
    )
    found = wilful_default_indicators(conduct, Money.of("3000.00"), Money.of("2500.00"), AS_OF, RULES)
    assert [i.code for i in found] == [
        WilfulDefaultCode.CAPACITY_TO_PAY,
        WilfulDefaultCode.REPEATED_NO_CONTACT_DELINQUENCY,
        WilfulDefaultCode.EVIDENCE_FALSE,
        WilfulDefaultCode.DECLARATION_UNTRUE,
        WilfulDefaultCode.RECENT_AGREEMENT_BROKEN,
    ]
    assert found[2].explanation == "evidence rejected as false: termination_letter"


def test_a_clean_record_with_a_real_shortfall_has_no_indicators() -> None:
    found = wilful_default_indicators(ConductRecord(), Money.of("900.00"), Money.of("2500.00"), AS_OF, RULES)
    assert found == ()

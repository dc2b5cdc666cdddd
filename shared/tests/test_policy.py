import tomllib
from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest
from forbear_shared.domain.policy import Component, LegalRoute, PolicyError, parse_policy, parse_policy_toml
from forbear_shared.policy_loader import load_policy, read_policy_text
from pydantic import ValidationError


def demo_data() -> dict:
    return tomllib.loads(read_policy_text())


def test_demo_policy_carries_the_product_brief_defaults():
    policy = load_policy()
    assert policy.version == "demo-lender-2026.1"
    assert policy.currency == "CNY"
    assert policy.timezone == "Asia/Shanghai"
    assert policy.delinquency.grace_days == 3
    assert policy.delinquency.penalty_uplift == Decimal("0.5")
    assert [b.label for b in policy.delinquency.dpd_buckets] == ["1-30", "31-60", "61-90", "90+"]
    assert policy.allocation.order == (Component.FEES, Component.PENALTY_INTEREST, Component.INTEREST, Component.PRINCIPAL)
    assert policy.restructuring.max_total_term_months == 60
    assert policy.restructuring.max_deferral_months == 6
    assert policy.restructuring.max_arrears_instalments == 12
    assert policy.evaluation.dti_ceiling == Decimal("0.31")
    assert policy.evaluation.wilful_default.no_contact_delinquencies_threshold == 2
    assert policy.offers.validity_days == 14
    assert (policy.escalation.reminder_dpd, policy.escalation.warning_dpd, policy.escalation.breach_notice_dpd) == (1, 7, 15)
    assert policy.escalation.remedy_days == 14
    assert policy.escalation.referral_missed_instalments == 3
    assert policy.renegotiation.max_per_agreement == 1 and policy.renegotiation.window_months == 12
    assert policy.contact.max_attempts == 7 and policy.contact.window_days == 7
    assert (policy.contact.earliest, policy.contact.latest) == (time(8), time(21))
    assert LegalRoute.LAWSUIT.value == "lawsuit"


def test_dpd_buckets_cover_every_delinquent_day():
    policy = load_policy()
    assert policy.delinquency.bucket_for(0) is None
    assert policy.delinquency.bucket_for(1) == "1-30"
    assert policy.delinquency.bucket_for(30) == "1-30"
    assert policy.delinquency.bucket_for(31) == "31-60"
    assert policy.delinquency.bucket_for(90) == "61-90"
    assert policy.delinquency.bucket_for(91) == "90+"


def test_policy_is_frozen():
    policy = load_policy()
    with pytest.raises(ValidationError):
        policy.version = "tampered"  # type: ignore[misc]


def test_floats_in_the_policy_file_are_refused():
    data = demo_data()
    data["evaluation"]["dti_ceiling"] = 0.31
    with pytest.raises(PolicyError, match="strings"):
        parse_policy(data)


def test_shares_outside_zero_to_one_are_refused():
    data = demo_data()
    data["delinquency"]["penalty_uplift"] = "1.5"
    with pytest.raises(PolicyError, match="penalty_uplift"):
        parse_policy(data)


def test_an_unordered_escalation_ladder_is_refused():
    data = demo_data()
    data["escalation"]["warning_dpd"] = 20
    with pytest.raises(PolicyError, match="ordered"):
        parse_policy(data)


def test_gapped_dpd_buckets_are_refused():
    data = demo_data()
    data["delinquency"]["dpd_buckets"][1]["min_dpd"] = 32
    with pytest.raises(PolicyError, match="contiguous"):
        parse_policy(data)


def test_allocation_order_must_name_each_component_once():
    data = demo_data()
    data["allocation"]["order"] = ["fees", "fees", "interest", "principal"]
    with pytest.raises(PolicyError, match="exactly once"):
        parse_policy(data)


def test_unknown_fields_are_refused_so_typos_do_not_silently_default():
    data = demo_data()
    data["offers"]["validity_dayz"] = 30
    with pytest.raises(PolicyError, match="validity_dayz"):
        parse_policy(data)


def test_remedy_period_below_fourteen_days_is_refused():
    data = demo_data()
    data["escalation"]["remedy_days"] = 10
    with pytest.raises(PolicyError, match="remedy_days"):
        parse_policy(data)


def test_another_lender_is_another_file(tmp_path: Path):
    text = read_policy_text().replace('version = "demo-lender-2026.1"', 'version = "other-2026.1"')
    path = tmp_path / "other.toml"
    path.write_text(text, encoding="utf-8")
    assert load_policy(path).version == "other-2026.1"


def test_the_policy_currency_must_be_a_loan_currency() -> None:
    text = read_policy_text().replace('currencies = ["CNY"]', 'currencies = ["USD"]')
    with pytest.raises(PolicyError, match="loans.currencies"):
        parse_policy_toml(text)


def test_a_loan_currency_must_be_an_iso_4217_code() -> None:
    text = read_policy_text().replace('currencies = ["CNY"]', 'currencies = ["CNY", "yuan"]')
    with pytest.raises(PolicyError, match="ISO 4217"):
        parse_policy_toml(text)


def test_the_policy_file_reference_is_current() -> None:
    """shared/POLICY.md documents every field (unit, limits, default, purpose) of the model."""
    from pathlib import Path

    from forbear_shared.domain.policy import Policy
    from forbear_shared.policy_catalogue import render

    document = Path(__file__).parents[1] / "POLICY.md"
    text = render()
    assert document.read_text(encoding="utf-8") == text, \
        "regenerate: python -m forbear_shared.policy_catalogue > shared/POLICY.md"
    for section in Policy.model_fields:
        assert f"`{section}" in text
    # a field is documented with its purpose, its unit and its limits
    row = next(line for line in text.splitlines() if line.startswith("| `evaluation.dti_ceiling` |"))
    assert "fraction" in row and ">= 0, <= 1" in row and "HAMP" in row
    assert not [line for line in text.splitlines() if line.startswith("| `") and line.endswith("|  |")]

"""Champion / challenger: a policy file names a challenger and its share; cases are assigned by id.

The arm is recomputed here from the rule the policy reference states (the first 8 bytes of the
SHA-256 of the case id, as a number below 2^64, against share x 2^64), not through the code."""

from __future__ import annotations

import hashlib
import math
import re
from decimal import Decimal

import pytest
from forbear_shared.domain.policy import CHALLENGER_SECTIONS, Policy, PolicyError, parse_policy_toml
from forbear_shared.policy_loader import read_policy_text

DEMO = read_policy_text()
CHAMPION_ONLY = DEMO[: re.search(r"^\[challenger\]", DEMO, re.M).start()]  # type: ignore[union-attr]


def with_challenger(body: str, share: str = "0.20", version: str = "test-c") -> str:
    return f'{CHAMPION_ONLY}\n[challenger]\nversion = "{version}"\nshare = "{share}"\n{body}'


def expected_arm(case_id: str, share: Decimal) -> str:
    point = int(hashlib.sha256(case_id.encode("utf-8")).hexdigest()[:16], 16)
    return "challenger" if Decimal(point) / Decimal(2 ** 64) < share else "champion"


def test_the_demo_names_a_one_in_five_challenger_that_changes_only_the_waterfall() -> None:
    policy = parse_policy_toml(DEMO)
    assert policy.challenger is not None and policy.challenger.share == Decimal("0.20")
    challenger = policy.challenger_policy
    assert challenger is not None and challenger.version == "demo-lender-2026.1-c1" != policy.version
    assert (challenger.restructuring.rate_floor, challenger.restructuring.interest_waiver_max_share) == (
        Decimal("0.015"), Decimal("0.5"))
    assert challenger.challenger is None
    # everything the demo's challenger does not name is the champion's
    for name in Policy.model_fields:
        if name not in ("version", "challenger", "restructuring"):
            assert getattr(challenger, name) == getattr(policy, name), name
    unchanged = {k: v for k, v in policy.restructuring.model_dump().items()
                 if k not in ("rate_floor", "interest_waiver_max_share")}
    assert {k: challenger.restructuring.model_dump()[k] for k in unchanged} == unchanged


def test_a_case_is_in_the_arm_its_id_hashes_to_the_same_on_every_call() -> None:
    policy = parse_policy_toml(DEMO)
    ids = [f"case_{n:06d}" for n in range(4000)] + ["C1", "案件-1", "x" * 64]
    for case_id in ids:
        arm = policy.arm_of(case_id)
        assert arm == expected_arm(case_id, Decimal("0.20")) == policy.arm_of(case_id)
        assert policy.for_case(case_id).version == (
            policy.challenger_policy.version if arm == "challenger" else policy.version)  # type: ignore[union-attr]


def test_the_challenger_takes_its_share_of_cases_within_sampling_error() -> None:
    n, share = 20_000, 0.2
    policy = parse_policy_toml(with_challenger("", share=str(share)))
    took = sum(policy.arm_of(f"case_{i}") == "challenger" for i in range(n)) / n
    assert abs(took - share) < 4 * math.sqrt(share * (1 - share) / n)  # four standard errors
    arms = policy.arms()
    assert [(arm, s) for arm, s, _ in arms] == [("champion", Decimal("0.80")), ("challenger", Decimal("0.20"))]


def test_without_a_challenger_every_case_is_the_champions() -> None:
    policy = parse_policy_toml(CHAMPION_ONLY)
    assert policy.challenger_policy is None
    assert {policy.arm_of(f"c{i}") for i in range(200)} == {"champion"}
    assert policy.for_case("c1") is policy
    assert [(arm, s) for arm, s, _ in policy.arms()] == [("champion", Decimal(1))]


@pytest.mark.parametrize("section, body", [
    ("contact", "[challenger.contact]\nmax_attempts = 30\n"),
    ("renegotiation", "[challenger.renegotiation]\nmax_per_agreement = 9\n"),
    ("legal", '[challenger.legal]\nmediation_max_amount = "1.00"\n'),
    ("escalation", "[challenger.escalation]\nremedy_days = 1\n"),
    ("rights", "[challenger.rights]\n"),
    ("appeals", "[challenger.appeals]\nwindow_days = 1\n"),
    ("representatives", "[challenger.representatives]\nmax_days = 1\n"),
    ("retention", "[challenger.retention]\n"),
    ("calendar", '[challenger.calendar]\nholidays = "CN"\n'),
])
def test_a_challenger_cannot_touch_a_guard_and_the_refusal_names_it(section: str, body: str) -> None:
    with pytest.raises(PolicyError, match=rf"challenger\.{section}: a challenger may change only "):
        parse_policy_toml(with_challenger(body))


def test_declining_wilful_defaulters_is_a_guard_on_every_arm() -> None:
    body = '[challenger.evaluation.wilful_default]\ndecline_indicators = []\n'
    with pytest.raises(PolicyError, match=r"challenger\.evaluation\.wilful_default: a guard"):
        parse_policy_toml(with_challenger(body))


@pytest.mark.parametrize("body, named", [
    ('[challenger.restructuring]\nrate_floor = 0.01\n', r"challenger\.restructuring\.rate_floor: .*strings"),
    ('[challenger.restructuring]\nrate_flor = "0.01"\n', r"challenger\.restructuring\.rate_flor: Extra inputs"),
    ('[challenger.evaluation]\ndti_ceiling = "1.5"\n', r"challenger\.evaluation\.dti_ceiling: .*less than or equal to 1"),
    ('[challenger.reageing]\nmax_per_12_months = 5\n', r"challenger\.reageing: .*must not exceed max_per_5_years"),
])
def test_a_challengers_bad_value_is_refused_naming_the_field(body: str, named: str) -> None:
    with pytest.raises(PolicyError, match=named):
        parse_policy_toml(with_challenger(body))


@pytest.mark.parametrize("share", ["0", "1", "1.5", "-0.1"])
def test_the_share_is_strictly_between_none_and_all(share: str) -> None:
    with pytest.raises(PolicyError, match=r"share"):
        parse_policy_toml(with_challenger("", share=share))


def test_the_challenger_has_a_version_of_its_own() -> None:
    with pytest.raises(PolicyError, match="challenger.version must differ"):
        parse_policy_toml(with_challenger("", version="demo-lender-2026.1"))


def test_nested_changes_keep_the_rest_of_their_table() -> None:
    policy = parse_policy_toml(with_challenger('[challenger.evaluation.lender_value]\nrecovery_rate = "0.5"\n'))
    challenger = policy.challenger_policy
    assert challenger is not None
    assert challenger.evaluation.lender_value.recovery_rate == Decimal("0.5")
    assert challenger.evaluation.lender_value.legal_costs == policy.evaluation.lender_value.legal_costs
    assert challenger.evaluation.dti_ceiling == policy.evaluation.dti_ceiling


def test_the_sections_a_challenger_may_change_shape_the_offer_only() -> None:
    assert set(CHALLENGER_SECTIONS) == {"evaluation", "restructuring", "schedules", "reamortisation", "reageing"}

"""The Policies page's arithmetic: a challenger's rate against the champion's, with its interval.

The intervals are Newcombe's hybrid score interval (R. G. Newcombe, "Interval estimation for the
difference between independent proportions: comparison of eleven methods", Statistics in
Medicine 17 (1998) 873-890, method 10); the expected figures are the paper's own worked
examples (Table II), to four places."""

from __future__ import annotations

import pytest
from forbear_console.kpis import compare, difference, wilson


@pytest.mark.parametrize("b, a, low, high", [
    ((56, 70), (48, 80), 0.0524, 0.3339),
    ((9, 10), (3, 10), 0.1705, 0.8090),
    ((6, 7), (2, 7), 0.0582, 0.8062),
    ((5, 56), (0, 29), -0.0381, 0.1926),
])
def test_the_difference_of_two_rates_has_newcombes_interval(b: tuple[int, int], a: tuple[int, int],
                                                            low: float, high: float) -> None:
    got = difference(a, b)
    assert got is not None
    assert got["difference"] == round(b[0] / b[1] - a[0] / a[1], 4)
    assert (got["low"], got["high"]) == pytest.approx((low, high), abs=1e-4)


def test_wilsons_interval_of_81_of_263_is_the_published_one() -> None:
    # Newcombe (1998) quotes Wilson's interval for 81/263 as 0.2553 to 0.3662 (Table I)
    assert wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)


def test_an_arm_with_nothing_to_count_has_no_interval_yet() -> None:
    assert difference((0, 0), (3, 10)) is None
    assert difference((3, 10), (0, 0)) is None


def test_each_other_arm_is_compared_with_the_champion_rate_by_rate() -> None:
    def arm(version: str, approval: list[int]) -> dict[str, object]:
        proportions = {name: [0, 0] for name in ("approval", "offer_acceptance", "cure", "legal_referral",
                                                 "promise_kept", "appeal_overturn")}
        proportions["approval"] = approval
        return {"policy_version": version, "kpis": {"proportions": proportions}}

    rows = compare([arm("v1", [48, 80]), arm("v1-c1", [56, 70])])
    approval = next(r for r in rows if r["kpi"] == "approval")
    assert (approval["a"], approval["b"], approval["a_rate"], approval["b_rate"]) == ("v1", "v1-c1", 0.6, 0.8)
    assert approval["interval"]["low"] == pytest.approx(0.0524, abs=1e-4)
    assert all(r["interval"] is None for r in rows if r["kpi"] != "approval")
    assert len(rows) == 6
    assert compare([arm("v1", [1, 2])]) == []

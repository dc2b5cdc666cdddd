"""The policy's renegotiation limit (demo policy: once per agreement in 12 months)."""

from datetime import date

from forbear_shared.domain.renegotiation import renegotiation_allowed


def test_first_renegotiation_is_allowed(policy):
    assert renegotiation_allowed([], on=date(2025, 3, 10), policy=policy).allowed


def test_second_renegotiation_within_twelve_months_is_refused_until_the_anniversary(policy):
    limit = renegotiation_allowed([date(2025, 3, 10)], on=date(2026, 3, 9), policy=policy)
    assert not limit.allowed
    assert limit.next_allowed_on == date(2026, 3, 10)
    assert limit.reason == "renegotiation_limit_reached:next_allowed_on=2026-03-10"


def test_renegotiation_twelve_months_later_is_allowed(policy):
    assert renegotiation_allowed([date(2025, 3, 10)], on=date(2026, 3, 10), policy=policy).allowed
    # one day inside the window still counts
    assert not renegotiation_allowed([date(2025, 6, 2)], on=date(2026, 6, 1), policy=policy).allowed


def test_requests_after_the_day_asked_about_do_not_count(policy):
    assert renegotiation_allowed([date(2026, 7, 1)], on=date(2026, 6, 1), policy=policy).allowed


def test_a_limit_of_two_frees_up_on_the_older_ones_anniversary(policy):
    two = policy.model_copy(update={"renegotiation": policy.renegotiation.model_copy(update={"max_per_agreement": 2})})
    earlier = [date(2025, 5, 20), date(2025, 1, 15)]
    limit = renegotiation_allowed(earlier, on=date(2025, 12, 1), policy=two)
    assert not limit.allowed
    assert limit.next_allowed_on == date(2026, 1, 15)
    assert renegotiation_allowed(earlier, on=date(2026, 1, 15), policy=two).allowed

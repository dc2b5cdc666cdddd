from datetime import datetime, timedelta

import pytest
from forbear_intake.domain.contact_rules import ContactRefusal, check_contact
from forbear_shared.policy_loader import load_policy


@pytest.fixture(scope="module")
def policy():
    return load_policy()


AT = datetime(2025, 3, 10, 10, 0)


def test_the_borrower_may_be_called_at_ten_in_the_morning(policy):
    decision = check_contact(party="borrower", at_local=AT, previous_attempts=[], policy=policy)
    assert decision.allowed and decision.reasons == ()


def test_a_guarantor_may_be_contacted(policy):
    assert check_contact(party="guarantor", at_local=AT, previous_attempts=[], policy=policy).allowed


def test_the_borrowers_phone_contacts_are_never_contacted(policy):
    decision = check_contact(party="phone_contact", at_local=AT, previous_attempts=[], policy=policy)
    assert decision.reason is ContactRefusal.PARTY_NOT_ALLOWED


def test_an_eighth_attempt_within_seven_days_is_refused(policy):
    previous = [AT - timedelta(days=d, hours=1) for d in range(7)]  # 7 attempts in the last 6 days 23 h
    decision = check_contact(party="borrower", at_local=AT, previous_attempts=previous, policy=policy)
    assert decision.reasons == (ContactRefusal.TOO_MANY_ATTEMPTS,)
    assert decision.attempts_in_window == 7


def test_attempts_older_than_seven_days_no_longer_count(policy):
    # 6 recent attempts plus one exactly 7 days ago (outside the rolling window) -> 6 count
    previous = [AT - timedelta(days=d, hours=1) for d in range(6)] + [AT - timedelta(days=7)]
    decision = check_contact(party="borrower", at_local=AT, previous_attempts=previous, policy=policy)
    assert decision.allowed and decision.attempts_in_window == 6


def test_contact_hours_are_eight_to_twenty_one_local(policy):
    def at(h, m=0):
        return check_contact(party="borrower", at_local=AT.replace(hour=h, minute=m), previous_attempts=[], policy=policy)

    assert not at(7, 59).allowed
    assert at(8, 0).allowed
    assert at(20, 59).allowed
    assert at(21, 0).reasons == (ContactRefusal.OUTSIDE_CONTACT_HOURS,)


def test_every_broken_rule_is_reported(policy):
    previous = [AT.replace(hour=22) - timedelta(hours=h) for h in range(1, 8)]
    decision = check_contact(party="neighbour", at_local=AT.replace(hour=22), previous_attempts=previous, policy=policy)
    assert decision.reasons == (ContactRefusal.PARTY_NOT_ALLOWED, ContactRefusal.TOO_MANY_ATTEMPTS,
                                ContactRefusal.OUTSIDE_CONTACT_HOURS)

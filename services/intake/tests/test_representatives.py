"""Professional help: who may be authorised, for how long, and what the contact rules do while
an authorisation lasts. Dates are worked by hand below each test's numbers."""

from datetime import date, datetime, timedelta

import pytest
from forbear_intake.domain.contact_rules import ContactRefusal, contact_refusals
from forbear_intake.domain.representatives import (
    Representative,
    RepresentativeScope,
    check_authorisation,
    check_revocable,
)
from forbear_shared.domain.policy import PolicyError, RepresentativeKind, parse_policy
from forbear_shared.errors import Conflict, Unprocessable
from forbear_shared.policy_loader import load_policy

COMMS = RepresentativeScope.COMMUNICATIONS
NEGOTIATION = RepresentativeScope.NEGOTIATION
TODAY = date(2026, 3, 2)


@pytest.fixture(scope="module")
def policy():
    return load_policy()


def rep(scopes=(COMMS,), starts_on=date(2026, 3, 2), ends_on=date(2026, 8, 31), revoked_on=None,
        representative_id="R-1") -> Representative:
    return Representative(representative_id, RepresentativeKind.DEBT_ADVISER, frozenset(scopes), starts_on, ends_on,
                          revoked_on)


def refusals(policy, *, party="borrower", direction="outbound", at=datetime(2026, 3, 2, 10, 0), reps=(),
             representative_id=None, previous=()):
    return contact_refusals(direction=direction, party=party, at_local=at, previous_attempts=list(previous),
                            policy=policy, representatives=list(reps), representative_id=representative_id)


# -- active: authorised, not revoked, the business date within [start, end] ----------------------


def test_an_authorisation_is_active_on_its_first_and_last_day_and_not_a_day_outside():
    r = rep(starts_on=date(2026, 3, 2), ends_on=date(2026, 8, 31))
    assert [r.is_active(d) for d in (date(2026, 3, 1), date(2026, 3, 2), date(2026, 8, 31), date(2026, 9, 1))] == [
        False, True, True, False]


def test_a_revoked_authorisation_is_not_active_even_before_its_end_date():
    assert not rep(revoked_on=date(2026, 3, 5)).is_active(date(2026, 3, 5))


def test_an_authorisation_whose_document_was_rejected_is_not_active():
    r = Representative("R-1", RepresentativeKind.LAWYER, frozenset({COMMS}), date(2026, 3, 2), date(2026, 8, 31),
                       document_rejected=True)
    assert not r.is_active(TODAY) and not r.communicates_on(TODAY)


def test_only_the_communications_scope_diverts_the_lenders_contact():
    assert rep(scopes=(COMMS, NEGOTIATION)).communicates_on(TODAY)
    assert not rep(scopes=(NEGOTIATION,)).communicates_on(TODAY)


# -- recording an authorisation -------------------------------------------------------------------


def authorise(policy, *, kind=RepresentativeKind.LAWYER, scopes=(COMMS,), starts_on=TODAY, ends_on=None):
    check_authorisation(kind=kind, scopes=scopes, starts_on=starts_on,
                        ends_on=ends_on if ends_on is not None else date(2026, 6, 30), today=TODAY, policy=policy)


def test_an_authorisation_may_end_365_days_after_the_business_date_and_not_366(policy):
    # 2026-03-02 + 365 days = 2027-03-02 (no 29 February in between)
    authorise(policy, ends_on=date(2027, 3, 2))
    with pytest.raises(Unprocessable) as refused:
        authorise(policy, ends_on=date(2027, 3, 3))
    assert refused.value.reason == "ends_too_far"


def test_an_authorisation_ending_before_it_starts_is_refused(policy):
    with pytest.raises(Unprocessable) as refused:
        authorise(policy, starts_on=date(2026, 3, 10), ends_on=date(2026, 3, 9))
    assert refused.value.reason == "ends_before_start"


def test_a_one_day_authorisation_is_allowed(policy):
    authorise(policy, starts_on=date(2026, 3, 10), ends_on=date(2026, 3, 10))


def test_an_authorisation_cannot_start_before_the_business_date(policy):
    with pytest.raises(Unprocessable) as refused:
        authorise(policy, starts_on=date(2026, 3, 1))
    assert refused.value.reason == "starts_in_the_past"


def test_an_authorisation_needs_a_scope(policy):
    with pytest.raises(Unprocessable) as refused:
        authorise(policy, scopes=())
    assert refused.value.reason == "no_scope"


def test_a_kind_the_lender_does_not_accept_is_refused(policy):
    strict = policy.model_copy(update={"representatives": policy.representatives.model_copy(
        update={"allowed_kinds": (RepresentativeKind.LAWYER, RepresentativeKind.DEBT_ADVISER)})})
    authorise(strict, kind=RepresentativeKind.DEBT_ADVISER)
    with pytest.raises(Unprocessable) as refused:
        authorise(strict, kind=RepresentativeKind.FAMILY_MEMBER)
    assert refused.value.reason == "kind_not_allowed"


def test_a_revocation_is_recorded_once():
    check_revocable(rep())
    with pytest.raises(Conflict) as refused:
        check_revocable(rep(revoked_on=TODAY))
    assert refused.value.reason == "already_revoked"


@pytest.mark.parametrize(("section", "field"), [
    ({"max_days": 0}, "max_days"),
    ({"allowed_kinds": ["lawyer", "neighbour"]}, "allowed_kinds"),
    ({"allowed_kinds": []}, "allowed_kinds"),
    ({"max_dayz": 30}, "max_dayz"),
])
def test_the_policys_representatives_section_names_the_field_it_refuses(policy, section, field):
    data = policy.model_dump(mode="json")
    data["representatives"] = {**data["representatives"], **section}
    with pytest.raises(PolicyError, match=field):
        parse_policy(data)


def test_the_demo_lender_allows_a_year_and_every_kind(policy):
    assert policy.representatives.max_days == 365
    assert set(policy.representatives.allowed_kinds) == set(RepresentativeKind)


# -- the contact rules while an authorisation lasts -------------------------------------------------


def test_the_lender_contacts_an_active_representative(policy):
    assert refusals(policy, party="representative", reps=[rep()], representative_id="R-1") == ()


def test_the_lender_does_not_contact_a_represented_borrower_directly(policy):
    assert refusals(policy, reps=[rep()]) == (ContactRefusal.REPRESENTED_BORROWER,)


def test_a_represented_borrower_may_still_call_the_lender(policy):
    assert refusals(policy, direction="inbound", reps=[rep()]) == ()


def test_a_representative_for_negotiation_only_leaves_the_borrower_contactable(policy):
    negotiation_only = rep(scopes=(NEGOTIATION,))
    assert refusals(policy, reps=[negotiation_only]) == ()
    assert refusals(policy, party="representative", reps=[negotiation_only], representative_id="R-1") == (
        ContactRefusal.REPRESENTATIVE_NOT_AUTHORISED,)


def test_after_revocation_the_representative_is_refused_and_the_borrower_contactable_again(policy):
    revoked = rep(revoked_on=TODAY)
    assert refusals(policy, party="representative", reps=[revoked], representative_id="R-1") == (
        ContactRefusal.REPRESENTATIVE_NOT_AUTHORISED,)
    assert refusals(policy, reps=[revoked]) == ()


def test_the_day_after_the_end_date_the_borrower_is_contacted_again(policy):
    ended = rep(ends_on=date(2026, 3, 1))  # ended yesterday (business date 2026-03-02)
    assert refusals(policy, party="representative", reps=[ended], representative_id="R-1") == (
        ContactRefusal.REPRESENTATIVE_NOT_AUTHORISED,)
    assert refusals(policy, reps=[ended]) == ()


def test_an_authorisation_starting_tomorrow_does_not_divert_todays_contact(policy):
    tomorrow = rep(starts_on=date(2026, 3, 3))
    assert refusals(policy, reps=[tomorrow]) == ()


def test_a_representative_of_no_authorisation_on_the_case_is_refused(policy):
    assert refusals(policy, party="representative", reps=[rep()], representative_id="R-other") == (
        ContactRefusal.REPRESENTATIVE_NOT_AUTHORISED,)


def test_the_representative_is_called_only_within_contact_hours(policy):
    # contact hours are [08:00, 21:00): 21:00 is outside, whoever is called
    assert refusals(policy, party="representative", reps=[rep()], representative_id="R-1",
                    at=datetime(2026, 3, 2, 21, 0)) == (ContactRefusal.OUTSIDE_CONTACT_HOURS,)


def test_attempts_with_the_representative_count_toward_the_seven_in_seven_days(policy):
    at = datetime(2026, 3, 2, 10, 0)
    previous = [at - timedelta(days=d, hours=1) for d in range(7)]  # 7 attempts in the last 6 days 23 h
    assert refusals(policy, party="representative", reps=[rep()], representative_id="R-1", at=at,
                    previous=previous) == (ContactRefusal.TOO_MANY_ATTEMPTS,)


def test_a_guarantor_stays_contactable_and_third_parties_stay_refused(policy):
    assert refusals(policy, party="guarantor", reps=[rep()]) == ()
    assert refusals(policy, party="phone_contact", reps=[rep()]) == (ContactRefusal.PARTY_NOT_ALLOWED,)


def test_a_represented_borrower_called_at_night_hears_both_reasons(policy):
    assert refusals(policy, reps=[rep()], at=datetime(2026, 3, 2, 22, 0)) == (
        ContactRefusal.REPRESENTED_BORROWER, ContactRefusal.OUTSIDE_CONTACT_HOURS)


def test_a_contact_event_names_its_representative_only_when_it_went_through_one():
    from forbear_shared.events.schemas.intake import ContactRecorded

    base = {"contact_id": "K-1", "party": "borrower", "channel": "phone", "direction": "outbound",
            "outcome": "allowed", "local_time": "10:00", "on": "2026-03-02"}
    # without one the payload is what contact.recorded v1 always was (its golden file re-encodes unchanged)
    assert "representative_id" not in ContactRecorded.model_validate(base).model_dump(mode="json")
    through = ContactRecorded.model_validate({**base, "party": "representative", "representative_id": "R-1"})
    assert through.model_dump(mode="json")["representative_id"] == "R-1"

"""The renegotiation as the dual-tracking guard follows it: pending until it ends."""

from datetime import date

from forbear_monitoring.domain import renegotiation as rn
from forbear_monitoring.domain.renegotiation import EndReason, RenegotiationState

ASKED = date(2026, 3, 2)


def asked() -> rn.Renegotiation:
    return rn.requested("CASE-1", "AGR-1", ASKED, within_limit=True)


def test_a_request_within_the_limit_is_pending_one_over_it_holds_nothing():
    assert asked().state is RenegotiationState.REQUESTED
    over = rn.requested("CASE-2", "AGR-1", ASKED, within_limit=False)
    assert over.state is RenegotiationState.OVER_LIMIT and over.is_final
    # nothing moves a request over the limit: not evidence, not a decision, not an offer
    assert rn.offer_made(rn.decided(rn.submitted(over), "approve", ASKED)) == over


def test_submitted_evidence_puts_a_request_in_evaluation_and_an_approval_makes_an_offer():
    evaluating = rn.submitted(asked())
    assert evaluating.state is RenegotiationState.EVALUATING
    assert rn.decided(evaluating, "approve", date(2026, 3, 9)).state is RenegotiationState.OFFERED
    # more evidence asked for, or a supervisor's review: still in evaluation
    assert rn.decided(evaluating, "need_more_evidence", date(2026, 3, 9)).state is RenegotiationState.EVALUATING


def test_a_decline_ends_it_on_the_decision_date():
    ended = rn.decided(rn.submitted(asked()), "decline", date(2026, 3, 9))
    assert (ended.state, ended.ended_on, ended.ended_reason) == (RenegotiationState.ENDED, date(2026, 3, 9),
                                                                 EndReason.DECLINED)
    assert rn.decided(ended, "approve", date(2026, 3, 10)) == ended  # ended stays ended


def test_an_expired_offer_ends_it_only_when_no_other_offer_is_left():
    offered = rn.offer_made(rn.submitted(asked()))
    assert rn.offer_expired(offered, date(2026, 3, 20), offers_left=1) == offered
    ended = rn.offer_expired(offered, date(2026, 3, 20), offers_left=0)
    assert (ended.state, ended.ended_reason) == (RenegotiationState.ENDED, EndReason.OFFERS_EXPIRED)


def test_an_accepted_offer_stays_pending_until_the_new_agreement_supersedes_the_old():
    accepted = rn.offer_accepted(rn.offer_made(asked()))
    assert accepted.state is RenegotiationState.ACCEPTED and not accepted.is_final
    # a late expiry of another offer does not end an accepted renegotiation
    assert rn.offer_expired(accepted, date(2026, 3, 20), offers_left=0) == accepted
    done = rn.renegotiated(accepted, date(2026, 3, 25))
    assert (done.state, done.ended_on, done.ended_reason) == (RenegotiationState.ENDED, date(2026, 3, 25),
                                                              EndReason.RENEGOTIATED)

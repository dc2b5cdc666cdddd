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


def test_an_appeal_of_the_decline_is_pending_again_and_holds_referral_until_decided():
    from forbear_monitoring.domain.dual_tracking import PendingKind, referral_guard
    from forbear_monitoring.service_layer.review import pending_matters

    declined = rn.decided(rn.submitted(asked()), "decline", date(2026, 3, 9))
    appealed = rn.appeal_lodged(declined, "apl-1")
    assert (appealed.state, appealed.ended_on, appealed.ended_reason, appealed.appeal_id) == (
        RenegotiationState.APPEALED, None, None, "apl-1")
    assert not appealed.is_final
    held = pending_matters([{"case_id": "CASE-1", "agreement_id": "AGR-1", "state": "appealed",
                             "appeal_id": "apl-1", "offer_ids": None}])
    assert [m.kind for m in held["AGR-1"]] == [PendingKind.APPEAL]
    assert referral_guard("AGR-1", held["AGR-1"]).reason == "pending_appeal:apl-1"
    # upheld: the decline stands again, ended on the appeal's date
    upheld = rn.appeal_decided(appealed, "upheld", date(2026, 3, 16))
    assert (upheld.state, upheld.ended_on, upheld.ended_reason) == (RenegotiationState.ENDED, date(2026, 3, 16),
                                                                    EndReason.DECLINED)
    # overturned: back in evaluation, and the next decision moves it as before
    overturned = rn.appeal_decided(appealed, "overturned", date(2026, 3, 16))
    assert overturned.state is RenegotiationState.EVALUATING
    assert rn.decided(overturned, "approve", date(2026, 3, 20)).state is RenegotiationState.OFFERED


def test_only_a_declined_renegotiation_is_appealed():
    over = rn.requested("CASE-2", "AGR-1", ASKED, within_limit=False)
    assert rn.appeal_lodged(over, "apl-1") == over  # over the limit it held nothing and still holds nothing
    expired = rn.offer_expired(rn.offer_made(rn.submitted(asked())), date(2026, 3, 20), offers_left=0)
    assert rn.appeal_lodged(expired, "apl-1") == expired
    assert rn.appeal_decided(asked(), "overturned", ASKED) == asked()  # no appeal pending: nothing to decide

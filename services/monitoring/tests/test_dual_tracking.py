from forbear_monitoring.domain.dual_tracking import (
    PendingKind,
    PendingMatter,
    referral_guard,
)


def test_no_referral_while_an_offer_is_open():
    decision = referral_guard("AGR-1", [PendingMatter(PendingKind.OPEN_OFFER, "AGR-1", "OFFER-7")])
    assert not decision.allowed
    assert decision.reasons == ("pending_open_offer:OFFER-7",)


def test_every_pending_matter_is_named():
    decision = referral_guard("AGR-1", [
        PendingMatter(PendingKind.RENEGOTIATION_REQUEST, "AGR-1", "CASE-1"),
        PendingMatter(PendingKind.EVALUATION, "AGR-1", "CASE-1"),
        PendingMatter(PendingKind.APPEAL, "AGR-1", "APPEAL-2"),
    ])
    assert decision.reason == "pending_renegotiation_request:CASE-1;pending_evaluation:CASE-1;pending_appeal:APPEAL-2"


def test_matters_of_other_agreements_do_not_block_referral():
    decision = referral_guard("AGR-1", [PendingMatter(PendingKind.EVALUATION, "AGR-2", "CASE-9")])
    assert decision.allowed

from datetime import date

import pytest
from forbear_monitoring.domain.escalation import (
    EscalationError,
    EscalationLadder,
    EscalationState,
    Stage,
    choose_legal_route,
)
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import LegalRoute

M = Money.of
D0 = date(2025, 3, 1)


@pytest.fixture
def ladder(policy):
    return EscalationLadder(policy)


def test_dpd_one_sends_a_reminder(ladder):
    outcome = ladder.advance(ladder.start(D0), as_of=date(2025, 3, 2), dpd=1, missed_instalments=1)
    assert outcome.state.stage is Stage.REMINDER
    assert [s.reason for s in outcome.steps] == ["dpd_1"]


def test_dpd_seven_sends_a_warning(ladder):
    state = ladder.advance(ladder.start(D0), as_of=date(2025, 3, 2), dpd=1, missed_instalments=1).state
    outcome = ladder.advance(state, as_of=date(2025, 3, 8), dpd=7, missed_instalments=1)
    assert [(s.from_stage, s.to_stage) for s in outcome.steps] == [(Stage.REMINDER, Stage.WARNING)]


def test_a_dpd_jump_emits_every_intermediate_step_in_order(ladder):
    # a sweep finds DPD 20 on an agreement still marked current: reminder, warning, breach notice
    outcome = ladder.advance(ladder.start(D0), as_of=date(2025, 3, 21), dpd=20, missed_instalments=1)
    assert [s.to_stage for s in outcome.steps] == [Stage.REMINDER, Stage.WARNING, Stage.BREACH_NOTICE]
    assert outcome.state.stage is Stage.BREACH_NOTICE


def test_breach_notice_gives_fourteen_days_to_remedy(ladder):
    state = EscalationState(Stage.WARNING, date(2025, 3, 8))
    outcome = ladder.advance(state, as_of=date(2025, 3, 16), dpd=15, missed_instalments=1)
    # 16 Mar + 14 days = 30 Mar, the last day to remedy
    assert outcome.state.remedy_deadline == date(2025, 3, 30)
    assert outcome.steps[-1].remedy_deadline == date(2025, 3, 30)
    still = ladder.advance(outcome.state, as_of=date(2025, 3, 30), dpd=29, missed_instalments=1)
    assert still.state.stage is Stage.BREACH_NOTICE and still.steps == ()


def test_an_expired_remedy_period_refers_to_legal(ladder):
    state = EscalationState(Stage.BREACH_NOTICE, date(2025, 3, 16), date(2025, 3, 30))
    outcome = ladder.advance(state, as_of=date(2025, 3, 31), dpd=30, missed_instalments=1)
    assert outcome.state.stage is Stage.LEGAL_REFERRAL
    assert outcome.steps[-1].reason == "remedy_period_expired"


def test_third_missed_instalment_refers_to_legal(ladder):
    # weekly-style plan: only DPD 8 but 3 unpaid missed instalments -> breach notice then referral
    state = EscalationState(Stage.WARNING, date(2025, 3, 8))
    outcome = ladder.advance(state, as_of=date(2025, 3, 9), dpd=8, missed_instalments=3)
    assert [s.to_stage for s in outcome.steps] == [Stage.BREACH_NOTICE, Stage.LEGAL_REFERRAL]
    assert outcome.steps[-1].reason == "missed_instalments"


def test_referral_is_held_while_a_negotiation_is_pending(ladder):
    state = EscalationState(Stage.BREACH_NOTICE, date(2025, 3, 16), date(2025, 3, 30))
    outcome = ladder.advance(state, as_of=date(2025, 4, 2), dpd=32, missed_instalments=1,
                             referral_block="pending_evaluation:CASE-1")
    assert outcome.state.stage is Stage.BREACH_NOTICE
    assert outcome.referral_held == "pending_evaluation:CASE-1"


def test_paying_all_arrears_before_referral_cures_back_to_current(ladder):
    state = EscalationState(Stage.BREACH_NOTICE, date(2025, 3, 16), date(2025, 3, 30))
    cured, step = ladder.cure(state, on=date(2025, 3, 20), arrears=M("0.00"))
    assert cured.stage is Stage.CURRENT and step.reason == "arrears_paid"


def test_a_partial_payment_does_not_cure(ladder):
    state = EscalationState(Stage.WARNING, date(2025, 3, 8))
    with pytest.raises(EscalationError) as error:
        ladder.cure(state, on=date(2025, 3, 10), arrears=M("500.00"))
    assert error.value.reason == "arrears_outstanding"


def test_lower_dpd_never_moves_the_ladder_backwards(ladder):
    state = EscalationState(Stage.WARNING, date(2025, 3, 8))
    outcome = ladder.advance(state, as_of=date(2025, 3, 10), dpd=2, missed_instalments=1)
    assert outcome.state == state and outcome.steps == ()


def test_legal_referral_is_final(ladder):
    state = EscalationState(Stage.LEGAL_REFERRAL, date(2025, 4, 1))
    with pytest.raises(EscalationError) as error:
        ladder.cure(state, on=date(2025, 4, 2), arrears=M("0"))
    assert error.value.reason == "terminal_state"
    assert ladder.advance(state, as_of=date(2025, 5, 1), dpd=60, missed_instalments=3).steps == ()


def test_completion_needs_every_instalment_paid_and_is_final(ladder):
    with pytest.raises(EscalationError):
        ladder.complete(ladder.start(D0), on=date(2025, 6, 1), all_instalments_paid=False)
    done, step = ladder.complete(ladder.start(D0), on=date(2025, 6, 1), all_instalments_paid=True)
    assert done.stage is Stage.COMPLETED and done.is_final
    with pytest.raises(EscalationError):
        ladder.transition(done, Stage.REMINDER, on=date(2025, 6, 2), reason="x")


def test_skipping_a_step_by_hand_is_an_illegal_transition(ladder):
    with pytest.raises(EscalationError) as error:
        ladder.transition(ladder.start(D0), Stage.BREACH_NOTICE, on=D0, reason="manual")
    assert error.value.reason == "illegal_transition"


def test_small_debt_with_clean_history_goes_to_pre_litigation_mediation(policy):
    choice = choose_legal_route(M("30000.00"), broken_agreements=0, policy=policy)
    assert choice.route is LegalRoute.PRE_LITIGATION_MEDIATION


def test_small_debt_after_a_broken_agreement_goes_to_a_lawsuit(policy):
    assert choose_legal_route(M("30000.00"), broken_agreements=1, policy=policy).route is LegalRoute.LAWSUIT


def test_mid_size_debt_goes_to_a_lawsuit(policy):
    # above the 50,000.00 mediation limit, below the 200,000.00 asset-preservation threshold
    assert choose_legal_route(M("50000.01"), broken_agreements=0, policy=policy).route is LegalRoute.LAWSUIT


def test_large_debt_goes_to_asset_preservation(policy):
    assert choose_legal_route(M("200000.00"), broken_agreements=0, policy=policy).route is LegalRoute.ASSET_PRESERVATION


def test_the_remedy_period_counts_in_the_policys_unit(policy):
    from forbear_monitoring.domain.escalation import remedy_deadline
    from forbear_shared.domain.working_days import DayUnit

    # demo: 14 calendar days from a breach notice on Mon 28 Sep 2026 -> Mon 12 Oct
    assert remedy_deadline(date(2026, 9, 28), policy) == date(2026, 10, 12)
    units = policy.calendar.units.model_copy(update={"remedy": DayUnit.WORKING})
    working = policy.model_copy(update={"calendar": policy.calendar.model_copy(update={"units": units})})
    # 14 working days: 29, 30 Sep, [National Day 1-7 Oct], 8, 9, 10 (Sat, make-up day), 12-16,
    # 19-22 Oct -> Thu 22 Oct
    assert remedy_deadline(date(2026, 9, 28), working) == date(2026, 10, 22)

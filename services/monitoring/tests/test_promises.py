"""Promise to pay: what may be promised, when it is kept or broken, and what it does to the ladder.

The demo policy (``[promises]``): at most 14 calendar days ahead, one open promise per agreement,
an open promise holds the ladder, a broken one on an agreement in arrears moves it one level up.
"""

from datetime import date

import pytest
from forbear_monitoring.domain.escalation import EscalationLadder, EscalationState, Stage
from forbear_monitoring.domain.promises import (
    PromiseStatus,
    PromiseTerms,
    check_promise,
    judge,
)
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import PolicyError, parse_policy
from forbear_shared.errors import Conflict, Unprocessable

M = Money.of
TODAY = date(2026, 3, 2)
OWED = M("3000.00")


def check(policy, amount="500.00", due=date(2026, 3, 10), *, owed=OWED, status="active", open_promises=0):
    return check_promise(amount=M(amount), due_date=due, business_date=TODAY, owed=owed, agreement_status=status,
                         open_promises=open_promises, policy=policy)


# -- what may be promised -----------------------------------------------------------------------


def test_a_promise_of_500_by_the_10th_made_on_the_2nd_is_recorded(policy):
    terms = check(policy)
    assert terms == PromiseTerms(M("500.00"), date(2026, 3, 10), TODAY)


def test_the_promised_date_may_be_today_or_up_to_14_days_ahead(policy):
    assert check(policy, due=TODAY).due_date == TODAY
    # 2 Mar + 14 calendar days = 16 Mar, the last date a promise may fall due
    assert check(policy, due=date(2026, 3, 16)).due_date == date(2026, 3, 16)
    with pytest.raises(Unprocessable) as too_far:
        check(policy, due=date(2026, 3, 17))
    assert too_far.value.reason == "promise_date_too_far"
    with pytest.raises(Unprocessable) as past:
        check(policy, due=date(2026, 3, 1))
    assert past.value.reason == "promise_date_in_past"


def test_a_promise_of_more_than_is_owed_is_refused_and_all_of_it_is_not(policy):
    assert check(policy, "3000.00").amount == M("3000.00")
    with pytest.raises(Unprocessable) as refused:
        check(policy, "3000.01")
    assert refused.value.reason == "promise_exceeds_owed"


def test_a_promise_of_nothing_is_refused(policy):
    with pytest.raises(Unprocessable) as refused:
        check(policy, "0.00")
    assert refused.value.reason == "promise_amount_not_positive"


def test_a_second_open_promise_is_a_conflict(policy):
    with pytest.raises(Conflict) as refused:
        check(policy, open_promises=1)
    assert refused.value.reason == "promise_open"


def test_a_closed_agreement_takes_no_promise(policy):
    with pytest.raises(Conflict) as refused:
        check(policy, status="completed")
    assert refused.value.reason == "agreement_closed"


def test_a_policy_without_promises_takes_none(policy):
    off = policy.model_copy(update={"promises": policy.promises.model_copy(update={"enabled": False})})
    with pytest.raises(Conflict) as refused:
        check(off)
    assert refused.value.reason == "promises_disabled"


def test_the_policy_section_is_validated_naming_the_field(policy):
    data = policy.model_dump(mode="json")
    data["promises"] = {**data["promises"], "max_days_ahead": 90}
    with pytest.raises(PolicyError, match="promises.max_days_ahead"):
        parse_policy(data)
    data["promises"] = {**data["promises"], "max_days_ahead": 14, "max_open": 0}
    with pytest.raises(PolicyError, match="promises.max_open"):
        parse_policy(data)


# -- kept or broken -----------------------------------------------------------------------------

PROMISE = PromiseTerms(M("500.00"), date(2026, 3, 10), made_on=date(2026, 3, 2))


def test_200_on_the_5th_and_300_on_the_10th_keep_a_promise_of_500_by_the_10th():
    payments = [(date(2026, 3, 5), M("200.00")), (date(2026, 3, 10), M("300.00"))]
    # by the close of the 9th only 200.00 of 500.00 came: still open
    assert judge(PROMISE, payments, closing=date(2026, 3, 9)) is None
    # the close of the 10th: 200.00 + 300.00 = 500.00, the amount: kept
    kept = judge(PROMISE, payments, closing=date(2026, 3, 10))
    assert kept is not None and kept.status is PromiseStatus.KEPT and kept.paid == M("500.00")


def test_499_99_by_the_10th_breaks_a_promise_of_500_at_the_close_of_the_10th():
    payments = [(date(2026, 3, 5), M("200.00")), (date(2026, 3, 10), M("299.99"))]
    broken = judge(PROMISE, payments, closing=date(2026, 3, 10))
    # 200.00 + 299.99 = 499.99, one cent short: the allocation tolerance does not apply to a promise
    assert broken is not None and broken.status is PromiseStatus.BROKEN and broken.paid == M("499.99")


def test_a_payment_before_the_promise_was_made_does_not_count():
    # 500.00 received on 1 Mar, the day before the promise was made on 2 Mar: nothing counts
    broken = judge(PROMISE, [(date(2026, 3, 1), M("500.00"))], closing=date(2026, 3, 10))
    assert broken is not None and broken.status is PromiseStatus.BROKEN and broken.paid == M("0.00")


def test_a_payment_after_the_promised_date_does_not_count():
    # the close of business that catches up over the 10th and 11th judges the 10th first: broken
    broken = judge(PROMISE, [(date(2026, 3, 11), M("500.00"))], closing=date(2026, 3, 11))
    assert broken is not None and broken.status is PromiseStatus.BROKEN and broken.paid == M("0.00")


def test_a_promise_paid_early_in_full_is_kept_before_its_date():
    kept = judge(PROMISE, [(date(2026, 3, 2), M("600.00"))], closing=date(2026, 3, 2))
    assert kept is not None and kept.status is PromiseStatus.KEPT and kept.paid == M("600.00")


# -- the ladder ---------------------------------------------------------------------------------


@pytest.fixture
def ladder(policy):
    return EscalationLadder(policy)


def test_a_broken_promise_moves_an_agreement_in_arrears_one_level_up(ladder):
    # at reminder since 2 Mar, DPD 3 (a warning waits for DPD 7); the promise breaks at this close
    state = EscalationState(Stage.REMINDER, date(2026, 3, 2))
    outcome = ladder.advance(state, as_of=date(2026, 3, 11), dpd=3, missed_instalments=1, promise_broken=True)
    assert [(s.from_stage, s.to_stage, s.reason) for s in outcome.steps] == [
        (Stage.REMINDER, Stage.WARNING, "promise_broken")]
    # without the broken promise DPD 3 leaves it where it is
    assert ladder.advance(state, as_of=date(2026, 3, 11), dpd=3, missed_instalments=1).steps == ()


def test_a_broken_promise_never_refers_by_itself(ladder):
    # at a breach notice whose remedy runs to 30 Mar: a broken promise on the 20th does not refer
    state = EscalationState(Stage.BREACH_NOTICE, date(2026, 3, 16), remedy_deadline=date(2026, 3, 30))
    outcome = ladder.advance(state, as_of=date(2026, 3, 20), dpd=19, missed_instalments=1, promise_broken=True)
    assert outcome.steps == () and outcome.state.stage is Stage.BREACH_NOTICE


def test_when_dpd_asks_for_more_a_broken_promise_adds_nothing(ladder):
    # DPD 15 takes a reminder to the breach notice in two steps, as DPD says
    state = EscalationState(Stage.REMINDER, date(2026, 3, 2))
    outcome = ladder.advance(state, as_of=date(2026, 3, 16), dpd=15, missed_instalments=1, promise_broken=True)
    assert [(s.to_stage, s.reason) for s in outcome.steps] == [(Stage.WARNING, "dpd_15"), (Stage.BREACH_NOTICE, "dpd_15")]


def test_an_open_promise_holds_the_ladder_then_it_catches_up_step_by_step(ladder):
    state = EscalationState(Stage.REMINDER, date(2026, 3, 2))
    # DPD 8 asks for a warning, but a promise is open: held at reminder
    held = ladder.advance(state, as_of=date(2026, 3, 9), dpd=8, missed_instalments=1, promise_open=True)
    assert held.steps == () and held.state.stage is Stage.REMINDER
    # the promise is over (kept late or broken without arrears moving it): DPD 16 now, warning then breach notice
    after = ladder.advance(held.state, as_of=date(2026, 3, 17), dpd=16, missed_instalments=1)
    assert [s.to_stage for s in after.steps] == [Stage.WARNING, Stage.BREACH_NOTICE]


def test_an_open_promise_does_not_hold_a_referral_already_due(ladder):
    # the remedy period ended on 30 Mar; a promise open on the 31st does not hold the referral
    state = EscalationState(Stage.BREACH_NOTICE, date(2026, 3, 16), remedy_deadline=date(2026, 3, 30))
    outcome = ladder.advance(state, as_of=date(2026, 3, 31), dpd=30, missed_instalments=1, promise_open=True)
    assert outcome.state.stage is Stage.LEGAL_REFERRAL


def test_a_broken_promise_still_respects_the_dual_tracking_guard_on_referral(ladder):
    state = EscalationState(Stage.BREACH_NOTICE, date(2026, 3, 16), remedy_deadline=date(2026, 3, 30))
    outcome = ladder.advance(state, as_of=date(2026, 3, 31), dpd=30, missed_instalments=1, promise_broken=True,
                             referral_block="renegotiation_request:C-1")
    assert outcome.state.stage is Stage.BREACH_NOTICE and outcome.referral_held == "renegotiation_request:C-1"


def test_the_policy_can_switch_both_ladder_rules_off(policy):
    rule = policy.promises.model_copy(update={"holds_escalation": False, "broken_escalates": False})
    ladder = EscalationLadder(policy.model_copy(update={"promises": rule}))
    state = EscalationState(Stage.REMINDER, date(2026, 3, 2))
    assert ladder.advance(state, as_of=date(2026, 3, 11), dpd=3, missed_instalments=1, promise_broken=True).steps == ()
    moved = ladder.advance(state, as_of=date(2026, 3, 9), dpd=8, missed_instalments=1, promise_open=True)
    assert [s.to_stage for s in moved.steps] == [Stage.WARNING]

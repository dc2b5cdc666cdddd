"""Early warning: near breach at an instalment's checkpoint (policy ``early_warning``).

The demo policy: checkpoint 7 calendar days before the due date, at least 0.50 of the instalment
paid by then, 3 grace days, a 1.00 allocation tolerance.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from forbear_monitoring.domain.early_warning import (
    InstalmentWatch,
    WatchState,
    assess,
    checkpoint_of,
    early_warnings,
    record,
)
from forbear_shared.domain.allocation import Payment, apply_payment
from forbear_shared.domain.arrears import LoanLedger
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import EarlyWarningPolicy, PolicyError, parse_policy
from forbear_shared.domain.schedule import Schedule, equal_principal_schedule
from hypothesis import given, settings
from hypothesis import strategies as st

M = Money.of
DUE = date(2026, 3, 31)
CHECKPOINT = date(2026, 3, 24)  # 31 March - 7 days
CUTOFF = date(2026, 4, 3)  # 31 March + 3 grace days: the last day paying in full is on time


@pytest.fixture
def interest_free() -> Schedule:
    """3,000.00 at 0 % over 3 months, equal principal: 1,000.00 due 31 Mar, 30 Apr, 31 May 2026."""
    return equal_principal_schedule(M("3000.00"), Decimal("0"), 3, DUE)


def paid(schedule: Schedule, policy, *payments: tuple[str, str]) -> LoanLedger:
    ledger = LoanLedger.open(schedule, policy)
    for n, (on, amount) in enumerate(payments):
        ledger, _ = apply_payment(ledger, Payment(f"P{n}", date.fromisoformat(on), M(amount)), policy)
    return ledger


def sweep_daily(schedule, policy, payments: dict[date, str], start: date, end: date):
    """Close of business every day from ``start`` to ``end``: the day's payments, then the rule,
    with what earlier days recorded (as the service keeps it)."""
    ledger = LoanLedger.open(schedule, policy)
    states: dict[int, WatchState] = {}
    seen = []
    day = start
    while day <= end:
        if day in payments:
            ledger, _ = apply_payment(ledger, Payment(f"P{day}", day, M(payments[day])), policy)
        decisions = early_warnings(ledger, as_of=day, policy=policy, states=states)
        states = record(states, decisions)
        seen += [(day, d.number, d.verdict) for d in decisions]
        day += timedelta(days=1)
    return seen


def test_the_demo_policy_checks_half_the_instalment_seven_days_before_it_is_due(policy):
    rule = policy.early_warning
    assert (rule.enabled, rule.checkpoint_days_before_due, rule.min_paid_share) == (True, 7, Decimal("0.50"))
    assert checkpoint_of(DUE, rule) == CHECKPOINT


def test_paid_300_of_1000_by_the_checkpoint_is_near_breach(interest_free, policy):
    # 300.00 < 0.50 x 1,000.00 = 500.00 on 24 March
    ledger = paid(interest_free, policy, ("2026-03-20", "300.00"))
    [decision] = early_warnings(ledger, as_of=CHECKPOINT, policy=policy)
    assert decision.verdict is WatchState.NEAR_BREACH
    assert (decision.number, decision.due_date, decision.checkpoint) == (1, DUE, CHECKPOINT)
    assert (decision.amount_due, decision.amount_paid, decision.required_share) == (
        M("1000.00"), M("300.00"), Decimal("0.50"))


def test_paid_exactly_the_share_is_not_near_breach(interest_free, policy):
    # 500.00 = 0.50 x 1,000.00: the share is reached, not short of it
    ledger = paid(interest_free, policy, ("2026-03-20", "500.00"))
    assert early_warnings(ledger, as_of=CHECKPOINT, policy=policy) == ()


def test_nothing_is_checked_before_the_checkpoint(interest_free, policy):
    ledger = paid(interest_free, policy)
    assert early_warnings(ledger, as_of=CHECKPOINT - timedelta(days=1), policy=policy) == ()
    # nothing paid on 24 March: 0.00 < 500.00, instalment 1 only (instalment 2's checkpoint is 23 April)
    assert [(d.number, d.verdict) for d in early_warnings(ledger, as_of=CHECKPOINT, policy=policy)] == [
        (1, WatchState.NEAR_BREACH)]


def test_the_share_counts_interest_and_fee_with_the_principal(agreement_schedule, policy):
    # 3,000.00 at 12 %, equal principal: instalment 1 = 1,000.00 + 30.00 = 1,030.00 due 10 Feb 2025,
    # checkpoint 3 Feb; 0.50 x 1,030.00 = 515.00. Allocation pays interest first: 514.99 is
    # 30.00 interest + 484.99 principal, a cent short; 515.00 is not.
    checkpoint = date(2025, 2, 3)
    short = paid(agreement_schedule, policy, ("2025-02-01", "514.99"))
    assert [d.amount_paid for d in early_warnings(short, as_of=checkpoint, policy=policy)] == [M("514.99")]
    enough = paid(agreement_schedule, policy, ("2025-02-01", "515.00"))
    assert early_warnings(enough, as_of=checkpoint, policy=policy) == ()


def test_a_catch_up_after_days_down_flags_the_instalment_once(interest_free, policy):
    # down from 20 March to 28 March, then caught up day by day: flagged on its checkpoint only
    seen = sweep_daily(interest_free, policy, {date(2026, 3, 20): "300.00"}, date(2026, 3, 20), date(2026, 3, 30))
    assert seen == [(CHECKPOINT, 1, WatchState.NEAR_BREACH)]


def test_an_agreement_first_swept_after_the_checkpoint_is_flagged_at_its_first_close(interest_free, policy):
    # activated on 27 March, inside the window (24 March to 3 April): flagged that day, once
    seen = sweep_daily(interest_free, policy, {}, date(2026, 3, 27), date(2026, 4, 2))
    assert seen == [(date(2026, 3, 27), 1, WatchState.NEAR_BREACH)]


def test_paying_up_to_the_share_clears_the_near_breach(interest_free, policy):
    # 300.00 by the checkpoint (near breach), 200.00 more on 26 March: 500.00 = the share, cleared
    seen = sweep_daily(interest_free, policy, {date(2026, 3, 20): "300.00", date(2026, 3, 26): "200.00"},
                       date(2026, 3, 20), date(2026, 4, 10))
    assert seen == [(CHECKPOINT, 1, WatchState.NEAR_BREACH), (date(2026, 3, 26), 1, WatchState.CLEARED)]


def test_paying_within_tolerance_clears_the_near_breach(interest_free, policy):
    # 999.00 of 1,000.00 on 2 April: 1.00 short, within the 1.00 tolerance: paid, so cleared
    seen = sweep_daily(interest_free, policy, {date(2026, 4, 2): "999.00"}, CHECKPOINT, date(2026, 4, 10))
    assert seen == [(CHECKPOINT, 1, WatchState.NEAR_BREACH), (date(2026, 4, 2), 1, WatchState.CLEARED)]


def test_a_missed_instalment_supersedes_its_near_breach(interest_free, policy):
    # 300.00 only: near breach on 24 March; grace ends 3 April; missed on 4 April, when the
    # near breach is superseded (the missed instalment and the ladder speak for it from then on)
    seen = sweep_daily(interest_free, policy, {date(2026, 3, 20): "300.00"}, date(2026, 3, 20), date(2026, 4, 20))
    assert seen == [(CHECKPOINT, 1, WatchState.NEAR_BREACH), (date(2026, 4, 4), 1, WatchState.SUPERSEDED)]


def test_an_instalment_already_missed_is_never_flagged_near_breach(interest_free, policy):
    # first swept on 4 April, the day instalment 1 is missed: no near breach for it
    ledger = paid(interest_free, policy, ("2026-03-20", "300.00"))
    assert early_warnings(ledger, as_of=CUTOFF + timedelta(days=1), policy=policy) == ()
    # on the grace cutoff itself it is still only near breach
    assert [d.verdict for d in early_warnings(ledger, as_of=CUTOFF, policy=policy)] == [WatchState.NEAR_BREACH]


def test_an_open_near_breach_of_an_agreement_no_longer_monitored_is_superseded(policy):
    rule = policy.early_warning
    watch = InstalmentWatch(1, DUE, CUTOFF, M("1000.00"), M("300.00"), None, WatchState.NEAR_BREACH, monitored=False)
    decision = assess(watch, as_of=date(2026, 3, 26), rule=rule)
    assert decision is not None and decision.verdict is WatchState.SUPERSEDED


def test_a_cleared_or_superseded_instalment_is_not_looked_at_again(policy):
    rule = policy.early_warning
    for state in (WatchState.CLEARED, WatchState.SUPERSEDED):
        watch = InstalmentWatch(1, DUE, CUTOFF, M("1000.00"), M("0.00"), None, state)
        assert assess(watch, as_of=date(2026, 3, 30), rule=rule) is None


def test_a_policy_without_early_warning_flags_nothing(interest_free, policy):
    off = policy.model_copy(update={"early_warning": EarlyWarningPolicy()})
    assert off.early_warning.enabled is False
    assert early_warnings(paid(interest_free, off), as_of=CHECKPOINT, policy=off) == ()


def test_the_policy_refuses_a_share_outside_zero_to_one_naming_the_field(policy):
    data = policy.model_dump(mode="json")
    data["early_warning"] = {"enabled": True, "checkpoint_days_before_due": 7, "min_paid_share": "1.5"}
    with pytest.raises(PolicyError, match="min_paid_share"):
        parse_policy(data)
    data["early_warning"] = {"enabled": True, "checkpoint_days_before_due": 7, "min_paid_share": "0"}
    with pytest.raises(PolicyError, match="min_paid_share"):
        parse_policy(data)
    data["early_warning"] = {"enabled": True, "checkpoint_days_before_due": 40, "min_paid_share": "0.5"}
    with pytest.raises(PolicyError, match="checkpoint_days_before_due"):
        parse_policy(data)


@settings(max_examples=60, deadline=None)
@given(cents=st.integers(min_value=0, max_value=100_000), pay_day=st.integers(min_value=0, max_value=40))
def test_one_payment_flags_once_exactly_when_short_of_the_share_at_the_checkpoint(policy, cents, pay_day):
    # one payment of ``cents`` on 15 March + pay_day; swept daily 15 March to 30 April
    schedule = equal_principal_schedule(M("3000.00"), Decimal("0"), 3, DUE)
    on = date(2026, 3, 15) + timedelta(days=pay_day)
    amount = Decimal(cents) / 100
    payments = {on: str(amount)} if cents else {}
    seen = [s for s in sweep_daily(schedule, policy, payments, date(2026, 3, 15), date(2026, 4, 20)) if s[1] == 1]
    flags = [s for s in seen if s[2] is WatchState.NEAR_BREACH]
    paid_by_checkpoint = amount if on <= CHECKPOINT else Decimal(0)
    # instalment 1 takes the first 1,000.00 of the payment (oldest first)
    assert len(flags) == (1 if min(paid_by_checkpoint, Decimal(1000)) < Decimal("500.00") else 0)
    assert len(seen) <= 2  # flagged, then cleared or superseded, at most once each

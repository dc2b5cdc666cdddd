from datetime import date

from forbear_monitoring.domain.manual_payments import ReceivedOnRefusal, check_received_on

BUSINESS_DATE = date(2026, 4, 20)
ACTIVATED = date(2026, 3, 1)


def check(received_on: date, policy, activated: date = ACTIVATED):
    return check_received_on(received_on, business_date=BUSINESS_DATE, agreement_start=activated, policy=policy)


def test_a_slip_entered_on_the_day_is_not_backdated(policy):
    entry = check(BUSINESS_DATE, policy)
    assert (entry.refusal, entry.backdated_days) == (None, 0)


def test_a_slip_dated_ten_days_back_is_taken_and_counted_as_backdated(policy):
    """payments.max_backdated_days = 10 in the demo lender's policy."""
    entry = check(date(2026, 4, 10), policy)
    assert (entry.refusal, entry.backdated_days) == (None, 10)


def test_eleven_days_back_is_refused(policy):
    entry = check(date(2026, 4, 9), policy)
    assert entry.refusal is ReceivedOnRefusal.BACKDATED_TOO_FAR
    assert entry.earliest == date(2026, 4, 10)


def test_a_slip_from_1900_cannot_make_an_instalment_look_paid_on_time(policy):
    assert check(date(1900, 1, 1), policy).refusal is ReceivedOnRefusal.BEFORE_AGREEMENT


def test_nothing_is_received_before_the_agreement_took_effect(policy):
    entry = check(date(2026, 4, 14), policy, activated=date(2026, 4, 15))
    assert entry.refusal is ReceivedOnRefusal.BEFORE_AGREEMENT
    assert entry.earliest == date(2026, 4, 15)


def test_money_not_received_yet_is_refused(policy):
    assert check(date(2026, 4, 21), policy).refusal is ReceivedOnRefusal.AFTER_BUSINESS_DATE

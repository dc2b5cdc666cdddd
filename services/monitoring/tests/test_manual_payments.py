from datetime import date
from decimal import Decimal

import pytest
from forbear_monitoring.domain.manual_payments import ReceivedOnRefusal, RecordedSlip, check_received_on, check_slip
from forbear_shared.errors import Conflict

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


# -- a slip against an agreement: the reference, the agreement's status, the date -----------------




def slip(policy, *, recorded=None, status="active", received_on=None, amount="1030.00"):
    return check_slip(agreement_id="AGR-1", amount=Decimal(amount), received_on=received_on, recorded=recorded,
                      agreement_status=status, agreement_start=ACTIVATED, business_date=BUSINESS_DATE, policy=policy)


def test_a_slip_without_a_date_is_dated_on_the_business_date(policy):
    entry = slip(policy)
    assert (entry.received_on, entry.backdated_days) == (BUSINESS_DATE, 0)


def test_the_same_reference_with_the_same_details_is_the_same_payment(policy):
    recorded = RecordedSlip("AGR-1", Decimal("1030.00"), BUSINESS_DATE)
    assert slip(policy, recorded=recorded) is None
    # even once the agreement closed: the repeat changes nothing, it is not a new payment
    assert slip(policy, recorded=recorded, status="completed") is None


def test_the_same_reference_with_another_amount_is_refused(policy):
    with pytest.raises(Conflict) as refused:
        slip(policy, recorded=RecordedSlip("AGR-1", Decimal("1030.00"), BUSINESS_DATE), amount="7.00")
    assert refused.value.reason == "payment_reference_conflict"


def test_a_completed_agreement_takes_no_more_payments(policy):
    with pytest.raises(Conflict) as refused:
        slip(policy, status="completed")
    assert refused.value.reason == "agreement_closed"


def test_a_slip_dated_eleven_days_back_is_refused_with_the_reason(policy):
    with pytest.raises(Conflict) as refused:
        slip(policy, received_on=date(2026, 4, 9))
    assert refused.value.reason == "received_on_backdated_too_far"

from datetime import date

import pytest
from forbear_shared.domain.allocation import AllocationError, Payment, apply_payment, apply_payments
from forbear_shared.domain.arrears import LoanLedger
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import Component

M = Money.of
FEES, PEN, INT, PRI = Component.FEES, Component.PENALTY_INTEREST, Component.INTEREST, Component.PRINCIPAL


def test_a_late_payment_pays_penalty_then_interest_then_principal(loan_12000, policy):
    ledger = LoanLedger.open(loan_12000, policy)
    # 2 Mar: 20 days late -> penalty 1000.00 x 0.0005 x 20 = 10.00
    # 500.00 = 10.00 penalty + 120.00 interest + 370.00 principal
    ledger, statement = apply_payment(ledger, Payment("P1", date(2025, 3, 2), M("500.00")), policy)
    assert [(line.instalment_number, line.component, line.amount) for line in statement.lines] == [
        (1, PEN, M("10.00")), (1, INT, M("120.00")), (1, PRI, M("370.00"))]
    assert statement.penalty_charged == M("10.00")
    assert statement.unapplied == M("0") and statement.settled_instalments == ()
    assert ledger.outstanding(1).principal == M("630.00")


def test_the_oldest_instalment_is_paid_before_the_next(loan_12000, policy):
    ledger = LoanLedger.open(loan_12000, policy)
    # 12 Mar: inst 1 is 30 days late -> penalty 30 x 0.50 = 15.00, total owed 1135.00;
    # inst 2 (due 10 Mar, within grace) owes 1000.00 + 110.00.
    # 1500.00 = 1135.00 to inst 1 + 110.00 interest and 255.00 principal to inst 2
    ledger, statement = apply_payment(ledger, Payment("P1", date(2025, 3, 12), M("1500.00")), policy)
    assert statement.total_for_instalment(1) == M("1135.00")
    assert statement.total_for_instalment(2) == M("365.00")
    assert statement.total_for(INT) == M("230.00")  # 120 + 110
    assert statement.settled_instalments == (1,)
    assert ledger.position(1).settled_on == date(2025, 3, 12)


def test_a_scheduled_fee_is_paid_before_interest(policy):
    from decimal import Decimal

    from forbear_shared.domain.schedule import RepaymentMethod, build_schedule

    # 1000.00 at 12 %, one capitalised deferral month (10.00) with a 50.00 fee, then 1 repayment:
    # 1010.00 principal + 10.10 interest + 50.00 fee
    schedule = build_schedule(M("1000.00"), Decimal("0.12"), repayments=1, first_due_date=date(2025, 2, 1),
                              deferral_periods=1, deferral_fee=M("50.00"), method=RepaymentMethod.EQUAL_PRINCIPAL)
    ledger = LoanLedger.open(schedule, policy)
    ledger, statement = apply_payment(ledger, Payment("F", date(2025, 3, 1), M("55.00")), policy)
    assert [(line.component, line.amount) for line in statement.lines] == [(FEES, M("50.00")), (INT, M("5.00"))]


def test_a_shortfall_within_tolerance_counts_as_paid(loan_12000, policy):
    ledger = LoanLedger.open(loan_12000, policy)
    # 1119.50 against 1120.00 due: shortfall 0.50 <= tolerance 1.00
    ledger, statement = apply_payment(ledger, Payment("P1", date(2025, 2, 10), M("1119.50")), policy)
    assert statement.settled_instalments == (1,)
    assert ledger.is_settled(1, date(2025, 2, 10))


def test_a_shortfall_above_tolerance_leaves_the_instalment_unpaid(loan_12000, policy):
    ledger = LoanLedger.open(loan_12000, policy)
    # 1118.99 against 1120.00: shortfall 1.01 > 1.00
    ledger, statement = apply_payment(ledger, Payment("P1", date(2025, 2, 10), M("1118.99")), policy)
    assert statement.settled_instalments == ()
    assert not ledger.is_settled(1, date(2025, 2, 28))


def test_the_same_payment_reference_twice_changes_nothing(loan_12000, policy):
    ledger = LoanLedger.open(loan_12000, policy)
    once, first = apply_payment(ledger, Payment("CB-42", date(2025, 2, 10), M("1120.00")), policy)
    twice, second = apply_payment(once, Payment("CB-42", date(2025, 2, 11), M("1120.00")), policy)
    assert twice == once
    assert second.duplicate and second.lines == ()
    assert not first.duplicate


def test_money_beyond_the_whole_schedule_is_held_not_allocated(loan_12000, policy):
    ledger = LoanLedger.open(loan_12000, policy)
    # total payable: 12000.00 principal + 1 % of (12000 + 11000 + ... + 1000) = 780.00 -> 12780.00
    assert loan_12000.total_payable == M("12780.00")
    ledger, statement = apply_payment(ledger, Payment("P1", date(2025, 1, 20), M("12785.00")), policy)
    assert statement.allocated == M("12780.00")
    assert statement.unapplied == M("5.00")
    assert ledger.held == M("5.00")
    assert ledger.is_fully_paid


def test_payments_apply_in_order_of_receipt(loan_12000, policy):
    ledger = LoanLedger.open(loan_12000, policy)
    ledger, statements = apply_payments(ledger, [
        Payment("A", date(2025, 2, 10), M("1120.00")),
        Payment("B", date(2025, 3, 10), M("1110.00")),
    ], policy)
    assert [s.settled_instalments for s in statements] == [(1,), (2,)]


def test_a_payment_needs_a_reference_and_a_positive_amount():
    with pytest.raises(AllocationError):
        Payment("", date(2025, 1, 1), M("1"))
    with pytest.raises(AllocationError):
        Payment("X", date(2025, 1, 1), M("0"))

from datetime import date

from forbear_shared.domain.allocation import Payment, apply_payment
from forbear_shared.domain.arrears import LoanLedger, arrears_as_of, days_past_due, uncharged_penalty
from forbear_shared.domain.money import Money

M = Money.of


def test_first_instalment_totals_1120(loan_12000):
    first = loan_12000.instalment(1)
    assert (first.due_date, first.principal, first.interest, first.total) == (
        date(2025, 2, 10), M("1000.00"), M("120.00"), M("1120.00"))


def test_within_grace_an_unpaid_instalment_is_overdue_but_not_delinquent(loan_12000, policy):
    ledger = LoanLedger.open(loan_12000, policy)
    # due 10 Feb, grace 3 days -> 13 Feb is the last on-time day
    arrears = arrears_as_of(ledger, as_of=date(2025, 2, 13), policy=policy)
    assert arrears.days_past_due == 0
    assert arrears.bucket is None
    assert arrears.principal == M("1000.00") and arrears.interest == M("120.00")
    assert arrears.penalty_interest == M("0.00")  # no penalty within grace


def test_dpd_one_is_the_first_day_after_grace(loan_12000, policy):
    ledger = LoanLedger.open(loan_12000, policy)
    # 14 Feb is 4 days after the 10 Feb due date; minus 3 grace days = DPD 1
    assert days_past_due(ledger, as_of=date(2025, 2, 14), policy=policy) == 1
    assert arrears_as_of(ledger, as_of=date(2025, 2, 14), policy=policy).bucket == "1-30"


def test_penalty_interest_runs_from_the_due_date_once_grace_has_passed(loan_12000, policy):
    ledger = LoanLedger.open(loan_12000, policy)
    # 2 Mar is 20 days after 10 Feb: 1000.00 x 0.12 x 1.5 / 360 x 20 = 10.00
    assert uncharged_penalty(ledger, 1, date(2025, 3, 2), policy) == M("10.00")
    arrears = arrears_as_of(ledger, as_of=date(2025, 3, 2), policy=policy)
    assert arrears.penalty_interest == M("10.00")
    assert arrears.total == M("1130.00")  # 1000 + 120 + 10
    assert arrears.days_past_due == 17  # 20 - 3


def test_arrears_after_a_partial_payment_count_penalty_on_the_reduced_principal(loan_12000, policy):
    ledger = LoanLedger.open(loan_12000, policy)
    # 500.00 on 2 Mar: penalty 10.00, interest 120.00, principal 370.00 -> 630.00 principal left
    ledger, _ = apply_payment(ledger, Payment("P1", date(2025, 3, 2), M("500.00")), policy)
    arrears = arrears_as_of(ledger, as_of=date(2025, 3, 12), policy=policy)
    # instalment 1: 630.00 x 0.0005 x 10 days = 3.15 penalty
    # instalment 2 (due 10 Mar, 1000.00 + 110.00) is overdue but within grace: no penalty yet
    assert arrears.principal == M("1630.00")
    assert arrears.interest == M("110.00")
    assert arrears.penalty_interest == M("3.15")
    assert arrears.oldest_unpaid_due_date == date(2025, 2, 10)
    assert arrears.days_past_due == 27  # 30 days since 10 Feb - 3
    assert [d.number for d in arrears.instalments] == [1, 2]


def test_dpd_buckets_follow_the_policy(loan_12000, policy):
    ledger = LoanLedger.open(loan_12000, policy)
    # 10 Feb + 3 grace + 31 = 16 Mar -> DPD 31
    assert arrears_as_of(ledger, as_of=date(2025, 3, 16), policy=policy).bucket == "31-60"
    # 10 Feb + 94 days = 15 May -> DPD 91
    assert arrears_as_of(ledger, as_of=date(2025, 5, 15), policy=policy).bucket == "90+"


def test_a_paid_loan_has_no_arrears(loan_12000, policy):
    ledger = LoanLedger.open(loan_12000, policy)
    ledger, _ = apply_payment(ledger, Payment("P1", date(2025, 2, 10), M("1120.00")), policy)
    arrears = arrears_as_of(ledger, as_of=date(2025, 3, 1), policy=policy)
    assert arrears.total == M("0") and arrears.days_past_due == 0

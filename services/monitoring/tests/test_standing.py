from datetime import date

from forbear_monitoring.domain.standing import instalment_status, outstanding_balance
from forbear_shared.domain.allocation import Payment, apply_payment
from forbear_shared.domain.arrears import LoanLedger
from forbear_shared.domain.money import Money

M = Money.of


def test_instalment_statuses_through_the_life_of_a_plan(agreement_schedule, policy):
    # instalments 1,030.00 / 1,020.00 / 1,010.00 due 10 Feb, 10 Mar, 10 Apr 2025; grace 3 days
    ledger = LoanLedger.open(agreement_schedule, policy)
    assert instalment_status(ledger, 1, as_of=date(2025, 2, 9), policy=policy) == "upcoming"
    assert instalment_status(ledger, 1, as_of=date(2025, 2, 13), policy=policy) == "due"
    assert instalment_status(ledger, 1, as_of=date(2025, 2, 14), policy=policy) == "missed"
    ledger, _ = apply_payment(ledger, Payment("P1", date(2025, 2, 10), M("1030.00")), policy)
    assert instalment_status(ledger, 1, as_of=date(2025, 2, 14), policy=policy) == "paid"
    ledger, _ = apply_payment(ledger, Payment("P2", date(2025, 3, 10), M("500.00")), policy)
    assert instalment_status(ledger, 2, as_of=date(2025, 3, 12), policy=policy) == "partially_paid"
    # paid 10 days late: 520.00 left + penalty 500.00 x 18 % / 360 x 10 = 2.50
    ledger, _ = apply_payment(ledger, Payment("P3", date(2025, 3, 20), M("522.50")), policy)
    assert instalment_status(ledger, 2, as_of=date(2025, 3, 20), policy=policy) == "paid_late"


def test_outstanding_balance_is_every_unpaid_instalment_plus_penalty(agreement_schedule, policy):
    ledger = LoanLedger.open(agreement_schedule, policy)
    # nothing overdue yet: 1,030.00 + 1,020.00 + 1,010.00
    assert outstanding_balance(ledger, as_of=date(2025, 2, 1), policy=policy) == M("3060.00")
    # 14 Feb: instalment 1 missed, penalty from 10 Feb: 1,000.00 x 18 % / 360 x 4 = 2.00
    assert outstanding_balance(ledger, as_of=date(2025, 2, 14), policy=policy) == M("3062.00")


def test_a_plan_reaching_an_unpublished_year_has_a_balance_and_statuses_today(policy):
    # the demo calendar knows 2004-2026: a 4-year plan from Dec 2026 runs to Nov 2030. On
    # 1 Apr 2026 nothing is due, so the balance is the sum of the instalments and every one
    # is upcoming, without looking up any grace cutoff of 2027-2030
    from decimal import Decimal

    from forbear_shared.domain.schedule import equal_instalment_schedule

    schedule = equal_instalment_schedule(M("30000.00"), Decimal("0.08"), 48, date(2026, 12, 15))
    assert schedule.instalments[-1].due_date.year == 2030
    ledger = LoanLedger.open(schedule, policy)
    today = date(2026, 4, 1)
    expected = sum((i.total for i in schedule.instalments), M("0.00"))
    assert outstanding_balance(ledger, as_of=today, policy=policy) == expected
    assert {instalment_status(ledger, i.number, as_of=today, policy=policy) for i in schedule.instalments} == {
        "upcoming"}

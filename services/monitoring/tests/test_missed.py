from datetime import date

from forbear_monitoring.domain.missed import missed_instalments, newly_missed, outstanding_missed_count
from forbear_shared.domain.allocation import Payment, apply_payment
from forbear_shared.domain.arrears import LoanLedger
from forbear_shared.domain.money import Money

M = Money.of


def test_instalment_amounts(agreement_schedule):
    assert [i.total for i in agreement_schedule.instalments] == [M("1030.00"), M("1020.00"), M("1010.00")]


def test_an_unpaid_instalment_is_not_missed_until_grace_has_passed(agreement_schedule, policy):
    ledger = LoanLedger.open(agreement_schedule, policy)
    # due 10 Feb + 3 grace days = 13 Feb: still not missed on 13 Feb
    assert missed_instalments(ledger, as_of=date(2025, 2, 13), policy=policy) == ()


def test_an_unpaid_instalment_is_missed_the_day_after_grace(agreement_schedule, policy):
    ledger = LoanLedger.open(agreement_schedule, policy)
    missed = missed_instalments(ledger, as_of=date(2025, 2, 14), policy=policy)
    assert [(m.number, m.missed_on) for m in missed] == [(1, date(2025, 2, 14))]


def test_paying_within_grace_is_on_time(agreement_schedule, policy):
    ledger = LoanLedger.open(agreement_schedule, policy)
    ledger, _ = apply_payment(ledger, Payment("P1", date(2025, 2, 13), M("1030.00")), policy)
    assert missed_instalments(ledger, as_of=date(2025, 3, 1), policy=policy) == ()


def test_a_shortfall_within_tolerance_is_not_a_missed_instalment(agreement_schedule, policy):
    ledger = LoanLedger.open(agreement_schedule, policy)
    # 1029.00 against 1030.00: 1.00 short, equal to the 1.00 tolerance
    ledger, _ = apply_payment(ledger, Payment("P1", date(2025, 2, 10), M("1029.00")), policy)
    assert missed_instalments(ledger, as_of=date(2025, 3, 1), policy=policy) == ()


def test_a_late_payment_does_not_unmiss_the_instalment(agreement_schedule, policy):
    ledger = LoanLedger.open(agreement_schedule, policy)
    # paid 20 Feb, 10 days late: penalty 1000.00 x 0.18/360 x 10 = 5.00 -> 1035.00 settles it
    ledger, statement = apply_payment(ledger, Payment("P1", date(2025, 2, 20), M("1035.00")), policy)
    assert statement.settled_instalments == (1,)
    missed = missed_instalments(ledger, as_of=date(2025, 3, 1), policy=policy)
    assert [(m.number, m.paid_late_on) for m in missed] == [(1, date(2025, 2, 20))]
    assert outstanding_missed_count(ledger, as_of=date(2025, 3, 1), policy=policy) == 0


def test_a_catch_up_sweep_after_downtime_finds_each_missed_instalment_once(agreement_schedule, policy):
    ledger = LoanLedger.open(agreement_schedule, policy)
    # services down from 1 Feb to 20 Apr: grace is 3 working days. Due Mon 10 Feb -> Thu 13
    # Feb, missed 14 Feb; due Mon 10 Mar -> Thu 13 Mar, missed 14 Mar; due Thu 10 Apr 2025 ->
    # Fri 11, Mon 14, Tue 15 Apr (the weekend 12-13 Apr does not count), missed Wed 16 Apr
    swept = newly_missed(ledger, since=date(2025, 2, 1), as_of=date(2025, 4, 20), policy=policy)
    assert [(m.number, m.missed_on) for m in swept] == [
        (1, date(2025, 2, 14)), (2, date(2025, 3, 14)), (3, date(2025, 4, 16))]
    # the next day's sweep reports nothing new
    assert newly_missed(ledger, since=date(2025, 4, 20), as_of=date(2025, 4, 21), policy=policy) == ()
    # day-by-day sweeps report the same three, each once
    daily = []
    day = date(2025, 2, 1)
    from datetime import timedelta
    while day < date(2025, 4, 20):
        daily += newly_missed(ledger, since=day, as_of=day + timedelta(days=1), policy=policy)
        day += timedelta(days=1)
    assert daily == list(swept)

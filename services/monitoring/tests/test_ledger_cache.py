"""The allocator's ledger cache: current only while no other writer moved the ledger generation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from forbear_monitoring.adapters.repository import LedgerCache, ScheduleCache
from forbear_shared.domain.allocation import Payment, apply_payment
from forbear_shared.domain.arrears import LoanLedger
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import Policy
from forbear_shared.domain.schedule import equal_principal_schedule


def ledger(policy: Policy) -> LoanLedger:
    schedule = equal_principal_schedule(Money.of("3000.00"), Decimal("0.12"), 3, dt.date(2026, 2, 5))
    return LoanLedger.open(schedule, policy)


def paid(policy: Policy, before: LoanLedger, reference: str, amount: str) -> LoanLedger:
    after, _ = apply_payment(before, Payment(reference, dt.date(2026, 1, 20), Money.of(amount)), policy)
    return after


def test_what_a_committed_batch_kept_is_served_to_the_next_batch(policy: Policy) -> None:
    cache = LedgerCache()
    cache.begin(7)
    assert cache.get(["A1"]) == {}
    after = paid(policy, ledger(policy), "P1", "100.00")
    cache.keep(7, {"A1": after})
    cache.begin(8)  # generation 7 committed and nobody wrote since
    served = cache.get(["A1", "A2"])
    assert list(served) == ["A1"]
    assert served["A1"].positions == after.positions
    assert served["A1"].held == after.held
    # repeats are recognised by the payments table, not by an ever-growing set in memory
    assert served["A1"].applied_references == frozenset()


def test_another_writer_in_between_empties_the_cache(policy: Policy) -> None:
    cache = LedgerCache()
    cache.begin(7)
    cache.keep(7, {"A1": paid(policy, ledger(policy), "P1", "100.00")})
    cache.begin(9)  # generation 8 was someone else's (an agent's payment, a supersession)
    assert cache.get(["A1"]) == {}


def test_a_rolled_back_batch_leaves_the_cache_as_it_was_before_it(policy: Policy) -> None:
    cache = LedgerCache()
    opened = ledger(policy)
    cache.begin(7)
    cache.keep(7, {"A1": paid(policy, opened, "P1", "100.00")})
    cache.begin(8)
    cache.keep(8, {"A1": paid(policy, opened, "P2", "999.00")})
    cache.begin(8)  # generation 8 rolled back: the counter is at 7 again, the next batch takes 8
    assert cache.get(["A1"])["A1"].positions == paid(policy, opened, "P1", "100.00").positions


def test_a_batch_that_changed_nothing_keeps_the_cache_current(policy: Policy) -> None:
    cache = LedgerCache()
    cache.begin(7)
    kept = paid(policy, ledger(policy), "P1", "100.00")
    cache.keep(7, {"A1": kept})
    cache.begin(8)  # e.g. a batch of payments for unknown loans only: nothing kept
    cache.begin(9)
    assert cache.get(["A1"])["A1"].positions == kept.positions


def test_a_full_cache_lets_the_least_recently_paid_ledger_go_first(policy: Policy) -> None:
    cache = LedgerCache(max_size=2)
    opened = ledger(policy)
    cache.begin(1)
    cache.keep(1, {"A1": opened, "A2": opened})
    cache.begin(2)
    cache.keep(2, {"A1": paid(policy, opened, "P1", "100.00")})  # A1 paid again: A2 is now the oldest
    cache.begin(3)
    cache.keep(3, {"A3": opened})
    cache.begin(4)
    assert sorted(cache.get(["A1", "A2", "A3"])) == ["A1", "A3"]
    assert len(cache) == 2
    assert cache.get(["A1"])["A1"].positions == paid(policy, opened, "P1", "100.00").positions


def test_a_cache_of_size_zero_keeps_nothing(policy: Policy) -> None:
    cache = LedgerCache(max_size=0)
    cache.begin(1)
    cache.keep(1, {"A1": ledger(policy)})
    cache.begin(2)
    assert cache.get(["A1"]) == {} and len(cache) == 0


def test_the_schedule_cache_is_bounded_and_lets_the_least_recently_used_go_first(policy: Policy) -> None:
    schedule = ledger(policy).schedule
    cache = ScheduleCache(max_size=2)
    cache.put("A1", schedule)
    cache.put("A2", schedule)
    assert cache.get("A1") is schedule  # A1 used: A2 is now the oldest
    cache.put("A3", schedule)
    assert (cache.get("A1"), cache.get("A2"), cache.get("A3")) == (schedule, None, schedule)
    assert len(cache) == 2

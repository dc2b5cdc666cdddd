"""The allocator's ledger cache: current only while no other writer moved the ledger generation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from forbear_monitoring.adapters.repository import LedgerCache
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

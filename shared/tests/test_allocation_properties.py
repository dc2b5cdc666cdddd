"""Allocation invariants: idempotent by payment reference, never over-allocates."""

from datetime import date, timedelta
from decimal import Decimal

from forbear_shared.domain.allocation import Payment, apply_payment, apply_payments
from forbear_shared.domain.arrears import LoanLedger, arrears_as_of
from forbear_shared.domain.money import Money
from forbear_shared.domain.schedule import RepaymentMethod, build_schedule
from forbear_shared.policy_loader import load_policy
from hypothesis import given, settings
from hypothesis import strategies as st

POLICY = load_policy()
START = date(2025, 1, 10)


@st.composite
def ledgers(draw):
    deferral = draw(st.integers(min_value=0, max_value=2))
    schedule = build_schedule(
        Money(Decimal(draw(st.integers(min_value=10_000, max_value=5_000_000))) / 100),
        Decimal(draw(st.integers(min_value=0, max_value=2400))) / 10000,
        repayments=draw(st.integers(min_value=1, max_value=12)),
        first_due_date=date(2025, 2, 10),
        method=draw(st.sampled_from(list(RepaymentMethod))),
        deferral_periods=deferral,
        deferral_fee=Money.of("50.00") if deferral and draw(st.booleans()) else None,
    )
    return LoanLedger.open(schedule, POLICY)


payments = st.lists(
    st.builds(
        lambda ref, day, cents: Payment(f"P{ref}", START + timedelta(days=day), Money(Decimal(cents) / 100)),
        st.integers(min_value=0, max_value=8),
        st.integers(min_value=0, max_value=500),
        st.integers(min_value=1, max_value=2_000_000),
    ),
    max_size=12,
).map(lambda ps: sorted(ps, key=lambda p: p.received_on))


def assert_never_over_allocated(ledger: LoanLedger) -> None:
    for instalment in ledger.schedule.instalments:
        position = ledger.position(instalment.number)
        assert Money.zero() <= position.fee_paid <= instalment.fee
        assert Money.zero() <= position.interest_paid <= instalment.interest
        assert Money.zero() <= position.principal_paid <= instalment.principal
        assert Money.zero() <= position.penalty_paid <= position.penalty_charged


@settings(max_examples=200, deadline=None)
@given(ledgers(), payments)
def test_every_payment_is_fully_accounted_for_and_never_over_allocated(ledger, batch):
    received = Money.zero()
    seen: set[str] = set()
    for payment in batch:
        ledger, statement = apply_payment(ledger, payment, POLICY)
        if payment.reference in seen:
            assert statement.duplicate and statement.lines == ()
            continue
        seen.add(payment.reference)
        received = received + payment.amount
        assert statement.allocated + statement.unapplied == payment.amount
        assert all(line.amount.is_positive() for line in statement.lines)
        assert_never_over_allocated(ledger)
    paid = Money.total(
        p.fee_paid + p.penalty_paid + p.interest_paid + p.principal_paid for p in ledger.positions
    )
    assert paid + ledger.held == received


@settings(max_examples=200, deadline=None)
@given(ledgers(), payments)
def test_replaying_the_same_payments_changes_nothing(ledger, batch):
    once, _ = apply_payments(ledger, batch, POLICY)
    twice, statements = apply_payments(once, batch, POLICY)
    assert twice == once
    assert all(s.duplicate for s in statements)


@settings(max_examples=200, deadline=None)
@given(ledgers(), payments, st.integers(min_value=0, max_value=700))
def test_arrears_are_never_negative_and_dpd_matches_its_bucket(ledger, batch, day):
    ledger, _ = apply_payments(ledger, batch, POLICY)
    arrears = arrears_as_of(ledger, as_of=START + timedelta(days=day), policy=POLICY)
    for amount in (arrears.principal, arrears.interest, arrears.penalty_interest, arrears.fees):
        assert not amount.is_negative()
    assert (arrears.bucket is None) == (arrears.days_past_due == 0)

"""The seeded demo portfolio: deterministic, with the product brief's mix."""

from __future__ import annotations

from decimal import Decimal

from forbear_shared.domain.hardship import HardshipCategory
from forbear_simulator.portfolio import (
    BEHAVIOUR_WEIGHTS,
    EVIDENCE_WEIGHTS,
    HARDSHIP_WEIGHTS,
    generate,
    shares,
)


def test_the_same_seed_gives_the_same_portfolio() -> None:
    assert generate(7, 200, "run") == generate(7, 200, "run")
    # the run id only names the borrowers: everything else is the seed's
    a, b = generate(7, 50, "one"), generate(7, 50, "two")
    assert [x.borrower_id for x in a] != [y.borrower_id for y in b]
    assert [(x.hardship, x.loans[0].outstanding_principal, x.behaviour) for x in a] == \
        [(y.hardship, y.loans[0].outstanding_principal, y.behaviour) for y in b]
    assert generate(8, 50, "one") != a


def test_ids_are_unique_within_and_across_runs() -> None:
    a, b = generate(7, 300, "r1"), generate(7, 300, "r2")
    ids = [x.borrower_id for x in a + b] + [loan.loan_id for x in a + b for loan in x.loans]
    assert len(ids) == len(set(ids))


def test_the_hardship_mix_covers_every_category_with_its_weight() -> None:
    portfolio = generate(7, 300)
    mix = shares(portfolio, "hardship")
    assert set(mix) == {c.value for c in HardshipCategory} == set(HARDSHIP_WEIGHTS)
    total = sum(HARDSHIP_WEIGHTS.values())
    for category, weight in HARDSHIP_WEIGHTS.items():
        assert abs(mix[category] - weight / total) < 0.06, category


def test_behaviour_and_evidence_shares_stay_within_bounds() -> None:
    portfolio = generate(7, 300)
    for attribute, weights in (("behaviour", BEHAVIOUR_WEIGHTS), ("evidence", EVIDENCE_WEIGHTS)):
        got = shares(portfolio, attribute)
        total = sum(weights.values())
        assert set(got) == set(weights)
        for value, weight in weights.items():
            assert abs(got[value] - weight / total) < 0.07, (attribute, value)
    wilful = shares(portfolio, "wilful")
    assert 0.75 <= wilful["none"] <= 0.92
    assert wilful["capacity"] > 0 and wilful["no_contact"] > 0
    assert set(shares(portfolio, "channel")) == {"phone", "email", "branch", "portal"}


def test_wilful_capacity_covers_the_instalment_and_hardship_does_not() -> None:
    for b in generate(7, 300):
        if b.wilful == "capacity":
            assert b.disposable_income >= b.contractual_instalment
        else:
            assert Decimal("0") < b.disposable_income < b.contractual_instalment
        if b.wilful == "no_contact":
            assert b.history()["no_contact_delinquencies_24m"] >= 2


def test_loans_and_first_contact_are_varied_and_arrivals_spread_over_the_window() -> None:
    portfolio = generate(7, 300, arrival_days=60)
    principals = {loan.original_principal for b in portfolio for loan in b.loans}
    rates = {loan.annual_rate for b in portfolio for loan in b.loans}
    dpds = [b.loans[0].days_past_due for b in portfolio]
    assert len(principals) > 250 and len(rates) >= 5
    assert min(dpds) <= 10 and max(dpds) >= 90
    days = [b.arrival_day for b in portfolio]
    assert days == sorted(days) and days[0] == 0 and days[-1] == 59
    per_day = {d: days.count(d) for d in set(days)}
    assert max(per_day.values()) <= 6  # a handful of new cases a business day
    for b in portfolio:
        for loan in b.loans:
            assert loan.outstanding_principal <= loan.original_principal
            assert loan.remaining_term_months < loan.original_term_months
        assert b.statement()["income"][0]["monthly_amount"] == str(b.income)
        assert b.required_documents


def test_waves_bring_new_borrowers_over_the_next_windows_deterministically() -> None:
    first = generate(7, 100, "r", arrival_days=30)
    second = generate(7, 100, "r", arrival_days=30, wave=1)
    assert second == generate(7, 100, "r", arrival_days=30, wave=1)
    assert {b.borrower_id for b in first}.isdisjoint(b.borrower_id for b in second)
    assert min(b.arrival_day for b in second) == 30 and max(b.arrival_day for b in second) == 59
    assert [b.hardship for b in first] != [b.hardship for b in second]

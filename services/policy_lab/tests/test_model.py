"""The behaviour model, the intervals and discounting, against numbers worked out by hand."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from forbear_policy_lab.domain.behaviour import BehaviourModel, Choice, draws
from forbear_policy_lab.domain.lifecycle import discount
from forbear_policy_lab.domain.stats import interval, t_quantile
from forbear_shared.domain.money import Money


def test_the_probability_of_paying_falls_as_the_share_of_disposable_income_rises():
    model = BehaviourModel()  # 0.998 / (1 + exp(6 (share - 1.3)))
    # share 0.5: 0.998 / (1 + e^-4.8) = 0.998 / 1.0082297 = 0.98985
    assert model.pay_probability(Decimal("0.5")) == pytest.approx(0.98985, abs=1e-5)
    # share 1.3 (the midpoint): half the ceiling
    assert model.pay_probability(Decimal("1.3")) == pytest.approx(0.499)
    # share 2.1: 0.998 / (1 + e^4.8) = 0.998 / 122.5104 = 0.008146
    assert model.pay_probability(Decimal("2.1")) == pytest.approx(0.008146, abs=1e-6)
    shares = [0.1 * k for k in range(1, 30)]
    probabilities = [model.pay_probability(s) for s in shares]
    assert probabilities == sorted(probabilities, reverse=True)


def test_one_draw_orders_everything_due_the_instalment_and_nothing():
    model = BehaviourModel()
    # disposable 1,000: everything due 1,400 (p 0.3536), the instalment 700 (p 0.9715)
    kwargs = {"all_due": Decimal("1400"), "instalment": Decimal("700"), "disposable": Decimal("1000")}
    assert model.choose(0.30, **kwargs) is Choice.ALL_DUE
    assert model.choose(0.50, **kwargs) is Choice.INSTALMENT
    assert model.choose(0.98, **kwargs) is Choice.NOTHING


def test_a_very_steep_model_does_not_overflow():
    model = BehaviourModel(ceiling=1.0, midpoint=0.5, steepness=1e9)
    assert model.pay_probability(0.4) == 1.0
    assert model.pay_probability(0.6) == 0.0


def test_a_borrower_draws_the_same_numbers_under_every_policy():
    assert draws(3, 1, "b-1").random() == draws(3, 1, "b-1").random()
    assert draws(3, 1, "b-1").random() != draws(3, 2, "b-1").random()


def test_the_interval_is_the_mean_plus_or_minus_t_s_over_root_r():
    # 0.2, 0.4, 0.6: mean 0.4; s = sqrt((0.04 + 0 + 0.04) / 2) = 0.2; t(2) = 4.303
    # half-width = 4.303 x 0.2 / sqrt(3) = 0.49687
    it = interval([Decimal("0.2"), Decimal("0.4"), Decimal("0.6")])
    assert it is not None
    assert it.mean == pytest.approx(0.4)
    assert it.half_width == pytest.approx(4.303 * 0.2 / math.sqrt(3))
    assert interval([Decimal("0.5")]).half_width is None  # one replication: no interval
    assert interval([1, 1, 1]).half_width == 0
    assert t_quantile(35) == 2.042 and t_quantile(500) == 1.960


def test_a_payment_a_year_away_is_discounted_at_the_monthly_rate():
    # 12 % a year is 1 % a month; 365 days are 12 months: 1,000.00 / 1.01^12 = 1,000 / 1.1268250 = 887.45
    assert discount(Money.of("1000.00"), 365, Decimal("0.12")) == Money.of("887.45")
    assert discount(Money.of("1000.00"), 0, Decimal("0.12")) == Money.of("1000.00")

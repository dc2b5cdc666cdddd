from decimal import Decimal

import pytest
from forbear_shared.domain.money import CurrencyMismatch, Money, MoneyError, parse_rate


def test_money_is_held_to_the_cent():
    assert Money.of("12.3").to_str() == "12.30"
    assert Money.of(5).to_str() == "5.00"
    assert Money.of("12.34").currency == "CNY"


def test_computed_amounts_round_half_up_to_the_cent():
    # 0.005 is a tie: half-up gives 0.01 (banker's rounding would give 0.00)
    assert Money.of("0.005") == Money.of("0.01")
    assert Money.of("2.675") == Money.of("2.68")
    assert Money.of("-2.675") == Money.of("-2.68")  # half-up rounds ties away from zero
    assert Money.of("2.674") == Money.of("2.67")


def test_floats_are_refused_because_they_have_already_lost_the_cents():
    with pytest.raises(MoneyError):
        Money.of(0.1)  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        parse_rate(0.07)


def test_arithmetic_and_comparison_stay_exact():
    # 0.10 + 0.20 is exactly 0.30 (with floats it is 0.30000000000000004)
    assert Money.of("0.10") + Money.of("0.20") == Money.of("0.30")
    assert Money.of("10.00") - Money.of("10.01") == Money.of("-0.01")
    assert Money.of("100.00") * Decimal("0.07") == Money.of("7.00")
    # 83.57 x 0.07/12 = 0.48749... -> 0.49 (half-up on the third place 7)
    assert Money.of("83.57").times(Decimal("0.07") / 12) == Money.of("0.49")
    assert Money.of("1.00") < Money.of("1.01")
    assert max(Money.of("3"), Money.of("4")) == Money.of("4")


def test_currencies_never_mix_silently():
    with pytest.raises(CurrencyMismatch):
        Money.of("1", "CNY") + Money.of("1", "USD")


def test_split_evenly_puts_the_residue_on_the_last_part():
    # 100.00 / 3 = 33.333...: 33.33 + 33.33 + 33.34 = 100.00
    assert Money.of("100.00").split_evenly(3) == (Money.of("33.33"), Money.of("33.33"), Money.of("33.34"))


def test_allocate_by_weights_sums_exactly():
    parts = Money.of("10.00").allocate([1, 1, 1])
    assert Money.total(parts) == Money.of("10.00")
    # weights 70:30 of 0.05 -> 0.03 (0.035 truncated) and the remainder 0.02
    assert Money.of("0.05").allocate([7, 3]) == (Money.of("0.03"), Money.of("0.02"))


def test_money_serialises_as_a_decimal_string():
    assert Money.of("1234.5").to_str() == "1234.50"
    assert str(Money.of("1")) == "1.00 CNY"

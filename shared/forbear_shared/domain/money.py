"""Exact money for loan schedules, arrears and payments.

Money is a ``Decimal`` with exactly two places (fen, 0.01 of a yuan) and a
currency code. Floats are refused everywhere: a repayment plan signed by a
borrower must add up to the cent, and binary floats cannot represent 0.10.

The one rounding rule
---------------------
Whenever a computed amount (interest for a period, penalty interest, an
annuity instalment, an amount times a rate) must become money, it is rounded
to 0.01 with ``ROUND_HALF_UP``. Why half-up and not banker's rounding: it is
the rule Chinese banks and the borrower's own calculator apply ("四舍五入"),
and the public reference schedule (100.00 at 7 %/year over 6 months gives
17.01 five times then 17.00) is reproduced with it. A lender who must explain
a number to a borrower or a court should not need to explain ties-to-even.

Splitting an exact amount into parts (``split_evenly``, ``allocate``) is not
rounding: each part is truncated to the cent and the remainder goes to the
last part, so the parts always sum exactly to the whole and no part can
exceed what is left.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import total_ordering

CENT = Decimal("0.01")
ROUNDING = ROUND_HALF_UP
DEFAULT_CURRENCY = "CNY"

MoneyInput = str | int | Decimal
Number = int | Decimal


class MoneyError(ValueError):
    """A money value or operation that would lose exactness or mix currencies."""


class CurrencyMismatch(MoneyError):
    """Two amounts in different currencies met; converting is never implicit."""


def to_decimal(value: object, *, what: str = "amount") -> Decimal:
    """Turn a string, int or Decimal into a Decimal, refusing floats.

    Floats are refused because a float has already lost the cents before we
    see it; callers must pass strings (as events and policy files do).
    """
    if isinstance(value, bool):
        raise MoneyError(f"{what}: a boolean is not a number")
    if isinstance(value, float):
        raise MoneyError(f"{what}: floats are not accepted, pass a decimal string such as '12.34'")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, str)):
        try:
            result = Decimal(value)
        except InvalidOperation as exc:
            raise MoneyError(f"{what}: {value!r} is not a decimal number") from exc
    else:
        raise MoneyError(f"{what}: {type(value).__name__} is not a decimal number")
    if not result.is_finite():
        raise MoneyError(f"{what}: {value!r} is not a finite number")
    return result


def round_money(value: Decimal) -> Decimal:
    """Apply the one rounding rule (half-up to the cent); see the module docstring."""
    return value.quantize(CENT, rounding=ROUNDING)


@total_ordering
@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount of one currency, always held to two places."""

    amount: Decimal
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        amount = self.amount
        if amount.__class__ is not Decimal or not amount.is_finite():
            amount = to_decimal(amount)
        currency = _CHECKED_CURRENCIES.get(self.currency) if self.currency.__class__ is str else None
        if currency is None:
            currency = _check_currency(self.currency)
        _set_amount(self, amount.quantize(CENT, rounding=ROUNDING))
        _set_currency(self, currency)

    # -- construction -------------------------------------------------
    @classmethod
    def _exact(cls, amount: Decimal, currency: str) -> Money:
        """An amount already held to the cent in a checked currency (sums, differences, negations).

        Adding or subtracting two amounts of two places gives two places exactly, so the checks
        and the rounding of ``__post_init__`` cannot change the result; skipping them keeps the
        allocation and schedule hot paths cheap.
        """
        money = _new(cls)
        _set_amount(money, amount)
        _set_currency(money, currency)
        return money

    @classmethod
    def of(cls, value: MoneyInput, currency: str = DEFAULT_CURRENCY) -> Money:
        """``Money.of("12.34")``; more than two places are rounded half-up."""
        return cls(to_decimal(value), currency)

    @classmethod
    def zero(cls, currency: str = DEFAULT_CURRENCY) -> Money:
        """Zero in ``currency`` (one shared value per currency: Money is immutable)."""
        found = _ZEROS.get(currency) if cls is Money and currency.__class__ is str else None
        if found is None:
            found = cls(Decimal("0"), currency)
            if cls is Money:
                _ZEROS[currency] = found
        return found

    @classmethod
    def total(cls, amounts: Iterable[Money], currency: str = DEFAULT_CURRENCY) -> Money:
        """Sum of amounts; an empty sum is zero in ``currency``."""
        result = cls.zero(currency)
        for amount in amounts:
            result = result + amount
        return result

    # -- predicates ---------------------------------------------------
    def is_zero(self) -> bool:
        return self.amount == 0

    def is_positive(self) -> bool:
        return self.amount > 0

    def is_negative(self) -> bool:
        return self.amount < 0

    # -- arithmetic ---------------------------------------------------
    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} cannot be combined")

    def __add__(self, other: Money) -> Money:
        if other.__class__ is not Money or other.currency != self.currency:
            self._same(other)
        money = _new(Money)
        _set_amount(money, self.amount + other.amount)
        _set_currency(money, self.currency)
        return money

    def __sub__(self, other: Money) -> Money:
        if other.__class__ is not Money or other.currency != self.currency:
            self._same(other)
        money = _new(Money)
        _set_amount(money, self.amount - other.amount)
        _set_currency(money, self.currency)
        return money

    def __neg__(self) -> Money:
        return Money._exact(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money._exact(abs(self.amount), self.currency)

    def times(self, factor: Number) -> Money:
        """Amount times a rate or count, rounded by the one rule."""
        return Money(self.amount * to_decimal(factor, what="factor"), self.currency)

    def __mul__(self, factor: Number) -> Money:
        return self.times(factor)

    def __rmul__(self, factor: Number) -> Money:
        return self.times(factor)

    def min(self, other: Money) -> Money:
        return self if self <= other else other

    def max(self, other: Money) -> Money:
        return self if self >= other else other

    def clamp_non_negative(self) -> Money:
        return self if self.amount >= 0 else Money.zero(self.currency)

    # -- comparisons --------------------------------------------------
    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return self.amount < other.amount

    # the other orderings spelled out (``total_ordering`` would derive the same, more slowly)
    def __le__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return self.amount >= other.amount

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.amount == other.amount and self.currency == other.currency

    def __hash__(self) -> int:
        return hash((self.amount, self.currency))

    # -- splitting ----------------------------------------------------
    def split_evenly(self, parts: int) -> tuple[Money, ...]:
        """``parts`` amounts summing exactly to self; the residue is on the last.

        Used for equal-principal schedules and arrears instalments, where the
        product rule is that rounding residue goes to the last instalment.
        """
        return self.allocate([1] * parts)

    def allocate(self, weights: Sequence[Number]) -> tuple[Money, ...]:
        """Split by non-negative weights; parts sum exactly to self.

        Each part but the last is truncated toward zero to the cent; the last
        takes the remainder, so no earlier part ever exceeds its share.
        """
        if not weights:
            raise MoneyError("cannot split into zero parts")
        decimal_weights = [to_decimal(w, what="weight") for w in weights]
        if any(w < 0 for w in decimal_weights):
            raise MoneyError("weights must not be negative")
        total_weight = sum(decimal_weights, Decimal("0"))
        if total_weight == 0:
            raise MoneyError("weights must not all be zero")
        parts: list[Money] = []
        allocated = Decimal("0")
        for weight in decimal_weights[:-1]:
            share = (self.amount * weight / total_weight).quantize(CENT, rounding=ROUND_DOWN)
            parts.append(Money(share, self.currency))
            allocated += share
        parts.append(Money(self.amount - allocated, self.currency))
        return tuple(parts)

    # -- serialisation ------------------------------------------------
    def to_str(self) -> str:
        """The decimal string that events and APIs carry, e.g. ``"12.30"``."""
        return f"{self.amount:.2f}"

    def __str__(self) -> str:
        return f"{self.to_str()} {self.currency}"

    def __repr__(self) -> str:
        return f"Money('{self.to_str()}', '{self.currency}')"


_new = object.__new__
# Writers of the frozen slots: the same effect as ``object.__setattr__``, without the lookup.
_set_amount = Money.__dict__["amount"].__set__
_set_currency = Money.__dict__["currency"].__set__
_CHECKED_CURRENCIES: dict[str, str] = {}
"""Currency codes already checked, to their upper-case form."""


_ZEROS: dict[str, Money] = {}


def _check_currency(currency: object) -> str:
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise MoneyError(f"currency must be a three-letter ISO code, got {currency!r}")
    upper = currency.upper()
    if len(_CHECKED_CURRENCIES) < 1000:
        _CHECKED_CURRENCIES[currency] = upper
    return upper


def parse_rate(value: object, *, what: str = "rate") -> Decimal:
    """An annual rate as a fraction (``"0.07"`` is 7 %/year), never a float.

    Rates are kept unrounded: rounding happens once, when interest becomes
    money, so that a rate step of 0.25 % is not distorted.
    """
    rate = to_decimal(value, what=what)
    if rate < 0:
        raise MoneyError(f"{what} must not be negative, got {rate}")
    return rate

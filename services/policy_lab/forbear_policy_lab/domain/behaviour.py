"""How a borrower under a plan pays: the lab's one behaviour model, its parameters in one place.

On each due date the borrower draws one uniform number ``u`` in [0, 1) and

* pays everything then due (the arrears with their penalty interest, and this instalment)
  when ``u < p(everything due / disposable income)``;
* otherwise pays this instalment's scheduled amount when ``u < p(instalment / disposable income)``
  (allocation, oldest first, may spend it on older arrears);
* otherwise pays nothing.

The day after the ladder sends a notice (reminder, warning, breach notice) the borrower draws
again and pays all the arrears when ``u < p(arrears / disposable income)``: letters work, for
those who can afford them.

``p(share) = ceiling / (1 + exp(steepness * (share - midpoint)))``: the probability of paying
falls as the payment's share of the borrower's disposable income rises, slowly while the share is
small and steeply around ``midpoint``. With the defaults (0.998, 1.3, 6): a payment of 50 % of
disposable income is paid with probability 0.990, 70 %: 0.971, 100 %: 0.856, 140 %: 0.353,
210 %: 0.0082. Because everything due is a larger share than one instalment, ``p(all) <= p(one)``
and one draw orders the three outcomes. A borrower one instalment behind faces twice the share
to catch up, so one miss makes the next more likely: that is how arrears spiral, and why relief
(a lower instalment) buys cures.

The draws come from ``random.Random`` seeded by (seed, replication, borrower): the same
borrower draws the same numbers under every policy (common random numbers), so the difference
between two policies is not blurred by luck.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Choice(StrEnum):
    ALL_DUE = "all_due"
    INSTALMENT = "instalment"
    NOTHING = "nothing"


@dataclass(frozen=True, slots=True)
class BehaviourModel:
    """The behaviour model's parameters (see the module docstring)."""

    ceiling: float = 0.998
    """Probability of paying a payment that takes nothing of the budget: some borrowers miss anyway."""
    midpoint: float = 1.3
    """The share of disposable income at which the probability is half the ceiling."""
    steepness: float = 6.0
    """How fast the probability falls around the midpoint (per unit of share)."""

    def __post_init__(self) -> None:
        if not 0 < self.ceiling <= 1:
            raise ValueError("behaviour.ceiling must be in (0, 1]")
        if self.midpoint <= 0:
            raise ValueError("behaviour.midpoint must be positive")
        if self.steepness <= 0:
            raise ValueError("behaviour.steepness must be positive")

    def pay_probability(self, share: Decimal | float) -> float:
        """``p(share)``, computed without overflow for very steep models."""
        z = self.steepness * (float(share) - self.midpoint)
        if z >= 0:
            e = math.exp(-z) if z < 745 else 0.0
            return self.ceiling * e / (1 + e)
        return self.ceiling / (1 + math.exp(z)) if z > -745 else self.ceiling

    def answers_notice(self, u: float, *, all_due: Decimal, disposable: Decimal) -> bool:
        """The day after a notice: the borrower pays all the arrears when ``u < p(arrears / disposable)``."""
        return u < self.pay_probability(all_due / disposable)

    def choose(self, u: float, *, all_due: Decimal, instalment: Decimal, disposable: Decimal) -> Choice:
        """What a borrower with draw ``u`` pays (amounts in money, ``disposable`` > 0)."""
        if u < self.pay_probability(all_due / disposable):
            return Choice.ALL_DUE
        if u < self.pay_probability(instalment / disposable):
            return Choice.INSTALMENT
        return Choice.NOTHING


def draws(seed: int, replication: int, borrower_id: str) -> random.Random:
    """The borrower's own stream for one replication (string seeds hash with SHA-512: the same
    numbers in every process and on every machine)."""
    return random.Random(f"forbear-policy-lab:{seed}:{replication}:{borrower_id}")

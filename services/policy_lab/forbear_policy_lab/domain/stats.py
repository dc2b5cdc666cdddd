"""95 % confidence intervals over replications.

A figure measured on R replications x_1 .. x_R (each a whole run of the portfolio with its own
behaviour seed) is reported as ``mean ± t * s / sqrt(R)``: ``s`` the sample standard deviation
(R - 1 in the denominator), ``t`` the two-sided 95 % quantile of Student's t with R - 1 degrees
of freedom. The difference B - A is computed per replication (both policies see the same
borrowers and the same draws, so the pairs are matched) and its interval is that of the R
differences. A figure that does not vary (a decision on a fixed portfolio) has a half-width of 0;
with R = 1 no interval can be given (``None``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

T_975: dict[int, float] = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
    11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093,
    20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048,
    29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980,
}
"""Student's t, 0.975 quantile, by degrees of freedom (standard tables)."""


def t_quantile(df: int) -> float:
    """The 0.975 quantile for ``df`` degrees of freedom; between tabulated values the next lower
    ``df`` (a slightly wider interval), 1.960 beyond 120."""
    if df < 1:
        raise ValueError("a t quantile needs at least one degree of freedom")
    if df > 120:
        return 1.960
    return T_975[max(k for k in T_975 if k <= df)]


@dataclass(frozen=True, slots=True)
class Interval:
    mean: float
    half_width: float | None
    n: int

    @property
    def low(self) -> float | None:
        return None if self.half_width is None else self.mean - self.half_width

    @property
    def high(self) -> float | None:
        return None if self.half_width is None else self.mean + self.half_width


def interval(values: Sequence[Decimal | float]) -> Interval | None:
    """The mean and 95 % half-width of ``values`` (None when there are none)."""
    xs = [float(v) for v in values]
    if not xs:
        return None
    mean = math.fsum(xs) / len(xs)
    if len(xs) == 1:
        return Interval(mean, None, 1)
    variance = math.fsum((x - mean) ** 2 for x in xs) / (len(xs) - 1)
    return Interval(mean, t_quantile(len(xs) - 1) * math.sqrt(variance) / math.sqrt(len(xs)), len(xs))

from datetime import date
from decimal import Decimal

import pytest
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import Policy
from forbear_shared.domain.schedule import Schedule, equal_principal_schedule
from forbear_shared.policy_loader import load_policy


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy()


@pytest.fixture
def loan_12000() -> Schedule:
    """12,000.00 at 12 %/year, 12 equal-principal months, due on the 10th from 10 Feb 2025.

    Principal 1,000.00 a month; interest 1 % of the opening balance (120.00, 110.00, ...).
    Penalty rate 12 % x 1.5 = 18 %/year; daily 0.18 / 360 = 0.0005, i.e. 0.50 a day per 1,000.00.
    """
    return equal_principal_schedule(Money.of("12000.00"), Decimal("0.12"), 12, date(2025, 2, 10))

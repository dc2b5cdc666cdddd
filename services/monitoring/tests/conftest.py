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
def agreement_schedule() -> Schedule:
    """3,000.00 at 12 %/year over 3 months, equal principal, due 10 Feb, 10 Mar, 10 Apr 2025.

    Instalments: 1000.00 + 30.00 = 1030.00; 1000.00 + 20.00 = 1020.00; 1000.00 + 10.00 = 1010.00.
    """
    return equal_principal_schedule(Money.of("3000.00"), Decimal("0.12"), 3, date(2025, 2, 10))

"""Shared fixtures for the evaluation tests."""

import pytest
from forbear_shared.domain.policy import Policy
from forbear_shared.policy_loader import load_policy


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy()

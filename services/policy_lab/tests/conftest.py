from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="session")
def policy_texts() -> tuple[str, str]:
    """The example champion and challenger (the demo lender's policy, 2027-2031 published)."""
    return ((EXAMPLES / "champion.toml").read_text(encoding="utf-8"),
            (EXAMPLES / "challenger.toml").read_text(encoding="utf-8"))

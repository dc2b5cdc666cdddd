"""The domain packages type-check under ``mypy --strict`` (the rules are read by people and tools)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_PACKAGES = [
    "shared/forbear_shared/domain",
    "services/intake/forbear_intake/domain",
    "services/evaluation/forbear_evaluation/domain",
    "services/agreement/forbear_agreement/domain",
    "services/monitoring/forbear_monitoring/domain",
    "services/policy_lab/forbear_policy_lab/domain",
]


def test_domain_packages_pass_mypy_strict() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *DOMAIN_PACKAGES],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr

"""Reading a policy file: the one place that touches the file system.

Kept outside ``domain/`` so the domain stays pure; domain functions take the
``Policy`` object this returns.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .domain.policy import Policy, parse_policy_toml
from .holidays import official_holidays

DEMO_POLICY = "demo-lender.toml"


def read_policy_text(path: str | Path | None = None) -> str:
    """The TOML text of ``path``, or of the packaged demo policy when None."""
    if path is None:
        return resources.files("forbear_shared.policies").joinpath(DEMO_POLICY).read_text(encoding="utf-8")
    return Path(path).read_text(encoding="utf-8")


def load_policy(path: str | Path | None = None) -> Policy:
    """Load and validate a policy file (default: the demo lender's), its calendar's official
    holiday table attached."""
    return policy_from_text(read_policy_text(path))


def policy_from_text(text: str) -> Policy:
    """Validate policy TOML text already read, its calendar's official holiday table attached
    (a process that was handed the text, not the file: the policy lab's workers)."""
    policy = parse_policy_toml(text)
    return policy.with_official_holidays(official_holidays(policy.calendar.holidays))

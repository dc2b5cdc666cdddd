"""Demo operator accounts for the console's login (a lender uses its identity provider instead)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from forbear_shared.auth import STAFF, Role


@dataclass(frozen=True)
class Operator:
    username: str
    role: Role


class Operators:
    """Accounts parsed from ``user:role:password,...``; only staff roles may use the console."""

    def __init__(self, spec: str) -> None:
        self._accounts: dict[str, tuple[Role, str]] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            username, role, password = item.split(":", 2)
            if role not in STAFF:
                raise ValueError(f"console operator {username!r} has role {role!r}; only agent or supervisor")
            if not password:
                raise ValueError(f"console operator {username!r} has an empty password")
            self._accounts[username] = (role, password)  # type: ignore[assignment]

    def authenticate(self, username: str, password: str) -> Operator | None:
        known = self._accounts.get(username)
        # compare even for an unknown user so that timing does not tell which names exist
        expected = known[1] if known else "\0unknown-operator\0"
        if hmac.compare_digest(expected.encode(), password.encode()) and known:
            return Operator(username, known[0])
        return None

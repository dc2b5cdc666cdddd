"""Bearer tokens (HS256 JWT) and roles.

Roles: ``agent`` and ``supervisor`` (the lender's operations staff), ``borrower`` (acts only on
their own cases, identified by the token's ``borrower_id``), ``system`` (core banking and
pipelines). Tokens are minted by the lender's identity provider; ``mint`` exists for local
runs, tests and the demo.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass
from typing import Literal

import jwt

Role = Literal["agent", "supervisor", "borrower", "system"]
ROLES: tuple[Role, ...] = ("agent", "supervisor", "borrower", "system")
STAFF: tuple[Role, ...] = ("agent", "supervisor")
ISSUER = "forbear"


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    borrower_id: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


class InvalidToken(Exception):
    pass


def mint(secret: str, subject: str, role: Role, borrower_id: str | None = None, hours: int = 12) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if role == "borrower" and not borrower_id:
        raise ValueError("a borrower token needs borrower_id")
    issued = dt.datetime.now(dt.UTC)  # token lifetime is technical time, not business time
    claims: dict[str, object] = {
        "iss": ISSUER,
        "sub": subject,
        "role": role,
        "iat": issued,
        "exp": issued + dt.timedelta(hours=hours),
    }
    if borrower_id:
        claims["borrower_id"] = borrower_id
    return jwt.encode(claims, secret, algorithm="HS256")


def verify(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], issuer=ISSUER, options={"require": ["exp", "sub"]})
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    role = claims.get("role")
    if role not in ROLES:
        raise InvalidToken("unknown role")
    borrower_id = claims.get("borrower_id")
    if role == "borrower" and not borrower_id:
        raise InvalidToken("borrower token without borrower_id")
    return Principal(subject=str(claims["sub"]), role=role, borrower_id=borrower_id)


def main(argv: list[str] | None = None) -> int:
    import os

    parser = argparse.ArgumentParser(prog="python -m forbear_shared.auth", description="mint a token (local use)")
    parser.add_argument("role", choices=ROLES)
    parser.add_argument("subject")
    parser.add_argument("--borrower-id")
    parser.add_argument("--hours", type=int, default=12)
    args = parser.parse_args(argv)
    secret = os.environ.get("FORBEAR_AUTH_SECRET", "forbear-development-secret-not-for-production")
    print(mint(secret, args.subject, args.role, args.borrower_id, args.hours))
    return 0


if __name__ == "__main__":
    sys.exit(main())

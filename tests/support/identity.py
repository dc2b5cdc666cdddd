"""The test issuer: an RSA key made for this test run, whose JWKS the services trust in test mode
only (``FORBEAR_AUTH_TEST_JWKS_FILE``; settings refuse it in any other environment).

It lets a test act as any role and borrower without an account in the identity provider;
the tests of identity itself (tests/integration/test_identity.py) get their tokens from the
real Keycloak.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from forbear_shared.auth import audiences
from forbear_shared.devstack import SERVICES

ISSUER = "https://test-issuer.forbear.invalid"


class TestIssuer:
    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self.kid = f"test-{uuid.uuid4().hex[:12]}"
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def write_jwks(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.jwks()))
        return path

    def mint(self, subject: str, role: str | None, borrower_id: Any = None, *, audience: Any = None,
             lifetime: dt.timedelta = dt.timedelta(minutes=10), issued: dt.datetime | None = None,
             issuer: str = ISSUER, kid: str | None = None, extra: dict[str, Any] | None = None) -> str:
        issued = issued or dt.datetime.now(dt.UTC)  # token times are technical time
        claims: dict[str, Any] = {
            "iss": issuer, "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, subject)), "preferred_username": subject,
            "aud": audiences(SERVICES) if audience is None else audience,
            "iat": int(issued.timestamp()), "exp": int((issued + lifetime).timestamp()),
        }
        if role is not None:
            claims["realm_access"] = {"roles": [role]}
        if borrower_id is not None:
            claims["borrower_id"] = borrower_id
        claims.update(extra or {})
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": kid or self.kid})


#: one issuer per test session: its JWKS goes into every started service's environment
TEST_ISSUER = TestIssuer()


class IssuedTokens:
    """A token source (forbear_simulator.client.TokenSource) of the test issuer for one caller."""

    def __init__(self, subject: str, role: str, borrower_id: str | None = None) -> None:
        self.subject, self.role, self.borrower_id = subject, role, borrower_id

    def token(self) -> str:
        return TEST_ISSUER.mint(self.subject, self.role, self.borrower_id)

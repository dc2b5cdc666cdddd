"""Identity at the services' doors: access tokens from the real Keycloak (client credentials,
a person's login) and the refusals an attacker meets (wrong audience, another issuer, forged or
unsigned tokens, endless lifetimes, invented key ids, malformed claims), and the provider's
brute-force protection."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
import uuid
from pathlib import Path

import httpx
import jwt
import pytest
from forbear_shared.oidc import DEVELOPMENT_SECRETS, ClientCredentials, Discovery, PasswordLogin, TokenRequestFailed

from tests.support.http import api_url
from tests.support.identity import ISSUER, TEST_ISSUER, TestIssuer
from tests.support.infra import KEYCLOAK_ISSUER

pytestmark = pytest.mark.integration


def keycloak_token(client_id: str) -> str:
    return ClientCredentials(Discovery(KEYCLOAK_ISSUER), client_id, DEVELOPMENT_SECRETS[client_id]).token()


def get(service: str, path: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.get(f"{api_url(service)}{path}", headers=headers, timeout=30)


def refused(response: httpx.Response, words: str) -> bool:
    body = response.json()
    return response.status_code == 401 and body["reason"] == "invalid_token" and words in body["detail"]


def test_core_banking_and_the_cob_scheduler_authenticate_with_client_credentials(stack) -> None:
    token = keycloak_token("forbear-cob")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == KEYCLOAK_ISSUER and "forbear-monitoring" in claims["aud"]
    assert claims["exp"] - claims["iat"] <= 3600
    assert get("monitoring", "/business-date", token).status_code == 200
    # the system role may read the queue of cases, but not decide reviews (a supervisor's)
    assert get("intake", "/cases", keycloak_token("forbear-corebanking")).status_code == 200
    assert get("evaluation", "/reviews", token).status_code == 403


def test_a_client_without_a_forbear_audience_or_role_is_refused(stack) -> None:
    # the registrar manages users in Keycloak; its tokens are not for the services
    registrar = keycloak_token("forbear-demo-registrar")
    assert refused(get("intake", "/cases", registrar), "not issued for forbear-intake")


def test_a_token_for_another_service_is_refused(stack) -> None:
    for_monitoring = TEST_ISSUER.mint("agent-7", "agent", audience=["forbear-monitoring"])
    assert get("monitoring", "/business-date", for_monitoring).status_code == 200
    assert refused(get("intake", "/cases", for_monitoring), "not issued for forbear-intake")


def test_tokens_living_longer_than_the_maximum_or_expired_are_refused(stack) -> None:
    century = TEST_ISSUER.mint("agent-7", "agent", lifetime=dt.timedelta(days=36500))
    assert refused(get("intake", "/cases", century), "lifetime exceeds")
    expired = TEST_ISSUER.mint("agent-7", "agent", issued=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2),
                               lifetime=dt.timedelta(minutes=10))
    assert refused(get("intake", "/cases", expired), "expired")


def test_forged_unsigned_and_symmetric_tokens_are_refused(stack) -> None:
    claims = {"iss": ISSUER, "sub": "x", "aud": "forbear-intake", "iat": int(time.time()),
              "exp": int(time.time()) + 300, "realm_access": {"roles": ["supervisor"]}}
    # HS256 with the public key's text as the secret: the classic algorithm confusion (made by
    # hand: the library rightly refuses to sign it)
    hs = hs256(claims, json.dumps(TEST_ISSUER.jwks()["keys"][0]).encode(), TEST_ISSUER.kid)
    assert refused(get("intake", "/cases", hs), "accepted algorithm")
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": TEST_ISSUER.kid})
    assert refused(get("intake", "/cases", unsigned), "accepted algorithm")
    # signed by a key of nobody's, claiming to be the trusted issuer and its key id
    impostor = TestIssuer().mint("super-9", "supervisor", kid=TEST_ISSUER.kid)
    assert refused(get("intake", "/cases", impostor), "InvalidSignatureError")
    # the trusted issuer's own key, but another issuer named in the token
    assert refused(get("intake", "/cases", TEST_ISSUER.mint("a", "agent", issuer="https://elsewhere.example")),
                   "untrusted issuer")
    assert refused(get("intake", "/cases", "not.a.jwt"), "malformed")


def hs256(claims: dict[str, object], secret: bytes, kid: str) -> str:
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': kid}).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def test_an_invented_key_id_is_refused_and_the_service_keeps_answering(stack) -> None:
    for _ in range(20):
        invented = TEST_ISSUER.mint("agent-7", "agent", kid=f"kid-{uuid.uuid4().hex}")
        assert refused(get("intake", "/cases", invented), "unknown signing key")
    assert get("intake", "/cases", TEST_ISSUER.mint("agent-7", "agent")).status_code == 200


@pytest.mark.parametrize("claims, words", [
    ({"borrower_id": 42}, "borrower token without a valid borrower_id"),
    ({"borrower_id": "B-1\x00; drop table"}, "borrower token without a valid borrower_id"),
    ({"realm_access": {"roles": ["admin"]}}, "grants no Forbear role"),
    ({"realm_access": "supervisor"}, "without a realm_access.roles claim"),
    ({"preferred_username": "x" * 500, "sub": "y" * 500}, "subject is not an identifier"),
])
def test_malformed_claims_are_a_401_not_a_500(stack, claims: dict[str, object], words: str) -> None:
    token = TEST_ISSUER.mint("borrower-1", "borrower", "B-1", extra=claims)
    assert refused(get("intake", "/cases", token), words)


def test_a_rotated_key_is_picked_up_from_the_issuers_jwks(stack, infra) -> None:
    jwks_file = Path(stack.env["FORBEAR_AUTH_TEST_JWKS_FILE"])
    rotated = TestIssuer()
    token = rotated.mint("agent-7", "agent")
    assert refused(get("intake", "/cases", token), "unknown signing key")
    jwks_file.write_text(json.dumps({"keys": TEST_ISSUER.jwks()["keys"] + rotated.jwks()["keys"]}))
    # an unknown key id makes the service read its issuer's keys again
    assert get("intake", "/cases", token).status_code == 200
    assert get("intake", "/cases", TEST_ISSUER.mint("agent-7", "agent")).status_code == 200


def _registrar() -> httpx.Client:
    base, realm = KEYCLOAK_ISSUER.rsplit("/realms/", 1)
    return httpx.Client(base_url=f"{base}/admin/realms/{realm}", timeout=30,
                        headers={"Authorization": f"Bearer {keycloak_token('forbear-demo-registrar')}"})


def test_fifteen_wrong_passwords_lock_the_account_for_a_while(stack) -> None:
    username, password = f"lockout-probe-{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(12)
    with _registrar() as admin:
        created = admin.post("/users", json={"username": username, "enabled": True, "credentials": [
            {"type": "password", "value": password, "temporary": False}]})
        assert created.status_code == 201
        user_id = created.headers["Location"].rsplit("/", 1)[1]
        admin.post(f"/users/{user_id}/role-mappings/realm", json=[admin.get("/roles/agent").json()]).raise_for_status()
    discovery = Discovery(KEYCLOAK_ISSUER)
    portal_secret = DEVELOPMENT_SECRETS["forbear-portal"]
    assert PasswordLogin(discovery, "forbear-portal", portal_secret, username, password).token()
    for _ in range(15):
        with pytest.raises(TokenRequestFailed):
            PasswordLogin(discovery, "forbear-portal", portal_secret, username, "wrong-" + password).token()
    # the right password no longer opens the account: the realm's brute-force detection holds it
    with pytest.raises(TokenRequestFailed, match="invalid_grant"):
        PasswordLogin(discovery, "forbear-portal", portal_secret, username, password).token()
    with _registrar() as admin:
        status = admin.get(f"/attack-detection/brute-force/users/{user_id}").json()
        # failures a second apart or faster lock at once (quick-login check), slower ones after five
        assert status["disabled"] is True and status["numFailures"] >= 1
        admin.delete(f"/users/{user_id}")


def test_a_portal_login_is_for_the_portal_and_the_four_services_it_calls(stack) -> None:
    """A borrower's token from the portal client names the portal's own audience (the door
    verifies it at login) and each service the portal calls for the borrower."""
    username, password, borrower_id = f"portal-aud-{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(12), "B-AUD-1"
    with _registrar() as admin:
        created = admin.post("/users", json={"username": username, "enabled": True,
                                             "attributes": {"borrower_id": [borrower_id]},
                                             "credentials": [{"type": "password", "value": password,
                                                              "temporary": False}]})
        assert created.status_code == 201
        user_id = created.headers["Location"].rsplit("/", 1)[1]
        admin.post(f"/users/{user_id}/role-mappings/realm", json=[admin.get("/roles/borrower").json()]).raise_for_status()
    try:
        token = PasswordLogin(Discovery(KEYCLOAK_ISSUER), "forbear-portal", DEVELOPMENT_SECRETS["forbear-portal"],
                              username, password).token()
    finally:
        with _registrar() as admin:
            admin.delete(f"/users/{user_id}")
    claims = jwt.decode(token, options={"verify_signature": False})  # the claims only: the doors verify
    audience = {claims["aud"]} if isinstance(claims["aud"], str) else set(claims["aud"])
    assert audience >= {"forbear-portal", "forbear-intake", "forbear-evaluation", "forbear-agreement",
                        "forbear-monitoring"}
    assert "forbear-console" not in audience
    assert claims["borrower_id"] == borrower_id

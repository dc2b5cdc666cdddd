"""The resource server's key cache: rotation is picked up, invented key ids cannot flood the
identity provider, and an unreachable provider keeps the keys already known."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from forbear_shared.auth import InvalidToken, IssuerUnavailable, JwksCache, Principal, visible
from forbear_shared.errors import NotFound


def jwk(kid: str) -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key)), "kid": kid, "use": "sig", "alg": "RS256"}


class Provider:
    def __init__(self, *kids: str) -> None:
        self.keys = [jwk(k) for k in kids]
        self.fetches = 0
        self.down = False

    def __call__(self) -> dict[str, Any]:
        self.fetches += 1
        if self.down:
            raise httpx.ConnectError("provider away")
        return {"keys": self.keys}


def test_an_unknown_key_id_refreshes_once_per_interval_not_once_per_token() -> None:
    provider = Provider("k1")
    cache = JwksCache(provider, ttl_seconds=300, min_refresh_seconds=60)
    assert cache.key("k1").key_id == "k1"
    for i in range(50):
        with pytest.raises(InvalidToken, match="unknown signing key"):
            cache.key(f"invented-{i}")
    assert provider.fetches == 1  # fifty invented ids, no further fetch within the interval


def test_a_rotated_key_is_found_by_refreshing_after_the_interval() -> None:
    provider = Provider("k1")
    cache = JwksCache(provider, ttl_seconds=300, min_refresh_seconds=0)
    cache.key("k1")
    provider.keys.append(jwk("k2"))
    assert cache.key("k2").key_id == "k2" and provider.fetches == 2


def test_encryption_keys_and_unsupported_algorithms_are_not_signing_keys() -> None:
    provider = Provider("sig")
    provider.keys.append({**jwk("enc"), "use": "enc", "alg": "RSA-OAEP"})
    provider.keys.append({**jwk("hs"), "kty": "oct", "k": "c2VjcmV0", "alg": "HS256"})
    cache = JwksCache(provider, min_refresh_seconds=60)
    assert cache.key("sig")
    for kid in ("enc", "hs"):
        with pytest.raises(InvalidToken):
            cache.key(kid)


def test_a_provider_away_keeps_the_known_keys_and_without_any_is_unavailable() -> None:
    provider = Provider("k1")
    cache = JwksCache(provider, ttl_seconds=0, min_refresh_seconds=0)
    cache.key("k1")
    provider.down = True
    assert cache.key("k1").key_id == "k1"
    with pytest.raises(IssuerUnavailable):
        JwksCache(provider).key("k1")


def test_a_borrower_sees_only_their_own_records_and_staff_and_systems_see_every_record() -> None:
    mine, theirs = {"borrower_id": "B-1"}, {"borrower_id": "B-2"}
    borrower = Principal("u-1", "borrower", "B-1")
    assert visible(borrower, mine, "case", "C-1") is mine
    for who in (Principal("a-1", "agent"), Principal("s-1", "supervisor"), Principal("cob", "system")):
        assert visible(who, theirs, "case", "C-2") is theirs
    # someone else's record and no record are the same answer: nothing tells that C-2 exists
    with pytest.raises(NotFound) as other:
        visible(borrower, theirs, "case", "C-2")
    with pytest.raises(NotFound) as missing:
        visible(borrower, None, "case", "C-2")
    assert (other.value.reason, str(other.value)) == (missing.value.reason, str(missing.value))
    assert other.value.reason == "case_not_found"

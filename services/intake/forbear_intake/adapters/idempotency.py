"""Idempotency keys for creating POSTs, kept in the same transaction as the creation.

The first request with a key inserts its row; a concurrent second one blocks on the primary
key until the first commits (or rolls back), then reads the stored response. The same key
with another body is refused: a client reusing a key for a different request has a bug.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import psycopg
from forbear_shared.errors import Conflict


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: Any


def request_hash(*parts: object) -> str:
    canonical = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(conn: psycopg.Connection, scope: str, key: str, digest: str) -> Replay | None:
    """Claim ``key`` in ``scope``; a stored response to replay, or None to go ahead."""
    if not key or len(key) > 200:
        from forbear_shared.errors import Unprocessable

        raise Unprocessable("invalid_idempotency_key", "Idempotency-Key must be 1 to 200 characters")
    inserted = conn.execute(
        "insert into idempotency_keys (scope, key, request_hash) values (%s, %s, %s) "
        "on conflict do nothing returning key",
        (scope, key, digest),
    ).fetchone()
    if inserted is not None:
        return None
    row = conn.execute(
        "select request_hash, status_code, response from idempotency_keys where scope = %s and key = %s",
        (scope, key),
    ).fetchone()
    assert row is not None
    if row["request_hash"] != digest:
        raise Conflict("idempotency_key_reused", "this Idempotency-Key was used with a different request")
    return Replay(row["status_code"], row["response"])


def record(conn: psycopg.Connection, scope: str, key: str, status_code: int, body: Any) -> None:
    conn.execute(
        "update idempotency_keys set status_code = %s, response = %s where scope = %s and key = %s",
        (status_code, json.dumps(body, default=str), scope, key),
    )

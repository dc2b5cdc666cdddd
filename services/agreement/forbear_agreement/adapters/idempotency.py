"""Idempotency keys of creating POSTs, stored in the same transaction as the change they made.

A key belongs to one caller (token subject and role). The same key with the same request
replays the first response; the same key with another request is refused (409). Two
concurrent requests with one key serialise on the key's row: the second waits for the first
to commit and then replays its response.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import psycopg
from forbear_shared.errors import Conflict, Unprocessable
from psycopg.types.json import Jsonb

MAX_KEY_LENGTH = 128


@dataclass(frozen=True)
class Replay:
    status_code: int
    response: dict[str, Any]


def request_fingerprint(method: str, path: str, body: Any) -> str:
    text = json.dumps({"method": method, "path": path, "body": body}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def claim(conn: psycopg.Connection, actor: str, key: str, fingerprint: str) -> Replay | None:
    """Reserve ``key`` for this request, or return the response it already produced."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Unprocessable("invalid_idempotency_key", f"Idempotency-Key must be 1..{MAX_KEY_LENGTH} characters")
    fresh = conn.execute(
        "insert into idempotency_keys (actor, key, request_sha256, status_code, response) "
        "values (%s, %s, %s, 0, '{}'::jsonb) on conflict do nothing returning key",
        (actor, key, fingerprint),
    ).fetchone()
    if fresh is not None:
        return None
    row = conn.execute(
        "select request_sha256, status_code, response from idempotency_keys where actor = %s and key = %s",
        (actor, key),
    ).fetchone()
    assert row is not None
    if row["request_sha256"] != fingerprint:
        raise Conflict(
            "idempotency_key_reused", "this Idempotency-Key was used for a different request; use a new key"
        )
    return Replay(row["status_code"], row["response"])


def record(conn: psycopg.Connection, actor: str, key: str, status_code: int, response: dict[str, Any]) -> None:
    conn.execute(
        "update idempotency_keys set status_code = %s, response = %s where actor = %s and key = %s",
        (status_code, Jsonb(response), actor, key),
    )

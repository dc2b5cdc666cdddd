"""Idempotency keys of creating POSTs: the one implementation every service uses.

A key belongs to a scope (the caller, or the caller and the operation). The same key with
the same request replays the first response; the same key with another request is refused
(409): a client reusing a key for a different request has a bug.

``claim`` + ``record`` run in the transaction of the change itself: a concurrent second
request with the key waits on the key's row until the first commits, then replays it.
``lookup`` + ``remember`` serve a change that commits in a transaction of its own.

A key is kept at least ``idempotency_key_hours`` (24 h, the API's promise) after its first use;
the retention purge then deletes it (``forbear_shared.retention``), and the key is new again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from forbear_shared.errors import Conflict, Unprocessable

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: Any


def request_hash(*parts: object) -> str:
    canonical = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Unprocessable("invalid_idempotency_key", f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")


def _replay(row: Any, digest: str) -> Replay:
    if row["request_hash"] != digest:
        raise Conflict("idempotency_key_reused", "this Idempotency-Key was used with a different request")
    return Replay(row["status_code"], row["response"])


def claim(conn: psycopg.Connection, scope: str, key: str, digest: str) -> Replay | None:
    """Claim ``key`` in ``scope``: None to go ahead, or the stored response to replay."""
    _check_key(key)
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
    return _replay(row, digest)


def record(conn: psycopg.Connection, scope: str, key: str, status_code: int, body: Any) -> None:
    """Store the response of a claimed key, in the same transaction as the change."""
    conn.execute(
        "update idempotency_keys set status_code = %s, response = %s where scope = %s and key = %s",
        (status_code, Jsonb(body), scope, key),
    )


def lookup(conn: psycopg.Connection, scope: str, key: str, digest: str) -> Replay | None:
    """The stored response of a completed request with ``key``, if any."""
    _check_key(key)
    row = conn.execute(
        "select request_hash, status_code, response from idempotency_keys "
        "where scope = %s and key = %s and status_code is not null",
        (scope, key),
    ).fetchone()
    return None if row is None else _replay(row, digest)


def remember(conn: psycopg.Connection, scope: str, key: str, digest: str, status_code: int, body: Any) -> None:
    """Store the response of a request whose change committed on its own; the first one stays."""
    conn.execute(
        "insert into idempotency_keys (scope, key, request_hash, status_code, response) "
        "values (%s, %s, %s, %s, %s) on conflict do nothing",
        (scope, key, digest, status_code, Jsonb(body)),
    )

"""Postgres: one pool per service, bound to the service's own schema; migrations at start-up."""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

log = logging.getLogger(__name__)

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]*$")


#: a connection attempt to a server that does not answer gives up after this many seconds
CONNECT_TIMEOUT_SECONDS = 5
RECONNECT_GIVE_UP_SECONDS = 10.0


def make_pool(database_url: str, schema: str, *, min_size: int = 1, max_size: int = 10, name: str = "",
              timeout: float = 30.0, statement_timeout_ms: int | None = None) -> ConnectionPool:
    """A pool bound to ``schema``. It opens without waiting for the server: connections are made
    (and remade after an outage) in the background, each checked before it is lent, so the first
    request after a database restart gets a live connection rather than a dead one. A caller
    waits at most ``timeout`` seconds for one (``PoolTimeout``); ``statement_timeout_ms`` bounds
    each statement on the server."""
    if not _SCHEMA.match(schema):
        raise ValueError(f"invalid schema name {schema!r}")
    options = f"-c search_path={schema}"
    if statement_timeout_ms is not None:
        options += f" -c statement_timeout={int(statement_timeout_ms)}"
    pool = ConnectionPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"options": options, "row_factory": dict_row, "application_name": name or schema,
                "connect_timeout": CONNECT_TIMEOUT_SECONDS},
        name=name or schema,
        open=True,
        timeout=timeout,
        check=ConnectionPool.check_connection,
        # a connection attempt that keeps failing is given up after this, and the next caller
        # starts a fresh one (the pool's own backoff doubles without bound: after a minute-long
        # outage it would wait another minute before trying again)
        reconnect_timeout=RECONNECT_GIVE_UP_SECONDS,
    )
    return pool


_AFTER_COMMIT: dict[int, list[Callable[[], object]]] = {}


@contextmanager
def transaction(pool: ConnectionPool) -> Iterator[psycopg.Connection]:
    """One unit of work: commits when the block ends, rolls back on any exception.

    Callbacks registered with ``on_commit`` inside the block run after the commit, in order;
    a rollback drops them.
    """
    with pool.connection() as conn:
        key = id(conn)
        _AFTER_COMMIT[key] = []
        try:
            with conn.transaction():
                yield conn
            callbacks = _AFTER_COMMIT.pop(key, [])
        finally:
            _AFTER_COMMIT.pop(key, None)
    for callback in callbacks:
        try:
            callback()
        except Exception:  # what committed stays committed; a failing follow-up is only logged
            log.exception("after-commit callback failed")


def on_commit(conn: psycopg.Connection, callback: Callable[..., object], *args: Any) -> None:
    """Run ``callback(*args)`` once the ``transaction`` that ``conn`` is in has committed
    (metrics and whatever else must not count what a rollback undoes). Outside
    ``transaction``, at once."""
    pending = _AFTER_COMMIT.get(id(conn))
    if pending is None:
        callback(*args)
    else:
        pending.append(functools.partial(callback, *args))


def _migration_files(package: str | None, directory: Path | None) -> list[tuple[str, str]]:
    files: list[tuple[str, str]] = []
    if package is not None:
        root = resources.files(package)
        for entry in root.iterdir():
            if entry.name.endswith(".sql"):
                files.append((entry.name, entry.read_text()))
    if directory is not None:
        for path in directory.glob("*.sql"):
            files.append((path.name, path.read_text()))
    return sorted(files)


class MigrationEdited(RuntimeError):
    """An applied migration's file no longer has the text that was applied: the schema in the
    database is not what the files say. Restore the file and add a new migration instead."""


def checksum(sql: str) -> str:
    """What ``schema_migrations.checksum`` records of a migration: SHA-256 of its text."""
    return hashlib.sha256(sql.encode()).hexdigest()


def migrate(database_url: str, schema: str, service_migrations: Path | None) -> list[str]:
    """Apply the shared delivery tables then the service's own migrations, once each, in order.

    An advisory lock serialises concurrent starts of the same service. The migrations of one
    start are one transaction: cut off half-way (the server went away), none of them stays,
    and the next attempt starts over. Each applied migration's checksum is recorded, and a
    file edited after it was applied is refused (``MigrationEdited``) before anything runs.
    """
    if not _SCHEMA.match(schema):
        raise ValueError(f"invalid schema name {schema!r}")
    applied: list[str] = []
    with psycopg.connect(database_url, autocommit=False, connect_timeout=CONNECT_TIMEOUT_SECONDS) as conn:
        conn.execute("select pg_advisory_xact_lock(hashtext('forbear-migrate:' || %s))", (schema,))
        conn.execute(f"create schema if not exists {schema}")
        conn.execute(f"set local search_path = {schema}")
        conn.execute(
            "create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())"
        )
        # recorded since checksums were introduced; rows applied before have none until this start
        conn.execute("alter table schema_migrations add column if not exists checksum text")
        done = {r[0]: r[1] for r in conn.execute("select name, checksum from schema_migrations")}
        shared = [(f"shared/{n}", sql) for n, sql in _migration_files("forbear_shared.migrations", None)]
        own = [(f"{schema}/{n}", sql) for n, sql in _migration_files(None, service_migrations)]
        files = shared + own
        edited = [name for name, sql in files if done.get(name) not in (None, checksum(sql))]
        if edited:
            raise MigrationEdited(f"applied migration(s) edited since: {', '.join(edited)} (schema {schema})")
        for name, sql in files:
            if name in done:
                if done[name] is None:
                    conn.execute("update schema_migrations set checksum = %s where name = %s", (checksum(sql), name))
                continue
            conn.execute(sql)
            conn.execute("insert into schema_migrations (name, checksum) values (%s, %s)", (name, checksum(sql)))
            applied.append(name)
        conn.commit()
    if applied:
        log.info("migrations applied", extra={"schema": schema, "count": len(applied)})
    return applied

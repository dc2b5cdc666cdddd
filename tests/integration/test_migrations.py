"""The migration runner on a real Postgres: once each, in order, and an edited one refused."""

from __future__ import annotations

import hashlib
import uuid

import psycopg
import pytest
from forbear_shared.db import MigrationEdited, migrate


@pytest.fixture()
def schema(infra):
    name = f"migr_{uuid.uuid4().hex[:8]}"
    yield name
    with psycopg.connect(infra.database_url, autocommit=True) as conn:
        conn.execute(f"drop schema if exists {name} cascade")


def _rows(infra, schema):
    with psycopg.connect(infra.database_url) as conn:
        return dict(conn.execute(f"select name, checksum from {schema}.schema_migrations").fetchall())


def test_each_migration_is_applied_once_with_its_checksum(infra, schema, tmp_path):
    (tmp_path / "0001_things.sql").write_text("create table things (id int primary key);")
    (tmp_path / "0002_more.sql").write_text("alter table things add column note text;")
    first = migrate(infra.database_url, schema, tmp_path)
    assert [n for n in first if n.startswith(f"{schema}/")] == [f"{schema}/0001_things.sql", f"{schema}/0002_more.sql"]
    assert migrate(infra.database_url, schema, tmp_path) == []
    rows = _rows(infra, schema)
    assert rows[f"{schema}/0002_more.sql"] == hashlib.sha256(b"alter table things add column note text;").hexdigest()
    assert all(len(value) == 64 for value in rows.values())


def test_an_applied_migration_edited_afterwards_is_refused_and_nothing_runs(infra, schema, tmp_path):
    (tmp_path / "0001_things.sql").write_text("create table things (id int primary key);")
    migrate(infra.database_url, schema, tmp_path)
    (tmp_path / "0001_things.sql").write_text("create table things (id bigint primary key);")
    (tmp_path / "0002_more.sql").write_text("create table later (id int);")
    with pytest.raises(MigrationEdited, match="0001_things.sql"):
        migrate(infra.database_url, schema, tmp_path)
    with psycopg.connect(infra.database_url) as conn:
        assert conn.execute("select to_regclass(%s)", (f"{schema}.later",)).fetchone() == (None,)
    assert f"{schema}/0002_more.sql" not in _rows(infra, schema)


def test_migrations_applied_before_checksums_were_recorded_get_theirs(infra, schema, tmp_path):
    sql = "create table things (id int primary key);"
    (tmp_path / "0001_things.sql").write_text(sql)
    migrate(infra.database_url, schema, tmp_path)
    with psycopg.connect(infra.database_url) as conn:
        conn.execute(f"update {schema}.schema_migrations set checksum = null")
    migrate(infra.database_url, schema, tmp_path)
    assert _rows(infra, schema)[f"{schema}/0001_things.sql"] == hashlib.sha256(sql.encode()).hexdigest()

"""Test access to the real infrastructure: a database and a topic namespace per test run."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from forbear_agreement.keys import DemoKeys, ensure_demo_keys
from forbear_shared import dev_mailbox
from forbear_shared.kafka_admin import create_topics, delete_topics, wait_for_broker
from forbear_shared.object_store import S3Target, create_bucket, wait_for_store
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from pydantic import SecretStr

from tests.support import calendar as test_calendar
from tests.support import identity
from tests.support.http import PORT_OFFSET


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class TestInfra:
    __test__ = False  # a fixture's value, not a test class

    run_id: str
    admin_url: str
    database_url: str
    database: str
    bootstrap: str
    topic_prefix: str
    group_prefix: str
    #: the run's bucket in the object store of deploy/local/infra.sh (versitygw)
    evidence: S3Target

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    @property
    def signing_keys(self) -> DemoKeys:
        """The run's own CA and lender signing certificate (the agreement PDF's PAdES signature)."""
        return ensure_demo_keys(Path(f"/var/tmp/forbear/test-signing/{self.run_id}"))

    def service_env(self) -> dict[str, str]:
        return {
            **self.signing_keys.env(),
            "FORBEAR_ENVIRONMENT": "test",
            "FORBEAR_POLICY_FILE": str(test_calendar.policy_file()),
            "FORBEAR_DATABASE_URL": self.database_url,
            "FORBEAR_KAFKA_BOOTSTRAP": self.bootstrap,
            "FORBEAR_TOPIC_PREFIX": self.topic_prefix,
            "FORBEAR_GROUP_PREFIX": self.group_prefix,
            "FORBEAR_OIDC_ISSUER": KEYCLOAK_ISSUER,
            "FORBEAR_AUTH_TEST_ISSUER": identity.ISSUER,
            "FORBEAR_AUTH_TEST_JWKS_FILE": str(
                identity.TEST_ISSUER.write_jwks(Path(f"/var/tmp/forbear/test-issuer/{self.run_id}.jwks.json"))),
            "FORBEAR_EVIDENCE_STORE": "s3",
            "FORBEAR_EVIDENCE_S3_ENDPOINT_URL": self.evidence.endpoint_url or "",
            "FORBEAR_EVIDENCE_S3_BUCKET": self.evidence.bucket or "",
            "FORBEAR_EVIDENCE_S3_REGION": self.evidence.region,
            "FORBEAR_EVIDENCE_S3_ADDRESSING_STYLE": self.evidence.addressing_style,
            "FORBEAR_EVIDENCE_S3_ACCESS_KEY_ID": self.evidence.access_key_id or "",
            "FORBEAR_EVIDENCE_S3_SECRET_ACCESS_KEY": (
                self.evidence.secret_access_key.get_secret_value() if self.evidence.secret_access_key else ""),
            "FORBEAR_LOG_LEVEL": "INFO",
            # the agreement service's development sink for the borrower's signing codes
            "FORBEAR_DEV_MAILBOX_FILE": str(DEV_MAILBOX),
            # purges and erasures run every second, so tests see what they do without waiting long
            "FORBEAR_RETENTION_PURGE_INTERVAL_SECONDS": "1",
        }

    def connect(self, schema: str | None = None) -> psycopg.Connection[Any]:
        from psycopg.rows import dict_row

        options = f"-c search_path={schema}" if schema else ""
        return psycopg.connect(self.database_url, autocommit=True, row_factory=dict_row, options=options)


#: the real identity provider started by deploy/local/infra.sh (Keycloak, realm deploy/keycloak/)
#: where this run's services write the borrower's one-time signing codes (forbear_shared.dev_mailbox);
#: one file per port offset, so two runs on one machine never read each other's codes
DEV_MAILBOX = Path(f"/var/tmp/forbear/dev-mailbox/tests-{PORT_OFFSET}.jsonl")


def signing_code(agreement_id: str) -> str:
    """The newest code the agreement service sent the borrower for ``agreement_id``."""
    return dev_mailbox.latest_code(agreement_id, DEV_MAILBOX)


KEYCLOAK_ISSUER = os.environ.get("FORBEAR_OIDC_ISSUER", "http://127.0.0.1:18080/realms/forbear")


def start_test_infra(*, pg_port: int | None = None, bootstrap: str | None = None) -> TestInfra:
    """A database and a topic prefix of this run, on the shared pair (or on the Postgres port and
    broker given, e.g. a private pair's)."""
    port = str(pg_port) if pg_port is not None else _env("FORBEAR_PG_PORT", "55432")
    user = _env("FORBEAR_DB_USER", "forbear")
    password = _env("FORBEAR_DB_PASSWORD", "forbear-local")
    bootstrap = bootstrap or _env("FORBEAR_KAFKA_BOOTSTRAP", f"127.0.0.1:{_env('FORBEAR_KAFKA_PORT', '19092')}")
    run_id = uuid.uuid4().hex[:8]
    database = f"forbear_test_{run_id}"
    admin_url = f"postgresql://{user}:{password}@127.0.0.1:{port}/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"create database {database}")
    wait_for_broker(bootstrap, timeout=60)
    prefix = f"t{run_id}."
    create_topics(bootstrap, prefix)
    evidence = S3Target(
        endpoint_url=f"http://127.0.0.1:{_env('FORBEAR_S3_PORT', '19000')}", region="us-east-1",
        bucket=f"forbear-test-{run_id}", prefix="", addressing_style="path",
        access_key_id=_env("FORBEAR_EVIDENCE_S3_ACCESS_KEY_ID", "forbear-local"),
        secret_access_key=SecretStr(_env("FORBEAR_EVIDENCE_S3_SECRET_ACCESS_KEY", "forbear-local-s3-secret")),
    )
    wait_for_store(evidence)
    create_bucket(evidence, f"forbear-test-{run_id}")
    return TestInfra(
        run_id=run_id,
        admin_url=admin_url,
        database_url=f"postgresql://{user}:{password}@127.0.0.1:{port}/{database}",
        database=database,
        bootstrap=bootstrap,
        topic_prefix=prefix,
        group_prefix=f"t{run_id}-",
        evidence=evidence,
    )


def stop_test_infra(infra: TestInfra) -> None:
    try:
        delete_topics(infra.bootstrap, infra.topic_prefix)
    finally:
        try:
            drop_database(infra)
        finally:
            delete_bucket(infra.evidence)
            shutil.rmtree(f"/var/tmp/forbear/test-signing/{infra.run_id}", ignore_errors=True)


def delete_bucket(target: S3Target) -> None:
    """Empty and remove a test run's bucket."""
    assert target.bucket and target.bucket.startswith("forbear-test-"), "only a test run's bucket is removed"
    client = target.client()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=target.bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=target.bucket, Key=item["Key"])
    client.delete_bucket(Bucket=target.bucket)


def drop_database(infra: TestInfra, attempts: int = 30) -> None:
    """Drop the run's database. An autovacuum worker (the cluster superuser's) may still be in it
    after a large load; this role cannot end it, and it ends by itself within moments."""
    for attempt in range(attempts):
        try:
            with psycopg.connect(infra.admin_url, autocommit=True) as conn:
                conn.execute(f"drop database if exists {infra.database} with (force)")
            return
        except psycopg.errors.InsufficientPrivilege:
            if attempt == attempts - 1:
                raise
            time.sleep(1.0)


def producer(infra: TestInfra) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=infra.bootstrap, acks="all")


def read_topic(infra: TestInfra, name: str, *, min_count: int = 0, timeout: float = 30.0) -> list[Any]:
    """Every message on a topic from the beginning, polling until at least ``min_count``."""
    topic = infra.topic(name)
    consumer = KafkaConsumer(bootstrap_servers=infra.bootstrap, enable_auto_commit=False, group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + timeout
        messages: list[Any] = []
        while True:
            end = consumer.end_offsets(partitions)
            for batch in consumer.poll(timeout_ms=200).values():
                messages.extend(batch)
            caught_up = all(consumer.position(tp) >= end[tp] for tp in partitions)
            if caught_up and len(messages) >= min_count:
                return messages
            if time.monotonic() > deadline:
                return messages
    finally:
        consumer.close()


def read_events(infra: TestInfra, name: str, *, min_count: int = 0, timeout: float = 30.0) -> list[dict[str, Any]]:
    """The events on a topic as JSON objects; bytes that are not a JSON object (poison messages
    other tests publish on purpose) are skipped."""
    import json

    events: list[dict[str, Any]] = []
    for message in read_topic(infra, name, min_count=min_count, timeout=timeout):
        try:
            value = json.loads(message.value)
        except (TypeError, ValueError):
            continue
        if isinstance(value, dict):
            events.append(value)
    return events


def eventually(check: Any, timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Poll ``check`` until it returns a truthy value; return it, or fail with the last error."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except AssertionError as exc:
            last = exc
        time.sleep(interval)
    if last:
        raise last
    raise AssertionError(f"condition not met within {timeout}s")


def iter_headers(message: Any) -> Iterator[tuple[str, bytes]]:
    yield from message.headers or ()

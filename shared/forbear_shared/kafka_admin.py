"""Broker housekeeping: wait until the broker answers a metadata call, create the catalogue."""

from __future__ import annotations

import argparse
import os
import sys
import time

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from forbear_shared.topics import CATALOGUE


def admin(bootstrap: str) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=bootstrap, client_id="forbear-admin", request_timeout_ms=15000)


def wait_for_broker(bootstrap: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            client = admin(bootstrap)
            try:
                client.describe_cluster()
                client.list_topics()
                return
            finally:
                client.close()
        except Exception as exc:  # the broker is still starting
            last = exc
            time.sleep(1.0)
    raise TimeoutError(f"Kafka at {bootstrap} did not answer a metadata call in {timeout:.0f}s: {last}")


def create_topics(bootstrap: str, prefix: str = "") -> list[str]:
    client = admin(bootstrap)
    try:
        existing = set(client.list_topics())
        wanted = [t for t in CATALOGUE if f"{prefix}{t.name}" not in existing]
        created: list[str] = []
        for topic in wanted:
            try:
                client.create_topics(
                    [NewTopic(name=f"{prefix}{topic.name}", num_partitions=topic.partitions, replication_factor=1)]
                )
                created.append(f"{prefix}{topic.name}")
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        client.close()


def delete_topics(bootstrap: str, prefix: str) -> None:
    if not prefix:
        raise ValueError("refusing to delete the unprefixed production topics")
    client = admin(bootstrap)
    try:
        names = [n for n in client.list_topics() if n.startswith(prefix)]
        if names:
            client.delete_topics(names)
    finally:
        client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forbear_shared.kafka_admin")
    parser.add_argument("command", choices=["wait", "create-topics"])
    parser.add_argument("--bootstrap", default=os.environ.get("FORBEAR_KAFKA_BOOTSTRAP", "127.0.0.1:19092"))
    parser.add_argument("--prefix", default=os.environ.get("FORBEAR_TOPIC_PREFIX", ""))
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    if args.command == "wait":
        started = time.monotonic()
        wait_for_broker(args.bootstrap, args.timeout)
        print(f"[infra] kafka answers metadata at {args.bootstrap} ({time.monotonic() - started:.1f}s)")
    else:
        created = create_topics(args.bootstrap, args.prefix)
        print(f"[infra] topics: {len(CATALOGUE)} in catalogue, {len(created)} created")
    return 0


if __name__ == "__main__":
    sys.exit(main())

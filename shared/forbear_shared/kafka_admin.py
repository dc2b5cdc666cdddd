"""Broker housekeeping: wait until the broker answers a metadata call, create the catalogue.

Topics are created with their catalogue configuration (retention, segment roll, broker-time
timestamps: ``Topic.configs``); topics that exist already are brought back to it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
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
        created: list[str] = []
        kept = []
        for topic in CATALOGUE:
            name = f"{prefix}{topic.name}"
            if name in existing:
                kept.append(topic)
                continue
            try:
                client.create_topics([NewTopic(name=name, num_partitions=topic.partitions, replication_factor=1,
                                               topic_configs=topic.configs())])
                created.append(name)
            except TopicAlreadyExistsError:
                kept.append(topic)
        if kept:
            results = client.alter_configs(
                [ConfigResource(ConfigResourceType.TOPIC, f"{prefix}{t.name}", configs=t.configs()) for t in kept],
                raise_on_unknown=False, incremental=True,
            )
            failed = {n: r for n, r in results.get("topic", {}).items() if r != "OK"}
            if failed:
                raise RuntimeError(f"topic configuration not applied: {failed}")
        return created
    finally:
        client.close()


def topic_configs(bootstrap: str, names: list[str]) -> dict[str, dict[str, str]]:
    """The configuration of each named topic as the broker reports it (every key, with defaults)."""
    client = admin(bootstrap)
    try:
        described = client.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in names],
                                            config_filter="all")
    finally:
        client.close()
    return {name: {key: str(entry["value"]) for key, entry in configs.items()}
            for name, configs in described.get("topic", {}).items()}


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

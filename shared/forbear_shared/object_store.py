"""The S3-compatible object store that evidence documents live in: a client, readiness, buckets.

Any server speaking the S3 API will do: AWS S3, Ceph RGW, versitygw (the tests' and compose's).
Where it is and who we are come from the ``FORBEAR_EVIDENCE_S3_*`` settings; the secret key stays
a ``SecretStr`` until boto3 signs with it, so no repr, log line or error message carries it.

    python -m forbear_shared.object_store wait [--timeout 60]   a signed ListBuckets answers
    python -m forbear_shared.object_store create-bucket [NAME]  idempotent; default the settings' bucket
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr

from forbear_shared.settings import Settings


@dataclass(frozen=True)
class S3Target:
    endpoint_url: str | None
    region: str
    bucket: str | None
    prefix: str
    addressing_style: str
    access_key_id: str | None
    secret_access_key: SecretStr | None

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Target:
        return cls(
            endpoint_url=settings.evidence_s3_endpoint_url,
            region=settings.evidence_s3_region,
            bucket=settings.evidence_s3_bucket,
            prefix=settings.evidence_s3_prefix,
            addressing_style=settings.evidence_s3_addressing_style,
            access_key_id=settings.evidence_s3_access_key_id,
            secret_access_key=settings.evidence_s3_secret_access_key,
        )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> S3Target:
        """The same variables as ``Settings``, for housekeeping that has no database or broker."""

        def value(field: str) -> Any:
            return environ.get(f"FORBEAR_{field.upper()}", Settings.model_fields[field].default)

        secret = value("evidence_s3_secret_access_key")
        return cls(
            endpoint_url=value("evidence_s3_endpoint_url"),
            region=value("evidence_s3_region"),
            bucket=value("evidence_s3_bucket"),
            prefix=value("evidence_s3_prefix"),
            addressing_style=value("evidence_s3_addressing_style"),
            access_key_id=value("evidence_s3_access_key_id"),
            secret_access_key=SecretStr(secret) if isinstance(secret, str) else secret,
        )

    def client(self) -> Any:
        """A boto3 S3 client (thread-safe to use; a session of its own, since creating one is not).

        Bounded timeouts and the standard retry mode (3 attempts) so that a store that does not
        answer becomes a refusal within seconds, not a request hanging on a socket. Checksums are
        computed when an operation requires them or when we ask (the uploads send their SHA-256):
        not every S3-compatible server takes the CRC32 trailers newer boto3 adds by default.
        """
        config = Config(
            region_name=self.region,
            s3={"addressing_style": self.addressing_style},
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=5,
            read_timeout=30,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        session = boto3.session.Session()
        return session.client(
            "s3",
            endpoint_url=self.endpoint_url or None,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key.get_secret_value() if self.secret_access_key else None,
            config=config,
        )


def wait_for_store(target: S3Target, timeout: float = 60.0) -> None:
    """Until a signed request (ListBuckets) is answered: the server is up and knows these keys."""
    client = target.client()
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            client.list_buckets()
            return
        except (BotoCoreError, ClientError) as exc:
            last = exc
            time.sleep(0.5)
    raise TimeoutError(f"the object store at {target.endpoint_url or 'AWS S3'} did not answer in {timeout:.0f}s: "
                       f"{type(last).__name__ if last else 'no answer'}")


def create_bucket(target: S3Target, bucket: str) -> bool:
    """Create ``bucket`` unless it exists; True when it was created."""
    client = target.client()
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if target.region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": target.region}
    try:
        client.create_bucket(**kwargs)
        return True
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
            return False
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forbear_shared.object_store")
    sub = parser.add_subparsers(dest="command", required=True)
    wait = sub.add_parser("wait")
    wait.add_argument("--timeout", type=float, default=60.0)
    create = sub.add_parser("create-bucket")
    create.add_argument("bucket", nargs="?")
    args = parser.parse_args(argv)
    target = S3Target.from_environment()
    if args.command == "wait":
        wait_for_store(target, args.timeout)
        print(f"[object-store] {target.endpoint_url or 'AWS S3'} answers")
    else:
        bucket = args.bucket or target.bucket
        if not bucket:
            parser.error("no bucket: name one or set FORBEAR_EVIDENCE_S3_BUCKET")
        wait_for_store(target)
        created = create_bucket(target, bucket)
        print(f"[object-store] bucket {bucket} {'created' if created else 'already there'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

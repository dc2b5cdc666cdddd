"""Evidence documents, content-addressed by their SHA-256: on a disk, or in an S3-compatible store.

A document's key is its digest (``<sha256[:2]>/<sha256>``), so the same bytes uploaded twice are
one object, and whatever a store hands back can be checked against the name it was asked for:
bytes that do not hash to their key are refused (``EvidenceCorrupt``), never served as a wrong
document. ``FORBEAR_EVIDENCE_STORE`` chooses the store:

- ``fs``: files under ``FORBEAR_EVIDENCE_DIR``, for one machine (``make run``). A file is written
  to a temporary name in its final directory, flushed and fsynced, renamed into place and the
  directory fsynced, so after a crash a document exists whole or not at all.
- ``s3``: objects in ``FORBEAR_EVIDENCE_S3_BUCKET``, shared by every replica. An upload is one
  PUT streamed from the request's spooled file, carrying its SHA-256, which the server checks
  before it stores anything (``BadDigest`` otherwise).

Storage faults are the store's, not the caller's: a document the database lists but the store
lacks or returns altered is a 502 (``evidence_missing``, ``evidence_corrupt``); a store that does
not answer or refuses our credentials is a 503 (``evidence_store_unavailable``).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from forbear_shared.errors import ForbearError
from forbear_shared.object_store import S3Target
from forbear_shared.settings import Settings

log = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
#: bytes kept from the start of an upload to recognise its type (domain.evidence_files)
HEAD_BYTES = 16


class EvidenceMissing(ForbearError):
    status_code = 502

    def __init__(self, sha256: str) -> None:
        super().__init__("evidence_missing", f"the evidence store has no document {sha256[:12]}…")


class EvidenceCorrupt(ForbearError):
    status_code = 502

    def __init__(self, sha256: str) -> None:
        super().__init__("evidence_corrupt",
                         f"the evidence store returned bytes that do not hash to document {sha256[:12]}…; refused")


class EvidenceStoreUnavailable(ForbearError):
    status_code = 503

    def __init__(self, detail: str) -> None:
        super().__init__("evidence_store_unavailable", f"the evidence store cannot be reached now: {detail}")


def check_key(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256 hex digest")
    return f"{sha256[:2]}/{sha256}"


@dataclass(frozen=True)
class StagedUpload:
    """An upload read once, in chunks, from its spooled file: its size (up to the limit plus one
    byte, which is enough to refuse it), its first bytes and, when within the limit, its digest."""

    file: IO[bytes]
    size: int
    head: bytes
    sha256: str

    @classmethod
    def read(cls, file: IO[bytes], max_bytes: int) -> StagedUpload:
        digest = hashlib.sha256()
        size = 0
        head = b""
        file.seek(0)
        while size <= max_bytes:
            chunk = file.read(min(CHUNK_BYTES, max_bytes + 1 - size))
            if not chunk:
                break
            if len(head) < HEAD_BYTES:
                head += chunk[:HEAD_BYTES - len(head)]
            digest.update(chunk)
            size += len(chunk)
        file.seek(0)
        return cls(file=file, size=size, head=head, sha256=digest.hexdigest())


class EvidenceStore(Protocol):
    def put(self, sha256: str, source: IO[bytes], size: int) -> None:
        """Store ``size`` bytes read from ``source`` under their digest ``sha256`` (idempotent)."""

    def get(self, sha256: str) -> bytes:
        """The document's bytes, checked against ``sha256``."""

    def delete(self, sha256: str) -> None:
        """Remove the document; nothing to remove is not an error. Content-addressed: the same
        bytes uploaded to two cases are one object, so erase a digest only when no document row
        refers to it any more."""


class FilesystemEvidenceStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        return self.root / check_key(sha256)

    def put(self, sha256: str, source: IO[bytes], size: int) -> None:
        target = self.path_for(sha256)
        if target.exists() and _file_digest(target) == sha256:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=target.parent)
        try:
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out:
                copied = 0
                while chunk := source.read(CHUNK_BYTES):
                    digest.update(chunk)
                    out.write(chunk)
                    copied += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            if copied != size or digest.hexdigest() != sha256:
                raise ValueError("the bytes given do not match the digest and size they were stored under")
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)

    def get(self, sha256: str) -> bytes:
        try:
            data = self.path_for(sha256).read_bytes()
        except FileNotFoundError:
            log.error("evidence document %s… missing from %s", sha256[:12], self.root)
            raise EvidenceMissing(sha256) from None
        return _checked(sha256, data)

    def delete(self, sha256: str) -> None:
        path = self.path_for(sha256)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        _fsync_dir(path.parent)


class S3EvidenceStore:
    def __init__(self, target: S3Target) -> None:
        if not target.bucket:
            raise ValueError("an S3 evidence store needs a bucket")
        self.target = target
        self.bucket = target.bucket
        self._client = target.client()

    def key_for(self, sha256: str) -> str:
        return f"{self.target.prefix}{check_key(sha256)}"

    def put(self, sha256: str, source: IO[bytes], size: int) -> None:
        # content-addressed: writing the same bytes again is harmless, and replaces an object
        # that was altered in the store
        checksum = base64.b64encode(bytes.fromhex(sha256)).decode()
        try:
            self._client.put_object(Bucket=self.bucket, Key=self.key_for(sha256), Body=source, ContentLength=size,
                                    ChecksumSHA256=checksum, ContentType="application/octet-stream")
        except ClientError as exc:
            raise self._fault("put", sha256, exc) from None
        except BotoCoreError as exc:
            raise self._unreachable("put", exc) from None

    def get(self, sha256: str) -> bytes:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self.key_for(sha256))
            data = response["Body"].read()
        except ClientError as exc:
            if _code(exc) in {"NoSuchKey", "404"}:
                log.error("evidence document %s… missing from bucket %s", sha256[:12], self.bucket)
                raise EvidenceMissing(sha256) from None
            raise self._fault("get", sha256, exc) from None
        except BotoCoreError as exc:
            raise self._unreachable("get", exc) from None
        return _checked(sha256, data)

    def delete(self, sha256: str) -> None:
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self.key_for(sha256))
        except ClientError as exc:
            if _code(exc) in {"NoSuchKey", "404"}:
                return
            raise self._fault("delete", sha256, exc) from None
        except BotoCoreError as exc:
            raise self._unreachable("delete", exc) from None

    def _fault(self, operation: str, sha256: str, exc: ClientError) -> Exception:
        code = _code(exc)
        if code in {"BadDigest", "XAmzContentSHA256Mismatch", "InvalidDigest"}:
            # the server received other bytes than the ones we hashed: never stored
            return ValueError(f"the store refused the upload of {sha256[:12]}…: {code}")
        log.error("evidence store %s of %s… refused: %s", operation, sha256[:12], code)
        return EvidenceStoreUnavailable(f"{operation} refused ({code})")

    def _unreachable(self, operation: str, exc: BotoCoreError) -> Exception:
        log.error("evidence store %s failed: %s", operation, type(exc).__name__)
        return EvidenceStoreUnavailable(f"{operation} failed ({type(exc).__name__})")


def evidence_store(settings: Settings) -> EvidenceStore:
    if settings.evidence_store == "s3":
        return S3EvidenceStore(S3Target.from_settings(settings))
    return FilesystemEvidenceStore(settings.evidence_dir)


def _checked(sha256: str, data: bytes) -> bytes:
    if hashlib.sha256(data).hexdigest() != sha256:
        log.error("evidence document %s… does not hash to its key: refused", sha256[:12])
        raise EvidenceCorrupt(sha256)
    return data


def _file_digest(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _fsync_dir(path: Path) -> None:
    dir_fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _code(exc: ClientError) -> str:
    error: Any = exc.response.get("Error", {})
    return str(error.get("Code", "unknown"))


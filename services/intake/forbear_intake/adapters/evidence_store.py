"""Evidence files on disk, content-addressed: ``<root>/<sha256[:2]>/<sha256>``.

A file is written to a temporary name in its final directory, flushed and fsynced, then
renamed into place and the directory fsynced, so after a crash a document either exists
whole or not at all. The same bytes uploaded twice are one file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class EvidenceStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256

    def put(self, sha256: str, data: bytes) -> Path:
        target = self.path_for(sha256)
        if target.exists() and target.stat().st_size == len(data):
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return target

    def get(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

    def delete(self, sha256: str) -> bool:
        """Remove a document's file; False when it was not there (erased already)."""
        try:
            self.path_for(sha256).unlink()
        except FileNotFoundError:
            return False
        return True

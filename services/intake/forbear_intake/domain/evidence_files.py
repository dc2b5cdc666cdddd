"""What an uploaded evidence file really is, from its first bytes.

A declared content type is the uploader's claim; the lender keeps a document as evidence only
when its bytes are a PDF, a JPEG or a PNG, because those are what a court and a reviewer can
open. The declared type may be generic (``application/octet-stream``) but must not contradict
the bytes: a ``.exe`` renamed ``scan.pdf`` is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MediaType(StrEnum):
    PDF = "application/pdf"
    JPEG = "image/jpeg"
    PNG = "image/png"


_MAGIC: tuple[tuple[bytes, MediaType], ...] = (
    (b"%PDF-", MediaType.PDF),
    (b"\xff\xd8\xff", MediaType.JPEG),
    (b"\x89PNG\r\n\x1a\n", MediaType.PNG),
)
#: declared types that say nothing about the content and so cannot contradict it
GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_ALIASES = {"image/jpg": MediaType.JPEG, "image/pjpeg": MediaType.JPEG, "application/x-pdf": MediaType.PDF}


class FileRefusal(StrEnum):
    EMPTY_FILE = "empty_file"
    FILE_TOO_LARGE = "file_too_large"
    UNSUPPORTED_FILE_TYPE = "unsupported_file_type"
    CONTENT_TYPE_MISMATCH = "content_type_mismatch"


@dataclass(frozen=True, slots=True)
class FileCheck:
    media_type: MediaType | None
    refusal: FileRefusal | None = None

    @property
    def accepted(self) -> bool:
        return self.refusal is None


def sniff_media_type(head: bytes) -> MediaType | None:
    """The accepted media type whose signature starts ``head``, else None."""
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    return None


def check_evidence_file(head: bytes, size: int, declared: str | None, max_bytes: int) -> FileCheck:
    """Accept a file by its size and its magic bytes; the declared type may only agree."""
    if size == 0:
        return FileCheck(None, FileRefusal.EMPTY_FILE)
    if size > max_bytes:
        return FileCheck(None, FileRefusal.FILE_TOO_LARGE)
    sniffed = sniff_media_type(head)
    if sniffed is None:
        return FileCheck(None, FileRefusal.UNSUPPORTED_FILE_TYPE)
    claim = (declared or "").split(";")[0].strip().lower()
    if claim not in GENERIC_TYPES:
        claimed = _ALIASES.get(claim) or (MediaType(claim) if claim in {m.value for m in MediaType} else None)
        if claimed is not sniffed:
            return FileCheck(sniffed, FileRefusal.CONTENT_TYPE_MISMATCH)
    return FileCheck(sniffed)

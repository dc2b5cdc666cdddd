"""An upload is read once, in chunks: its size against the limit, its first bytes, its digest."""

from __future__ import annotations

import hashlib
import io
import tempfile

from forbear_intake.adapters.evidence_store import CHUNK_BYTES, StagedUpload

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40


def test_a_file_within_the_limit_is_staged_with_its_size_head_and_digest() -> None:
    staged = StagedUpload.read(io.BytesIO(PDF), max_bytes=len(PDF))
    assert staged.size == len(PDF)
    assert staged.head == PDF[:16]
    assert staged.sha256 == hashlib.sha256(PDF).hexdigest()
    assert staged.file.read() == PDF  # rewound for the store


def test_a_file_over_the_limit_is_read_only_one_byte_past_it() -> None:
    source = io.BytesIO(PDF)
    staged = StagedUpload.read(source, max_bytes=100)
    assert staged.size == 101
    assert staged.head == PDF[:16]


def test_a_file_of_several_chunks_hashes_as_a_whole() -> None:
    data = b"%PDF-1.7\n" + b"\x00\x01\x02\x03" * (CHUNK_BYTES // 2) + b"tail"  # a little over two chunks
    with tempfile.TemporaryFile() as spooled:
        spooled.write(data)
        staged = StagedUpload.read(spooled, max_bytes=10 * 1024 * 1024)
        assert staged.size == len(data) and staged.size > 2 * CHUNK_BYTES
        assert staged.sha256 == hashlib.sha256(data).hexdigest()
        assert staged.file.tell() == 0


def test_an_empty_file_is_staged_as_empty() -> None:
    staged = StagedUpload.read(io.BytesIO(b""), max_bytes=10)
    assert staged.size == 0 and staged.head == b""
    assert staged.sha256 == hashlib.sha256(b"").hexdigest()

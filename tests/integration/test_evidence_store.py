"""Both evidence stores keep one contract: on a real disk, and in the real S3 server (versitygw)
that deploy/local/infra.sh runs, each test run in a bucket of its own."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from forbear_intake.adapters.evidence_store import (
    EvidenceCorrupt,
    EvidenceMissing,
    EvidenceStore,
    EvidenceStoreUnavailable,
    FilesystemEvidenceStore,
    S3EvidenceStore,
)
from pydantic import SecretStr

if TYPE_CHECKING:
    from tests.support.infra import TestInfra

pytestmark = pytest.mark.integration

def new_pdf() -> bytes:
    """Bytes of their own for each test: the stores are shared by the tests of this module."""
    return b"%PDF-1.4\n" + os.urandom(4096) + b"\n%%EOF\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def key(digest: str) -> str:
    return f"{digest[:2]}/{digest}"


def put(store: EvidenceStore, data: bytes) -> str:
    digest = sha(data)
    store.put(digest, io.BytesIO(data), len(data))
    return digest


@dataclasses.dataclass
class Backend:
    """A store, and its bytes reached behind its back, as an operator (or bit rot) would."""

    store: EvidenceStore
    stored_file: Callable[[str], Path]  # sha256 -> the object's file on the server's disk
    keys: Callable[[], set[str]]


def versitygw_data_dir() -> Path:
    """Where deploy/local/infra.sh's versitygw keeps its objects (posix backend: a file per object)."""
    return Path(os.environ.get("FORBEAR_VAR_DIR", "/var/tmp/forbear")) / "s3" / "data"


@pytest.fixture(scope="module", params=["fs", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    if request.param == "fs":
        fs = FilesystemEvidenceStore(tmp_path_factory.mktemp("evidence"))
        return Backend(fs, fs.path_for,
                       lambda: {str(p.relative_to(fs.root)) for p in fs.root.rglob("*") if p.is_file()})
    infra: TestInfra = request.getfixturevalue("infra")
    prefix = f"contract-{os.urandom(4).hex()}/"
    s3 = S3EvidenceStore(dataclasses.replace(infra.evidence, prefix=prefix))
    client = infra.evidence.client()

    def keys() -> set[str]:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=s3.bucket, Prefix=prefix)
        return {item["Key"].removeprefix(prefix) for page in pages for item in page.get("Contents", [])}

    return Backend(s3, lambda digest: versitygw_data_dir() / s3.bucket / s3.key_for(digest), keys)


def test_a_document_comes_back_as_stored_under_its_digest(backend: Backend) -> None:
    pdf, before = new_pdf(), backend.keys()
    digest = put(backend.store, pdf)
    assert backend.store.get(digest) == pdf
    assert backend.keys() - before == {key(digest)}


def test_the_same_bytes_stored_twice_are_one_object(backend: Backend) -> None:
    pdf, before = new_pdf(), backend.keys()
    first, second = put(backend.store, pdf), put(backend.store, pdf)
    assert first == second and backend.keys() - before == {key(first)}


def test_bytes_altered_in_the_store_are_refused_not_served(backend: Backend) -> None:
    pdf = new_pdf()
    digest = put(backend.store, pdf)
    on_disk = backend.stored_file(digest)
    assert on_disk.read_bytes() == pdf  # the server's own copy, reached behind the store's back
    altered = bytearray(pdf)
    altered[100] ^= 0x01  # one bit flipped, same size
    on_disk.write_bytes(bytes(altered))
    with pytest.raises(EvidenceCorrupt) as refused:
        backend.store.get(digest)
    assert refused.value.status_code == 502 and refused.value.reason == "evidence_corrupt"
    # uploading the document again repairs it
    put(backend.store, pdf)
    assert backend.store.get(digest) == pdf


def test_a_document_the_store_lacks_is_a_storage_fault(backend: Backend) -> None:
    with pytest.raises(EvidenceMissing) as missing:
        backend.store.get(sha(new_pdf()))
    assert missing.value.status_code == 502 and missing.value.reason == "evidence_missing"


def test_delete_removes_the_document_and_is_idempotent(backend: Backend) -> None:
    before = backend.keys()
    kept_pdf = new_pdf()
    kept, erased = put(backend.store, kept_pdf), put(backend.store, new_pdf())
    backend.store.delete(erased)
    backend.store.delete(erased)
    assert backend.keys() - before == {key(kept)}
    with pytest.raises(EvidenceMissing):
        backend.store.get(erased)
    assert backend.store.get(kept) == kept_pdf


def test_bytes_that_do_not_match_their_digest_are_never_stored(backend: Backend) -> None:
    pdf, before = new_pdf(), backend.keys()
    with pytest.raises(ValueError):
        backend.store.put(sha(pdf), io.BytesIO(pdf + b"x"), len(pdf) + 1)
    assert backend.keys() == before


def test_a_key_that_is_not_a_sha256_digest_is_refused(backend: Backend) -> None:
    for bad in ("../../etc/passwd", "ab", sha(b"x").upper(), "../" + sha(b"x")[3:]):
        with pytest.raises(ValueError):
            backend.store.get(bad)


def test_a_large_document_is_streamed_from_a_file(backend: Backend, tmp_path: Path) -> None:
    data = b"%PDF-1.4\n" + os.urandom(9 * 1024 * 1024)
    source = tmp_path / "scan.pdf"
    source.write_bytes(data)
    with source.open("rb") as file:
        backend.store.put(sha(data), file, len(data))
    assert backend.store.get(sha(data)) == data


# -- a store that cannot serve -----------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_store_is_unavailable_not_an_internal_error(infra: TestInfra) -> None:
    store = S3EvidenceStore(dataclasses.replace(infra.evidence, endpoint_url=f"http://127.0.0.1:{closed_port()}"))
    with pytest.raises(EvidenceStoreUnavailable) as refused:
        put(store, new_pdf())
    assert refused.value.status_code == 503 and refused.value.reason == "evidence_store_unavailable"
    with pytest.raises(EvidenceStoreUnavailable):
        store.get(sha(new_pdf()))


def test_wrong_credentials_are_unavailable_and_the_secret_is_never_in_the_error(infra: TestInfra) -> None:
    wrong = "not-the-secret-" + os.urandom(8).hex()
    store = S3EvidenceStore(dataclasses.replace(infra.evidence, secret_access_key=SecretStr(wrong)))
    with pytest.raises(EvidenceStoreUnavailable) as refused:
        put(store, new_pdf())
    assert wrong not in str(refused.value) and wrong not in repr(store.target)

"""Evidence lives in the object store, not on an API process's disk: every replica serves every
document, and a document altered or lost in the store is refused as a storage fault (502)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from forbear_shared.devstack import API_PORTS, Stack

from tests.integration.test_evidence_store import versitygw_data_dir
from tests.integration.test_intake_api import open_case, upload
from tests.support.http import PORT_OFFSET, client, token

if TYPE_CHECKING:
    from tests.support.infra import TestInfra

pytestmark = pytest.mark.integration

#: the second intake API listens this far above the first
SECOND_REPLICA_OFFSET = 500


def unique_pdf() -> bytes:
    return b"%PDF-1.4\n" + os.urandom(2048).hex().encode() + b"\n%%EOF\n"


@pytest.fixture(scope="module")
def second_intake(stack: Stack, infra: TestInfra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """Another intake API process on the same database, topics and store, with a disk of its own."""
    env = {**infra.service_env(), "FORBEAR_EVIDENCE_DIR": str(tmp_path_factory.mktemp("second-intake-disk"))}
    replica = Stack(Path(tmp_path_factory.mktemp("second-intake")), env, port_offset=PORT_OFFSET + SECOND_REPLICA_OFFSET)
    try:
        replica.up(["intake-api"])
        port = API_PORTS["intake"] + PORT_OFFSET + SECOND_REPLICA_OFFSET
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                          headers={"Authorization": f"Bearer {token('agent')}"}) as api:
            yield api
    finally:
        replica.down()


def test_a_document_uploaded_through_one_replica_is_served_by_the_other(stack, second_intake) -> None:
    first_pdf, second_pdf = unique_pdf(), unique_pdf()
    case = open_case()
    cid = case["case_id"]
    with client("intake") as first:
        through_first = upload(first, cid, "termination_letter", first_pdf)
        through_second = upload(second_intake, cid, "unemployment_registration", second_pdf)
        assert through_first.status_code == 201, through_first.text
        assert through_second.status_code == 201, through_second.text
        a, b = through_first.json()["document_id"], through_second.json()["document_id"]
        served_by_second = second_intake.get(f"/cases/{cid}/evidence/{a}/content")
        served_by_first = first.get(f"/cases/{cid}/evidence/{b}/content")
    assert served_by_second.status_code == 200 and served_by_second.content == first_pdf
    assert served_by_second.headers["x-content-sha256"] == hashlib.sha256(first_pdf).hexdigest()
    assert served_by_first.status_code == 200 and served_by_first.content == second_pdf


def test_a_document_altered_in_the_store_is_refused_with_a_502_problem(stack, infra: TestInfra) -> None:
    pdf = unique_pdf()
    case = open_case()
    cid = case["case_id"]
    with client("intake") as api:
        doc = upload(api, cid, "termination_letter", pdf).json()
        digest = doc["sha256"]
        on_disk = versitygw_data_dir() / str(infra.evidence.bucket) / digest[:2] / digest
        assert on_disk.read_bytes() == pdf
        on_disk.write_bytes(pdf.replace(b"%%EOF", b"%%EOG"))  # same size, other bytes
        altered = api.get(f"/cases/{cid}/evidence/{doc['document_id']}/content")
        infra.evidence.client().delete_object(Bucket=infra.evidence.bucket, Key=f"{digest[:2]}/{digest}")
        lost = api.get(f"/cases/{cid}/evidence/{doc['document_id']}/content")
    assert altered.status_code == 502
    assert altered.headers["content-type"].startswith("application/problem+json")
    assert altered.json()["reason"] == "evidence_corrupt"
    assert b"%%EOG" not in altered.content and pdf[:40] not in altered.content
    assert lost.status_code == 502 and lost.json()["reason"] == "evidence_missing"


def test_the_store_secret_never_reaches_the_logs(stack, second_intake, infra: TestInfra) -> None:
    upload(second_intake, open_case()["case_id"], "termination_letter", unique_pdf())
    secret = infra.service_env()["FORBEAR_EVIDENCE_S3_SECRET_ACCESS_KEY"]
    assert secret
    logs = sorted(stack.run_dir.glob("*.log"))
    assert any(log.name == "intake-api.log" for log in logs)
    for log in logs:
        assert secret not in log.read_text(errors="replace"), log.name

"""The case file (``forbear_console.casefile``) built from the real services: a borrower's whole
record as one archive whose manifest hashes every file, as the borrower and as staff see it."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
import zipfile

import httpx
import pytest
from forbear_console import casefile
from forbear_shared.errors import NotFound

from tests.e2e.journey import (
    decisions,
    manual_payment,
    open_offers,
    ready_to_submit,
    submit,
    to_active_agreement,
    uid,
    wait_payment,
)
from tests.support.http import client

SERVICES = ("intake", "evaluation", "agreement", "monitoring")


def build(case_id: str, role: str, subject: str, borrower_id: str | None = None) -> dict[str, bytes]:
    """The archive of ``case_id`` as that caller gets it, opened: path -> bytes."""
    clients = {s: client(s, role=role, subject=subject, borrower_id=borrower_id) for s in SERVICES}

    async def fetch(service: str, path: str) -> httpx.Response:
        return clients[service].get(path)

    try:
        data = asyncio.run(casefile.build(fetch, case_id, produced_by={"role": role, "subject": subject},
                                          produced_at=dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC)))
    finally:
        for http in clients.values():
            http.close()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert all(n.startswith(f"{case_id}/") for n in names), names
        return {n.removeprefix(f"{case_id}/"): archive.read(n) for n in names}


def test_a_borrower_downloads_their_whole_case_file_with_a_manifest_that_hashes_every_file(stack) -> None:
    journey = to_active_agreement()
    with client("intake", role="agent", subject="agent-e2e") as api:
        call = api.post(f"/cases/{journey.case_id}/contacts",
                        json={"party": "borrower", "channel": "phone", "local_time": "10:30"})
    assert call.status_code == 201, call.text
    first = journey.instalments[0]
    paid = manual_payment(journey.agreement_id, first["total"])
    wait_payment(journey.agreement_id, paid["reference"])

    files = build(journey.case_id, "borrower", f"portal-{journey.borrower_id}", journey.borrower_id)
    manifest = json.loads(files.pop("manifest.json"))
    sums = files.pop("SHA256SUMS").decode()
    assert manifest["format"] == "forbear-case-file/1" and manifest["case_id"] == journey.case_id
    # every other file of the archive is in the manifest with its size and hash, and nothing more
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(files)
    for path, data in files.items():
        assert listed[path]["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert listed[path]["bytes"] == len(data)
    assert sums.splitlines() == [f"{hashlib.sha256(files[p]).hexdigest()}  {p}" for p in listed]

    # the documents as uploaded, each with the hash intake recorded at upload
    for doc in journey.documents:
        [name] = [p for p in files if p.startswith(f"evidence/{doc['document_id']}")]
        assert hashlib.sha256(files[name]).hexdigest() == doc["sha256"]
    # the signed agreement is the very PDF the agreement service serves
    base = f"agreements/{journey.agreement_id}"
    with client("agreement", role="borrower", subject="b", borrower_id=journey.borrower_id) as api:
        pdf = api.get(f"/agreements/{journey.agreement_id}/document.pdf")
    assert pdf.status_code == 200
    assert files[f"{base}/agreement.pdf"] == pdf.content
    assert hashlib.sha256(pdf.content).hexdigest() == pdf.headers["x-content-sha256"]
    # decisions with their reasons, the payment, the contact (without the agent's name)
    [decision] = json.loads(files["decisions.json"])["decisions"]
    assert decision["decision_id"] == journey.decision["decision_id"] and decision["outcome"] == "approve"
    monitoring = json.loads(files[f"{base}/monitoring.json"])
    assert [p["reference"] for p in monitoring["payments"]] == [paid["reference"]]
    [contact] = json.loads(files["contacts.json"])
    assert contact["contact_id"] == call.json()["contact_id"] and contact["recorded_by"] is None
    assert json.loads(files["case.json"])["case_id"] == journey.case_id

    # staff produce the same file for a court, with the lender's own fields
    staff = build(journey.case_id, "supervisor", "supervisor-e2e")
    [contact] = json.loads(staff["contacts.json"])
    assert contact["recorded_by"] == "agent-e2e"
    assert staff[f"{base}/agreement.pdf"] == pdf.content


def test_another_borrowers_case_file_does_not_exist_for_a_borrower(stack) -> None:
    journey = to_active_agreement()
    with pytest.raises(NotFound) as refused:
        build(journey.case_id, "borrower", "portal-someone-else", uid("BRW"))
    assert refused.value.reason == "case_not_found"


def test_a_case_whose_agreement_awaits_signatures_has_its_file_without_a_signed_pdf(stack) -> None:
    application = ready_to_submit()
    submit(application.borrower_id, application.case_id)
    [decision] = decisions(application.case_id)
    assert decision["outcome"] == "approve"
    offer = open_offers(application.case_id)[0]
    with client("agreement", role="borrower", subject="b", borrower_id=application.borrower_id) as api:
        accepted = api.post(f"/offers/{offer['offer_id']}/accept", json={"payment_method": "account_debit"})
        assert accepted.status_code == 201, accepted.text
        agreement_id = accepted.json()["agreement_id"]
        # the service has no signed PDF yet: 409, which the file takes as "not yet", not a failure
        assert api.get(f"/agreements/{agreement_id}/document.pdf").status_code == 409

    files = build(application.case_id, "borrower", "b", application.borrower_id)
    base = f"agreements/{agreement_id}"
    assert json.loads(files[f"{base}/agreement.json"])["status"] == "awaiting_signatures"
    assert f"{base}/agreement.pdf" not in files and f"{base}/monitoring.json" not in files
    manifest = json.loads(files["manifest.json"])
    assert {f["path"] for f in manifest["files"]} == set(files) - {"manifest.json", "SHA256SUMS"}

"""The case file: every record Forbear keeps on one case, as one ZIP archive with a manifest of
hashes.

A borrower keeps every record (and has the right to a copy of their personal information, PIPL
Art. 45); the lender's staff produce the same file for a court. The file is built when asked,
from the services' own APIs with the caller's own token, so it holds exactly what the caller
may read one page at a time: a borrower gets their own case only, without the staff-only fields
the services keep back (who reviewed a document, who keyed a payment in).

Layout of the archive::

    manifest.json                 the case, when and by whom the file was made, and per file its
                                  path, size, SHA-256 and the API it came from
    SHA256SUMS                    the same hashes as ``sha256sum -c SHA256SUMS`` checks them
    case.json                     intake: the story, loans, income and expenditure statement
    contacts.json                 intake: every contact with the borrower or their representative
    representatives.json          intake: who was authorised to act for the borrower, and when
    evidence/index.json           intake: each document, its review outcome and reason
    evidence/<document id>.<ext>  each document as uploaded (its stored SHA-256 checked)
    decisions.json                evaluation: every decision with its reasons
    offers.json                   agreement: every offer made, with its schedule
    agreements/<id>/agreement.json, agreement.pdf   the agreement and the signed PDF
    agreements/<id>/monitoring.json                 schedule, payments, notices, escalation
    agreements/<id>/promises.json                   promises to pay, kept or broken

A document whose file was erased under the retention policy is listed in the manifest as
erased, with the hash it had. Nothing is left out silently: a service that cannot answer fails
the whole file (502), never a partial archive that looks complete.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from forbear_shared.errors import ForbearError, NotFound

#: (service, path) -> the service's answer, with the caller's token
Fetch = Callable[[str, str], Awaitable[httpx.Response]]

_EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
#: the format of this archive's layout; a reader checks it before reading the files
FORMAT = "forbear-case-file/1"


class UpstreamFailed(ForbearError):
    """A service did not give what the file needs: no archive rather than an incomplete one."""

    status_code = 502

    def __init__(self, service: str, path: str, status: int) -> None:
        super().__init__("case_file_incomplete", f"{service} answered {status} for {path}; the case file was not made")


@dataclass
class CaseFile:
    case_id: str
    #: path -> bytes, in the order they were added
    files: dict[str, bytes] = field(default_factory=dict)
    #: path -> where it came from (service and API path)
    sources: dict[str, str] = field(default_factory=dict)
    erased: list[dict[str, Any]] = field(default_factory=list)

    def add(self, path: str, data: bytes, source: str) -> None:
        self.files[path] = data
        self.sources[path] = source

    def add_json(self, path: str, value: Any, source: str) -> None:
        self.add(path, json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n", source)

    def manifest(self, *, produced_by: dict[str, str], produced_at: dt.datetime,
                 business_date: str | None) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "case_id": self.case_id,
            "business_date": business_date,
            "produced_at": produced_at.isoformat(),
            "produced_by": produced_by,
            "files": [{"path": path, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                       "source": self.sources[path]} for path, data in self.files.items()],
            "erased": self.erased,
        }

    def archive(self, *, produced_by: dict[str, str], produced_at: dt.datetime, business_date: str | None) -> bytes:
        """The ZIP: the files, then ``manifest.json`` and ``SHA256SUMS`` over them."""
        manifest = self.manifest(produced_by=produced_by, produced_at=produced_at, business_date=business_date)
        sums = "".join(f"{f['sha256']}  {f['path']}\n" for f in manifest["files"]).encode()
        stamp = produced_at.astimezone(dt.UTC).timetuple()[:6]
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for path, data in [*self.files.items(),
                               ("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2).encode() + b"\n"),
                               ("SHA256SUMS", sums)]:
                info = zipfile.ZipInfo(f"{self.case_id}/{path}", date_time=stamp)  # type: ignore[arg-type]
                # documents and PDFs are compressed already
                info.compress_type = zipfile.ZIP_STORED if path.endswith((".pdf", ".jpg", ".png")) \
                    else zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        return out.getvalue()


async def collect(fetch: Fetch, case_id: str) -> tuple[CaseFile, str | None]:
    """Every record of the case the caller may read, and the business date the services are on."""
    file = CaseFile(case_id)

    async def get(service: str, path: str, *, missing_ok: bool = False,
                  not_yet: int | None = None) -> httpx.Response | None:
        """The answer; None for a record that does not exist (``missing_ok``: 404) or not yet
        (``not_yet``: the status the service gives for it, e.g. 409 for a PDF not signed yet)."""
        response = await fetch(service, path)
        if (response.status_code == 404 and missing_ok) or response.status_code == not_yet:
            return None
        if response.status_code == 404 and path == f"/cases/{case_id}":
            raise NotFound("case", case_id)
        if response.status_code != 200:
            raise UpstreamFailed(service, path, response.status_code)
        return response

    async def record(service: str, path: str, name: str, *, missing_ok: bool = False) -> Any:
        response = await get(service, path, missing_ok=missing_ok)
        if response is None:
            return None
        value = response.json()
        file.add_json(name, value, f"{service} GET {path}")
        return value

    await record("intake", f"/cases/{case_id}", "case.json")
    await record("intake", f"/cases/{case_id}/contacts", "contacts.json")
    await record("intake", f"/cases/{case_id}/representatives", "representatives.json")
    documents = await record("intake", f"/cases/{case_id}/evidence", "evidence/index.json")
    for doc in documents:
        path = f"/cases/{case_id}/evidence/{doc['document_id']}/content"
        response = await fetch("intake", path)
        if response.status_code == 410:
            file.erased.append({"path": f"evidence/{doc['document_id']}", "sha256": doc["sha256"],
                                "reason": "erased under the retention policy", "source": f"intake GET {path}"})
            continue
        if response.status_code != 200:
            raise UpstreamFailed("intake", path, response.status_code)
        if hashlib.sha256(response.content).hexdigest() != doc["sha256"]:
            # the store gave back other bytes than were uploaded: no file that would certify them
            raise UpstreamFailed("intake", path, 502)
        name = f"evidence/{doc['document_id']}{_EXTENSIONS.get(doc['media_type'], '')}"
        file.add(name, response.content, f"intake GET {path}")
    await record("evaluation", f"/cases/{case_id}/decisions", "decisions.json")
    offers = await record("agreement", f"/cases/{case_id}/offers", "offers.json")
    agreements = sorted({o["agreement_id"] for o in offers if o.get("agreement_id")})
    for agreement_id in agreements:
        base = f"agreements/{agreement_id}"
        await record("agreement", f"/agreements/{agreement_id}", f"{base}/agreement.json")
        # the signed PDF exists once the lender has countersigned (409 agreement_not_signed until then)
        pdf = await get("agreement", f"/agreements/{agreement_id}/document.pdf", missing_ok=True, not_yet=409)
        if pdf is not None:
            file.add(f"{base}/agreement.pdf", pdf.content, f"agreement GET /agreements/{agreement_id}/document.pdf")
        # monitoring knows an agreement once it is active; one still awaiting signatures is not there
        if await record("monitoring", f"/agreements/{agreement_id}", f"{base}/monitoring.json",
                        missing_ok=True) is not None:
            await record("monitoring", f"/agreements/{agreement_id}/promises", f"{base}/promises.json")
    dated = await get("monitoring", "/business-date")
    assert dated is not None
    return file, dated.json().get("business_date")


async def build(fetch: Fetch, case_id: str, *, produced_by: dict[str, str], produced_at: dt.datetime) -> bytes:
    """The case file of ``case_id`` as the caller behind ``fetch`` may read it, as ZIP bytes."""
    file, business_date = await collect(fetch, case_id)
    return file.archive(produced_by=produced_by, produced_at=produced_at, business_date=business_date)

"""The agreement as a PDF for people and courts, rendered from the canonical JSON.

What the PDF holds, and why:
- every section of the canonical document, headings in Chinese and English, the schedule as a
  table with one row per instalment and one column per field the schedule carries (a field
  this renderer does not know is shown under its own name rather than dropped: a term that is
  in the signed JSON must be visible in the signed PDF);
- the canonical JSON itself as an attached, associated file ``agreement.json`` (the bytes whose
  SHA-256 names the document), and the SHA-256 printed on every page and in the metadata
  (title, subject, keywords, XMP), so a reader can recompute the hash from the file alone;
- when the lender signs: the borrower's consent evidence as a second attached file,
  ``borrower-consent.json`` (``signing.consent_record``), printed as the last section too, so
  the one file the lender signs shows that both parties agreed to the same content;
- PDF/A-3b markers (XMP ``pdfaid``, the sRGB output intent, every font embedded and subset):
  PDF/A-3 rather than 2, because PDF/A-2 allows only PDF/A files as attachments and the
  canonical JSON is the point of the document.

Determinism: the same canonical JSON, consent record, business date and font give the same
bytes (creation date = the business date, document id = the first 128 bits of the content
sha256, XMP written here without a clock), so the unsigned PDF's hash can be reproduced.

The CJK font is an input, named by path (``font_path``): the caller finds it (Debian's
fonts-wqy-microhei) and says so clearly when it is missing. fpdf2 embeds only the glyphs used.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from html import escape
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

#: one face (the CJK font has no bold): headings stand out by their shade
_HEADINGS = FontFace(emphasis="", fill_color=(225, 225, 225))

AGREEMENT_ATTACHMENT = "agreement.json"
CONSENT_ATTACHMENT = "borrower-consent.json"
TITLE = "还款协议 / Repayment agreement"

#: bilingual labels of the fields the renderer knows; any other field is shown by its own name
LABELS: dict[str, str] = {
    "agreement_id": "协议编号 Agreement",
    "case_id": "案件 Case",
    "offer_id": "方案 Offer",
    "decision_id": "决定 Decision",
    "policy_version": "政策版本 Policy",
    "supersedes_agreement_id": "取代协议 Supersedes",
    "accepted_on": "接受日期 Accepted on",
    "offer_expires_on": "方案有效期至 Offer valid until",
    "code": "代码 Code",
    "summary": "摘要 Summary",
    "new_instalment": "新月供 New instalment",
    "old_instalment": "原月供 Old instalment",
    "term_months": "期数(月) Term (months)",
    "annual_rate": "年利率 Annual rate",
    "apr": "年化利率 APR",
    "irr": "内部收益率 IRR",
    "flat_rate": "月费率/固定利率 Flat rate",
    "frequency": "还款频率 Frequency",
    "capitalised_arrears": "逾期欠款资本化 Capitalised arrears",
    "waived_amount": "减免金额 Waived",
    "fees": "费用 Fees",
    "currency": "币种 Currency",
    "instalments": "期数 Instalments",
    "principal": "本金 Principal",
    "interest": "利息 Interest",
    "payable": "应还合计 Payable",
    "first_due_date": "首期还款日 First due date",
    "final_due_date": "末期还款日 Final due date",
    "method": "还款方式 Method",
    "day_count": "计息基础 Day count",
    "start_date": "起息日 Start date",
    "borrower_id": "借款人 Borrower",
    "lender_id": "贷款人 Lender",
    "loan_id": "贷款 Loan",
}

#: the schedule table's columns in reading order; other instalment fields follow, by name
SCHEDULE_COLUMNS: dict[str, str] = {
    "number": "期次\nNo.",
    "due_date": "还款日\nDue date",
    "kind": "类型\nKind",
    "opening_balance": "期初余额\nOpening",
    "principal": "本金\nPrincipal",
    "interest": "利息\nInterest",
    "fee": "费用\nFee",
    "capitalised_interest": "资本化利息\nCapitalised",
    "total": "应还\nTotal",
    "closing_balance": "期末余额\nClosing",
}

#: sections rendered on their own; every other top-level field goes to "other terms"
_SECTIONED = frozenset({
    "document", "agreement_id", "case_id", "offer_id", "decision_id", "policy_version", "supersedes_agreement_id",
    "parties", "loans", "option", "schedule", "totals", "dates", "payment_method", "governing_terms",
})

CONSENT_LABELS: dict[str, str] = {
    "document_sha256": "文件摘要 Document SHA-256",
    "party": "签署方 Party",
    "signed_by": "签署人 Signed by",
    "signed_role": "角色 Role",
    "on_behalf_of_borrower": "代借款人签署 On the borrower's behalf",
    "signed_on": "签署营业日 Business date",
    "signed_at": "签署时间 Timestamp",
    "channel": "渠道 Channel",
    "otp_verified": "一次性验证码已验证 One-time code verified",
}


class PdfRenderError(ValueError):
    """The canonical document cannot be rendered (it is not the JSON of an agreement)."""


class _AgreementPdf(FPDF):
    def __init__(self, sha256: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4", enforce_compliance="PDFA_3B")
        self._sha256 = sha256

    def file_id(self) -> str:
        # the permanent and the changing id alike: the document's own hash (PDF 14.4 asks for
        # an id "based on the contents"; this one is, and it does not depend on the clock)
        ident = self._sha256[:32].upper()
        return f"<{ident}><{ident}>"

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("cjk", size=7)
        self.cell(0, 5, f"SHA-256 {self._sha256}    {self.page_no()}/{{nb}}", align="C")


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    if isinstance(value, str | int):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def _label(key: str, labels: Mapping[str, str] = LABELS) -> str:
    return labels.get(key, key)


def _xmp(title: str, description: str, keywords: str, created: str) -> str:
    return "\n".join([
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
        '  <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
        '    <rdf:Description rdf:about=""',
        '        xmlns:dc="http://purl.org/dc/elements/1.1/"',
        '        xmlns:xmp="http://ns.adobe.com/xap/1.0/"',
        '        xmlns:pdf="http://ns.adobe.com/pdf/1.3/"',
        '        xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">',
        "      <pdfaid:part>3</pdfaid:part>",
        "      <pdfaid:conformance>B</pdfaid:conformance>",
        f"      <dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">{escape(title)}</rdf:li></rdf:Alt></dc:title>",
        "      <dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">"
        f"{escape(description)}</rdf:li></rdf:Alt></dc:description>",
        "      <dc:creator><rdf:Seq><rdf:li>Forbear agreement service</rdf:li></rdf:Seq></dc:creator>",
        f"      <pdf:Keywords>{escape(keywords)}</pdf:Keywords>",
        "      <pdf:Producer>Forbear agreement service (fpdf2)</pdf:Producer>",
        f"      <xmp:CreateDate>{created}</xmp:CreateDate>",
        f"      <xmp:ModifyDate>{created}</xmp:ModifyDate>",
        f"      <xmp:MetadataDate>{created}</xmp:MetadataDate>",
        "      <xmp:CreatorTool>Forbear agreement service</xmp:CreatorTool>",
        "    </rdf:Description>",
        "  </rdf:RDF>",
        "</x:xmpmeta>",
    ])


def render_pdf(canonical: str, sha256: str, consent: Mapping[str, Any] | None, *, issued_on: date,
               font_path: str) -> bytes:
    """The PDF of the canonical document (and of the borrower's consent, when given).

    ``issued_on`` is the business date the PDF is drawn up on (its creation date); ``font_path``
    a TrueType font or collection with CJK glyphs.
    """
    try:
        doc: dict[str, Any] = json.loads(canonical)
    except ValueError as exc:
        raise PdfRenderError(f"the canonical document is not JSON: {exc}") from None
    if not isinstance(doc, dict) or "agreement_id" not in doc:
        raise PdfRenderError("the canonical document is not an agreement (no agreement_id)")

    pdf = _AgreementPdf(sha256)
    created = datetime(issued_on.year, issued_on.month, issued_on.day, tzinfo=UTC)
    pdf.set_creation_date(created)
    description = f"Agreement {doc['agreement_id']}; canonical JSON SHA-256 {sha256}"
    keywords = f"forbear agreement, document_sha256:{sha256}"
    pdf.set_title(TITLE)
    pdf.set_subject(description)
    pdf.set_keywords(keywords)
    pdf.set_author("Forbear agreement service")
    pdf.set_creator("Forbear agreement service")
    pdf.set_producer("Forbear agreement service (fpdf2)")
    pdf.set_lang("zh-CN")
    pdf.set_xmp_metadata(_xmp(TITLE, description, keywords, created.isoformat(timespec="seconds")))
    pdf.add_font("cjk", "", font_path)
    pdf.set_font("cjk", size=9)
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()

    pdf.embed_file(bytes=canonical.encode("utf-8"), basename=AGREEMENT_ATTACHMENT, mime_type="application/json",
                   associated_file_relationship="Source", modification_date=created, creation_date=created,
                   desc=f"Canonical JSON of the agreement (what is signed), SHA-256 {sha256}")
    if consent is not None:
        pdf.embed_file(bytes=consent_json(consent).encode("utf-8"), basename=CONSENT_ATTACHMENT,
                       mime_type="application/json", associated_file_relationship="Supplement",
                       modification_date=created, creation_date=created,
                       desc="The borrower's consent: who signed, when, how, over which document")

    _Writer(pdf).document(doc, sha256, consent)
    return bytes(pdf.output())


def consent_json(consent: Mapping[str, Any]) -> str:
    """The consent record as attached: the canonical JSON rule (sorted keys, no spaces, UTF-8)."""
    return json.dumps(dict(consent), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class _Writer:
    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf

    def heading(self, text: str, size: float = 11) -> None:
        pdf = self.pdf
        pdf.ln(2)
        pdf.set_font("cjk", size=size)
        pdf.multi_cell(0, size * 0.55, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("cjk", size=9)
        pdf.ln(1)

    def para(self, text: str, size: float = 9) -> None:
        self.pdf.set_font("cjk", size=size)
        self.pdf.multi_cell(0, 4.6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.set_font("cjk", size=9)

    def fields(self, items: Iterable[tuple[str, Any]], labels: Mapping[str, str] = LABELS) -> None:
        rows = [(key, value) for key, value in items]
        if not rows:
            return
        with self.pdf.table(col_widths=(62, 118), text_align=("LEFT", "LEFT"), first_row_as_headings=False,
                            line_height=4.6) as table:
            for key, value in rows:
                row = table.row()
                row.cell(_label(key, labels))
                row.cell(_text(value))

    def schedule(self, instalments: Sequence[Mapping[str, Any]]) -> None:
        present: list[str] = []
        for inst in instalments:
            present += [key for key in inst if key not in present]
        columns = [key for key in SCHEDULE_COLUMNS if key in present] + sorted(k for k in present if k not in SCHEDULE_COLUMNS)
        if not columns:
            return
        narrow = {"number": 0.55, "kind": 0.9, "due_date": 1.15}
        weights = [narrow.get(key, 1.0) for key in columns]
        self.pdf.set_font("cjk", size=6.5 if len(columns) > 8 else 7.5)
        aligns = tuple("LEFT" if key in ("due_date", "kind") else "RIGHT" for key in columns)
        with self.pdf.table(col_widths=tuple(weights), text_align=aligns, line_height=3.6,
                            repeat_headings=1, headings_style=_HEADINGS) as table:
            head = table.row()
            for key in columns:
                head.cell(SCHEDULE_COLUMNS.get(key, key))
            for inst in instalments:
                row = table.row()
                for key in columns:
                    row.cell(_text(inst.get(key)))
        self.pdf.set_font("cjk", size=9)

    def document(self, doc: Mapping[str, Any], sha256: str, consent: Mapping[str, Any] | None) -> None:
        pdf = self.pdf
        pdf.set_font("cjk", size=16)
        pdf.cell(0, 10, TITLE, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("cjk", size=8)
        pdf.multi_cell(0, 4, f"文件摘要 Document SHA-256 (canonical JSON, attached as {AGREEMENT_ATTACHMENT}):\n{sha256}",
                       align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("cjk", size=9)
        pdf.ln(2)
        header = ["agreement_id", "case_id", "offer_id", "decision_id", "policy_version", "supersedes_agreement_id"]
        self.fields((key, doc.get(key)) for key in header if key in doc and (doc.get(key) is not None
                                                                           or key != "supersedes_agreement_id"))
        self.fields(sorted(doc.get("dates", {}).items()))

        self.heading("1. 当事人 / Parties")
        parties = doc.get("parties", {})
        rows: list[tuple[str, Any]] = []
        for party, value in sorted(parties.items()):
            for key, item in sorted(value.items()) if isinstance(value, dict) else [(party, value)]:
                rows.append((key if key in LABELS else f"{party}.{key}", item))
        self.fields(rows)

        self.heading("2. 贷款 / Loans")
        loans = doc.get("loans") or []
        self.fields([(key, value) for loan in loans for key, value in sorted(loan.items())] if loans
                    else [("loan_id", "(as stated in the decision)")])

        option = doc.get("option", {})
        self.heading("3. 方案 / Option")
        ordered = ["code", "summary", "new_instalment", "old_instalment", "term_months", "annual_rate"]
        keys = [k for k in ordered if k in option] + sorted(k for k in option if k not in ordered)
        self.fields((key, option[key]) for key in keys if option[key] is not None or key in ordered)

        schedule = doc.get("schedule", {})
        self.heading("4. 还款计划 / Repayment schedule")
        self.fields(sorted((k, v) for k, v in schedule.items() if k != "instalments"))
        pdf.ln(2)
        self.schedule(schedule.get("instalments", []))

        self.heading("5. 合计 / Totals")
        self.fields(sorted(doc.get("totals", {}).items()))

        method = doc.get("payment_method", {})
        self.heading("6. 还款方式 / Payment method")
        self.para(f"{method.get('zh', '')}\n{method.get('en', '')}  ({method.get('code', '')})")

        self.heading("7. 条款 / Terms")
        for number, clause in enumerate(doc.get("governing_terms", []), start=1):
            self.para(f"7.{number} {clause.get('zh', '')}")
            self.para(f"      {clause.get('en', '')}", size=8.5)
            extra = sorted((k, v) for k, v in clause.items() if k not in ("code", "zh", "en"))
            self.fields(extra)
            pdf.ln(1)

        others = sorted((k, v) for k, v in doc.items() if k not in _SECTIONED)
        if others:
            self.heading("8. 其他条款 / Other terms")
            self.fields(others)

        self.heading("9. 签署 / Signatures")
        if consent is None:
            self.para("借款人先签，贷款人后签；签署均指向上述SHA-256所标识的文件。\n"
                      "The borrower signs first, then the lender; each signature names the document by the SHA-256 above.")
        else:
            self.para(f"借款人同意记录（附件 {CONSENT_ATTACHMENT}）/ The borrower's consent (attached as {CONSENT_ATTACHMENT}):")
            keys = [k for k in CONSENT_LABELS if k in consent] + sorted(k for k in consent if k not in CONSENT_LABELS)
            self.fields(((key, consent[key]) for key in keys), CONSENT_LABELS)
            pdf.ln(2)
            self.para("贷款人以本文件所附的PAdES电子签名签署本文件（含上述借款人同意记录）。\n"
                      "The lender signs this file, the borrower's consent above included, with the PAdES "
                      "signature it carries.")

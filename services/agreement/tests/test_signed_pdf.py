"""The signed agreement PDF as specifications: what it shows, what it carries, who signed it,
and every way a tampered file is refused.

The PDF is read back with pypdf (a library that did not write it), and the signature checked
a second time with poppler's pdfsig (a PDF reader's validator, not pyHanko).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pypdf
import pytest
from forbear_agreement.__main__ import main as cli
from forbear_agreement.adapters import pades
from forbear_agreement.domain import signing
from forbear_agreement.domain.document import canonical_json, content_sha256
from forbear_agreement.domain.pdf import PdfRenderError, render_pdf
from forbear_agreement.domain.verification import verdict

from tests.support.agreement_pdf import BORROWER_SIGNATURE, CANONICAL, CONSENT, FONT, SHA, SIGNED_ON, content, rendered


@pytest.fixture(scope="module")
def unsigned() -> bytes:
    return rendered()


def read(pdf: bytes) -> pypdf.PdfReader:
    import io

    return pypdf.PdfReader(io.BytesIO(pdf))


def text_of(pdf: bytes) -> str:
    # pypdf's layout puts table cells on lines of their own; spaces are not significant here
    return re.sub(r"\s+", " ", "\n".join(page.extract_text() for page in read(pdf).pages))


# -- rendering ---------------------------------------------------------------------------------


def test_the_pdf_states_the_agreement_in_chinese_and_english_with_every_instalment(unsigned: bytes) -> None:
    text = text_of(unsigned)
    for heading in ("还款协议 / Repayment agreement", "当事人 / Parties", "还款计划 / Repayment schedule",
                    "合计 / Totals", "还款方式 / Payment method", "条款 / Terms", "签署 / Signatures"):
        assert heading in text
    assert "agr-pdf-1" in text and "brw-1" in text and "LN-1" in text and SHA in text
    assert "展期六个月 six-month term extension" in text
    instalments = json.loads(CANONICAL)["schedule"]["instalments"]
    assert len(instalments) == 6
    for inst in instalments:
        for key in ("due_date", "principal", "interest", "total", "closing_balance"):
            assert inst[key] in text, (inst["number"], key)
    for clause in json.loads(CANONICAL)["governing_terms"]:
        assert clause["zh"][:12] in text.replace(" ", "")  # the Chinese text of every clause


def test_the_cjk_font_is_embedded_and_only_the_glyphs_used(unsigned: bytes) -> None:
    reader = read(unsigned)
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[str(font["/BaseFont"])] = font
    assert fonts, "the pages use a font"
    for name, font in fonts.items():
        # a subset's name starts with a six-letter tag (PDF 32000 9.6.4)
        assert re.fullmatch(r"/[A-Z]{6}\+WenQuanYiMicroHei", name), name
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        embedded = descriptor["/FontFile2"].get_object().get_data()
        # the whole collection is ~5 MB; the few hundred glyphs used are a small fraction of it
        assert 0 < len(embedded) < Path(FONT).stat().st_size / 20


def test_the_canonical_json_and_the_consent_are_attached_as_associated_files(unsigned: bytes) -> None:
    reader = read(unsigned)
    assert reader.attachments["agreement.json"] == [CANONICAL.encode("utf-8")]
    assert hashlib.sha256(reader.attachments["agreement.json"][0]).hexdigest() == SHA
    consent = json.loads(reader.attachments["borrower-consent.json"][0])
    assert consent == CONSENT
    relations = {str(spec.get_object()["/F"]): str(spec.get_object()["/AFRelationship"])
                 for spec in reader.trailer["/Root"]["/AF"]}
    assert relations == {"agreement.json": "/Source", "borrower-consent.json": "/Supplement"}


def test_the_sha256_and_the_pdfa_markers_are_in_the_metadata(unsigned: bytes) -> None:
    reader = read(unsigned)
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert f"document_sha256:{SHA}" in xmp and f"SHA-256 {SHA}" in xmp
    assert "<pdfaid:part>3</pdfaid:part>" in xmp and "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert "<xmp:CreateDate>2026-01-09T00:00:00+00:00</xmp:CreateDate>" in xmp  # the business date, no clock
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    assert str(root["/Lang"]) == "zh-CN"
    # the file id is derived from the document hash (its first 128 bits)
    assert reader.trailer["/ID"][0].original_bytes.hex() == SHA[:32]


def test_the_same_document_renders_to_the_same_bytes_and_another_business_date_does_not(unsigned: bytes) -> None:
    assert rendered() == unsigned
    assert hashlib.sha256(rendered()).hexdigest() == hashlib.sha256(unsigned).hexdigest()
    assert rendered(on=date(2026, 1, 10)) != unsigned


def test_a_term_the_renderer_does_not_know_is_shown_under_its_own_name() -> None:
    # another product's terms (an APR, a frequency, a new instalment field) must not be dropped
    doc = content()
    doc["option"]["apr"] = "0.1268"
    doc["option"]["repayment_frequency"] = "fortnightly"
    doc["disclosures"] = {"apr_method": "IRR x 12"}
    for inst in doc["schedule"]["instalments"]:
        inst["service_fee"] = "1.50"
    canonical = canonical_json(doc)
    text = text_of(rendered(canonical, content_sha256(canonical), None))
    assert "年化利率 APR" in text and "0.1268" in text
    assert "repayment_frequency" in text and "fortnightly" in text
    assert "disclosures" in text and "IRR x 12" in text
    assert "service_fee" in text and text.count("1.50") >= 6


def test_a_document_that_is_not_an_agreement_is_refused() -> None:
    with pytest.raises(PdfRenderError):
        render_pdf("not json", SHA, None, issued_on=SIGNED_ON, font_path=FONT)
    with pytest.raises(PdfRenderError):
        render_pdf("[1, 2]", SHA, None, issued_on=SIGNED_ON, font_path=FONT)


def test_a_missing_font_is_named_with_the_package_that_provides_it() -> None:
    from forbear_shared.settings import Settings

    settings = Settings(service_name="agreement", database_url="postgresql://x/y", kafka_bootstrap="x:1",
                        agreement_pdf_font_file="/nonexistent/font.ttc")
    with pytest.raises(pades.SigningNotConfigured, match="fonts-wqy-microhei"):
        pades.font_path(settings)


# -- the consent record ------------------------------------------------------------------------


def test_the_consent_record_states_who_when_how_and_which_document() -> None:
    assert CONSENT == {
        "type": "forbear.borrower_consent", "agreement_id": "agr-pdf-1", "party": "borrower",
        "signed_by": "portal-user", "signed_role": "borrower", "on_behalf_of_borrower": False,
        "signed_on": "2026-01-08", "signed_at": "2026-01-08T10:30:00+00:00", "document_sha256": SHA,
        "channel": "portal", "otp_verified": True,
    }


def test_an_agents_record_of_the_borrowers_signature_says_so_and_without_channel_columns_still_stands() -> None:
    row = {k: v for k, v in BORROWER_SIGNATURE.items() if k not in ("channel", "otp_verified")}
    row.update(signed_by="agent-zhao", signed_role="agent", on_behalf_of_borrower=True)
    record = signing.consent_record(row, agreement_id="agr-pdf-1")
    assert record["on_behalf_of_borrower"] is True and record["signed_by"] == "agent-zhao"
    assert "channel" not in record and "otp_verified" not in record


def test_the_lenders_signature_is_not_consent_evidence() -> None:
    with pytest.raises(ValueError):
        signing.consent_record({**BORROWER_SIGNATURE, "party": "lender"}, agreement_id="agr-pdf-1")


# -- signing and verification ------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed(unsigned: bytes, lender_signer: pades.LenderSigner) -> bytes:
    return lender_signer.sign(unsigned, reason="test countersignature")


def judge(pdf: bytes, trust_roots: list, stored: str | None = SHA) -> Any:
    return verdict(pades.inspect(pdf, trust_roots), stored_document_sha256=stored)


def codes(result: Any) -> list[str]:
    return [r.split(":")[0] for r in result.reasons]


def test_a_pdf_signed_by_the_lender_is_valid(signed: bytes, trust_roots: list) -> None:
    result = judge(signed, trust_roots)
    assert result.reasons == [] and result.valid
    assert result.document_sha256 == result.stored_document_sha256 == result.consent_document_sha256 == SHA
    assert result.agreement_id == "agr-pdf-1"
    assert "Forbear demo lender (agreements)" in (result.signer or "")
    assert result.consent == CONSENT


def test_a_pdf_reader_validates_the_signature_too(signed: bytes, tmp_path: Path) -> None:
    pdfsig = shutil.which("pdfsig")
    assert pdfsig, "poppler's pdfsig is missing: install poppler-utils (deploy/local/prereqs.sh)"
    file = tmp_path / "agreement.pdf"
    file.write_bytes(signed)
    # -nocert: poppler checks the signature over the file; the chain to our CA is pyHanko's check
    # (poppler would look for the CA in an NSS database)
    report = subprocess.run([pdfsig, "-nocert", str(file)], capture_output=True, text=True, check=False).stdout
    assert "Signature is Valid." in report
    assert "Total document signed" in report
    assert "Signature Field Name: LenderSignature" in report


def test_a_byte_changed_after_signing_is_refused(signed: bytes, trust_roots: list) -> None:
    at = signed.index(b"<pdfaid:part>3")
    tampered = signed[:at] + b"<pdfaid:part>4" + signed[at + len(b"<pdfaid:part>3"):]
    assert len(tampered) == len(signed)
    result = judge(tampered, trust_roots)
    assert not result.valid and "signature_broken" in codes(result)


def test_an_edited_json_re_signed_by_a_key_the_lender_does_not_trust_is_refused(
        trust_roots: list, stranger_signer: pades.LenderSigner) -> None:
    doc = content()
    doc["option"]["new_instalment"] = "1.00"
    forged = canonical_json(doc)
    forged_sha = content_sha256(forged)
    consent = {**CONSENT, "document_sha256": forged_sha}
    pdf = stranger_signer.sign(rendered(forged, forged_sha, consent), reason="forgery")
    result = judge(pdf, trust_roots)
    assert not result.valid
    assert set(codes(result)) == {"certificate_not_trusted", "document_hash_mismatch"}


def test_an_edited_json_re_signed_by_the_lenders_own_key_is_refused_naming_the_hash(
        trust_roots: list, lender_signer: pades.LenderSigner) -> None:
    doc = content()
    doc["option"]["new_instalment"] = "1.00"
    edited = canonical_json(doc)
    edited_sha = content_sha256(edited)
    pdf = lender_signer.sign(rendered(edited, edited_sha, {**CONSENT, "document_sha256": edited_sha}), reason="edit")
    result = judge(pdf, trust_roots)
    assert codes(result) == ["document_hash_mismatch"]
    assert edited_sha in result.reasons[0] and SHA in result.reasons[0]


def test_a_consent_given_to_another_document_is_refused(trust_roots: list, lender_signer: pades.LenderSigner) -> None:
    pdf = lender_signer.sign(rendered(consent={**CONSENT, "document_sha256": "0" * 64}), reason="test")
    assert codes(judge(pdf, trust_roots)) == ["consent_hash_mismatch"]


def test_an_unsigned_pdf_or_an_unknown_agreement_is_refused(unsigned: bytes, signed: bytes, trust_roots: list) -> None:
    assert codes(judge(unsigned, trust_roots)) == ["no_signature"]
    assert codes(judge(signed, trust_roots, stored=None)) == ["unknown_agreement"]


def test_content_appended_after_the_signature_is_refused(signed: bytes, trust_roots: list) -> None:
    import io

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    writer.root["/Lang"] = generic.TextStringObject("en")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    result = judge(out.getvalue(), trust_roots)
    assert "signature_not_covering_file" in codes(result)


@pytest.mark.parametrize("garbage", [b"", b"hello", b"%PDF-1.7\n" + b"\x00" * 200, b"%PDF-1.7\n1 0 obj <<"])
def test_bytes_that_are_not_a_readable_pdf_are_refused_as_such(garbage: bytes, trust_roots: list) -> None:
    try:
        facts = pades.inspect(garbage, trust_roots)
    except pades.NotAPdf:
        return
    assert not verdict(facts, stored_document_sha256=SHA).valid


def test_a_truncated_pdf_is_not_valid(signed: bytes, trust_roots: list) -> None:
    try:
        facts = pades.inspect(signed[: len(signed) // 2], trust_roots)
    except pades.NotAPdf:
        return
    assert not verdict(facts, stored_document_sha256=SHA).valid


# -- the CLI ------------------------------------------------------------------------------------


def test_the_cli_verifies_offline_and_exits_non_zero_when_invalid(signed: bytes, signing_keys: Any, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.pdf"
    good.write_bytes(signed)
    ca = str(signing_keys.trust_root)
    assert cli(["verify", str(good), "--trust-root", ca, "--document-sha256", SHA]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["valid"] is True and answer["document_sha256"] == SHA and answer["checked_against_record"] is True

    assert cli(["verify", str(good), "--trust-root", ca]) == 0
    assert json.loads(capsys.readouterr().out)["checked_against_record"] is False

    assert cli(["verify", str(good), "--trust-root", ca, "--document-sha256", "f" * 64]) == 1
    assert json.loads(capsys.readouterr().out)["reasons"][0].startswith("document_hash_mismatch")

    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"not a pdf")
    assert cli(["verify", str(garbage), "--trust-root", ca]) == 2
    assert "not_a_pdf" in capsys.readouterr().out


# -- configuration -----------------------------------------------------------------------------


def settings(**values: Any) -> Any:
    from forbear_shared.settings import Settings

    return Settings(service_name="agreement", database_url="postgresql://x/y", kafka_bootstrap="x:1", **values)


def test_a_wrong_passphrase_is_refused_without_repeating_it(signing_keys: Any) -> None:
    from pydantic import SecretStr

    wrong = "not-the-passphrase-4711"
    with pytest.raises(pades.SigningNotConfigured) as refused:
        pades.load_signer(settings(agreement_signing_pkcs12_file=str(signing_keys.pkcs12),
                                   agreement_signing_pkcs12_passphrase=SecretStr(wrong)))
    assert wrong not in str(refused.value) and signing_keys.passphrase() not in str(refused.value)


def test_no_key_configured_means_no_signer_and_the_pkcs11_switch_names_what_it_needs() -> None:
    assert pades.load_signer(settings()) is None
    with pytest.raises(pades.SigningNotConfigured, match="PKCS11_MODULE"):
        pades.load_signer(settings(agreement_signing_backend="pkcs11"))


def test_production_refuses_an_agreement_service_without_a_signing_key() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="signs agreements in production"):
        settings(environment="production", oidc_issuer="https://idp.lender.example/realms/ops",
                 signing_code_secret="k" * 16 + "Q2v9xN4rT8wL0pZs")

"""The agreement PDF is PDF/A-3b, as veraPDF (the PDF Association's validator) judges it.

veraPDF's command-line validator comes from Maven Central (deploy/verapdf/pom.xml; resolved once
into ~/.m2) and runs on Java. PDF/A-3, not PDF/A-2: the canonical JSON and the consent record
are attached as associated files, which PDF/A-2 allows only when they are PDF/A themselves;
the PDF/A-2b check says exactly that.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pypdf
import pytest
from forbear_agreement.adapters import pades

from tests.support.agreement_pdf import rendered

ROOT = Path(__file__).resolve().parents[3]
POM = ROOT / "deploy/verapdf/pom.xml"
JAVA = shutil.which("java")
CLI = "org.verapdf.apps.GreenfieldCliWrapper"

pytestmark = pytest.mark.skipif(JAVA is None, reason="veraPDF runs on Java, which this machine lacks")


@pytest.fixture(scope="module")
def classpath(tmp_path_factory: pytest.TempPathFactory) -> str:
    mvn = shutil.which("mvn")
    assert mvn, "Maven resolves veraPDF from Maven Central: install Debian's maven (deploy/local/prereqs.sh)"
    out = Path(tmp_path_factory.mktemp("verapdf")) / "classpath.txt"
    done = subprocess.run([mvn, "-q", "-B", "-f", str(POM), "dependency:build-classpath",
                           f"-Dmdep.outputFile={out}"], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return out.read_text().strip()


def validate(classpath: str, flavour: str, *pdfs: bytes, tmp: Path) -> list[tuple[str, set[str]]]:
    """veraPDF's verdict on each file: PASS or FAIL, and the rules it failed (``-v``)."""
    files = []
    for i, pdf in enumerate(pdfs):
        files.append(tmp / f"agreement-{i}.pdf")
        files[-1].write_bytes(pdf)
    done = subprocess.run([JAVA or "java", "-cp", classpath, CLI, "--flavour", flavour, "--format", "text", "-v",
                           *map(str, files)], capture_output=True, text=True, timeout=300, check=False)
    verdicts: list[tuple[str, set[str]]] = []
    for line in done.stdout.splitlines():
        if m := re.fullmatch(r"(PASS|FAIL) (\S+) (\w+)", line.strip()):
            verdicts.append((m[1], set()))
        elif m := re.fullmatch(r"FAIL (\S+)", line.strip()):
            verdicts[-1][1].add(m[1])
    assert len(verdicts) == len(pdfs), done.stdout[-2000:] + done.stderr[-2000:]
    return verdicts


def test_the_agreement_pdf_unsigned_and_signed_by_the_lender_is_pdfa_3b(
        classpath: str, lender_signer: pades.LenderSigner, tmp_path: Path) -> None:
    unsigned = rendered()
    signed = lender_signer.sign(unsigned, reason="countersigned for the lender")
    assert validate(classpath, "3b", unsigned, signed, tmp=tmp_path) == [("PASS", set()), ("PASS", set())]


def test_as_pdfa_2b_only_the_attachments_and_the_part_it_declares_fail(classpath: str, tmp_path: Path) -> None:
    # ISO 19005-2 6.8: an embedded file must itself be PDF/A (ours are JSON);
    # 6.6.4: the XMP names part 2 (ours says part 3)
    ((result, failed),) = validate(classpath, "2b", rendered(), tmp=tmp_path)
    assert result == "FAIL" and failed == {"6.8-5", "6.6.4-2"}


def test_a_pdf_without_its_output_intent_is_not_pdfa(classpath: str, tmp_path: Path) -> None:
    # the sRGB output intent is what makes the device colours of the text and rules PDF/A
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(rendered()))
    del writer.root_object["/OutputIntents"]
    out = io.BytesIO()
    writer.write(out)
    ((result, failed),) = validate(classpath, "3b", out.getvalue(), tmp=tmp_path)
    assert result == "FAIL" and failed

"""The lender's PAdES signature on the agreement PDF, and reading a PDF's signatures back (pyHanko).

Key and certificate come from configuration (``Settings``):
- ``FORBEAR_AGREEMENT_SIGNING_BACKEND=pkcs12`` (the default): ``..._PKCS12_FILE`` and its
  ``..._PKCS12_PASSPHRASE`` (a secret: read once, never logged);
- ``pkcs11`` (production: the key never leaves the HSM or token): ``..._PKCS11_MODULE``,
  ``..._PKCS11_TOKEN_LABEL``, ``..._PKCS11_KEY_LABEL``, ``..._PKCS11_PIN`` (python-pkcs11,
  pyHanko's ``pkcs11`` extra; tested on SoftHSM);
- ``..._TRUST_ROOT_FILE``: the CA (PEM) a verified PDF's signer must chain to.

``make run`` makes a demo CA and lender certificate once (``python -m forbear_agreement
demo-keys``); tests make their own.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509
from forbear_shared.settings import Settings
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError, load_cert_from_pemder
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from forbear_agreement.domain.pdf import AGREEMENT_ATTACHMENT, CONSENT_ATTACHMENT
from forbear_agreement.domain.verification import PdfFacts, SignatureFacts

log = logging.getLogger(__name__)

SIGNATURE_FIELD = "LenderSignature"
#: Debian's fonts-wqy-microhei (deploy/local/prereqs.sh): TrueType outlines in a collection,
#: which fpdf2 embeds and subsets
DEFAULT_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


class SigningNotConfigured(RuntimeError):
    """The lender's signing key, its certificate or the trust root is not usable as configured."""


class NotAPdf(ValueError):
    """The bytes are not a PDF that can be read."""


def font_path(settings: Settings) -> str:
    path = Path(settings.agreement_pdf_font_file or DEFAULT_FONT)
    if not path.is_file():
        raise SigningNotConfigured(
            f"the agreement PDF's CJK font {path} is missing: install Debian's fonts-wqy-microhei "
            "(deploy/local/prereqs.sh) or set FORBEAR_AGREEMENT_PDF_FONT_FILE to a TrueType font with CJK glyphs"
        )
    return str(path)


def load_trust_roots(path: str | None) -> list[asn1_x509.Certificate]:
    if not path:
        return []
    file = Path(path)
    if not file.is_file():
        raise SigningNotConfigured(f"the trust root {file} does not exist (FORBEAR_AGREEMENT_SIGNING_TRUST_ROOT_FILE)")
    return [load_cert_from_pemder(str(file))]


@dataclass
class LenderSigner:
    """Signs PDFs with the lender's key: one PAdES B-B signature covering the whole file."""

    signer: signers.Signer
    subject: str

    def sign(self, pdf: bytes, *, reason: str, location: str | None = None) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        meta = signers.PdfSignatureMetadata(
            field_name=SIGNATURE_FIELD, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason, location=location,
        )
        out = signers.sign_pdf(writer, meta, signer=self.signer)
        return bytes(out.getbuffer())

    def close(self) -> None:
        """Log out of the token (pkcs11): a token admits one login per process at a time."""
        session = getattr(self.signer, "pkcs11_session", None)
        if session is not None:
            session.close()


def _subject(cert: asn1_x509.Certificate) -> str:
    return str(cert.subject.human_friendly)


def load_signer(settings: Settings) -> LenderSigner | None:
    """The lender's signer as configured, or None when no key is configured (not in production)."""
    backend = settings.agreement_signing_backend
    if backend == "pkcs11":
        return _pkcs11_signer(settings)
    file = settings.agreement_signing_pkcs12_file
    if not file:
        return None
    if not Path(file).is_file():
        raise SigningNotConfigured(f"the lender's PKCS#12 file {file} does not exist "
                                   "(FORBEAR_AGREEMENT_SIGNING_PKCS12_FILE)")
    secret = settings.agreement_signing_pkcs12_passphrase
    passphrase = secret.get_secret_value().encode("utf-8") if secret is not None else None
    try:
        signer = signers.SimpleSigner.load_pkcs12(file, passphrase=passphrase)
    except (ValueError, OSError, SigningError) as exc:
        # the exception's text never carries the passphrase; its type says what failed
        raise SigningNotConfigured(f"the lender's PKCS#12 file {file} cannot be opened "
                                   f"(wrong passphrase or not PKCS#12): {type(exc).__name__}") from None
    if signer is None or signer.signing_cert is None:
        raise SigningNotConfigured(f"the lender's PKCS#12 file {file} cannot be opened (wrong passphrase or not PKCS#12)")
    return LenderSigner(signer=signer, subject=_subject(signer.signing_cert))


def _pkcs11_signer(settings: Settings) -> LenderSigner:
    """The lender's key in an HSM or token: pyHanko's PKCS#11 signer over one session opened at
    start-up. The certificate is found by its label (``..._CERT_LABEL``, default the key's), and
    every other certificate on the token (the lender's CA) goes into the signature beside it.

    An EC key is signed with the raw ``CKM_ECDSA`` mechanism, the SHA-256 computed here, when the
    token has no ``CKM_ECDSA_SHA256`` (SoftHSM, and many HSMs, offer only the raw one)."""
    module = settings.agreement_signing_pkcs11_module
    key_label = settings.agreement_signing_pkcs11_key_label
    if not module or not key_label:
        raise SigningNotConfigured("FORBEAR_AGREEMENT_SIGNING_PKCS11_MODULE and ..._PKCS11_KEY_LABEL are required "
                                   "with FORBEAR_AGREEMENT_SIGNING_BACKEND=pkcs11")
    try:
        import pkcs11 as p11
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.sign import pkcs11
    except ImportError as exc:  # python-pkcs11 is not installed
        raise SigningNotConfigured(f"the pkcs11 signing backend needs python-pkcs11 (pyHanko's pkcs11 extra): {exc}") from None
    if not Path(module).is_file():
        raise SigningNotConfigured(f"the PKCS#11 module {module} does not exist (FORBEAR_AGREEMENT_SIGNING_PKCS11_MODULE)")
    token_label = settings.agreement_signing_pkcs11_token_label
    cert_label = settings.agreement_signing_pkcs11_cert_label or key_label
    pin = settings.agreement_signing_pkcs11_pin
    try:
        session = pkcs11.open_pkcs11_session(
            module, token_criteria=TokenCriteria(label=token_label) if token_label else None,
            user_pin=pin.get_secret_value() if pin is not None else None,
        )
    except p11.exceptions.PinIncorrect:
        raise SigningNotConfigured(f"the PKCS#11 token {token_label!r} refused the PIN "
                                   "(FORBEAR_AGREEMENT_SIGNING_PKCS11_PIN)") from None
    except (p11.exceptions.PKCS11Error, pkcs11.PKCS11Error) as exc:  # the text names the token, never the PIN
        raise SigningNotConfigured(f"the PKCS#11 token {token_label!r} cannot be opened "
                                   f"({type(exc).__name__}: {exc})"[:300]) from None
    try:
        signer = pkcs11.PKCS11Signer(session, key_label=key_label, cert_label=cert_label, other_certs_to_pull=None)
        cert = signer.signing_cert
        if cert.public_key.algorithm == "ec" and \
                p11.Mechanism.ECDSA_SHA256 not in session.token.slot.get_mechanisms():
            signer = pkcs11.PKCS11Signer(session, key_label=key_label, signing_cert=cert, other_certs_to_pull=None,
                                         use_raw_mechanism=True)
        signer.cert_registry  # noqa: B018 - pulls the token's other certificates now, not at the first signature
    except (p11.exceptions.PKCS11Error, pkcs11.PKCS11Error, SigningError) as exc:
        session.close()
        raise SigningNotConfigured(f"the PKCS#11 token {token_label!r} has no usable key {key_label!r} with "
                                   f"certificate {cert_label!r} ({type(exc).__name__}: {exc})"[:300]) from None
    return LenderSigner(signer=signer, subject=_subject(cert))


# -- reading a PDF back ----------------------------------------------------------------------


def _attachments(reader: PdfFileReader) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    names = reader.root.get("/Names")
    if names is None:
        return found
    tree = names.get_object().get("/EmbeddedFiles")
    if tree is None:
        return found

    def walk(node: Any) -> None:
        node = node.get_object()
        pairs = node.get("/Names")
        if pairs is not None:
            pairs = pairs.get_object()
            for i in range(0, len(pairs) - 1, 2):
                name = str(pairs[i])
                spec = pairs[i + 1].get_object()
                stream = spec.get("/EF", generic.DictionaryObject()).get_object().get("/F")
                if stream is not None:
                    found[name] = stream.get_object().data
        for kid in node.get("/Kids", []) or []:
            walk(kid)

    walk(tree)
    return found


def inspect(pdf: bytes, trust_roots: Sequence[asn1_x509.Certificate]) -> PdfFacts:
    """The PDF's signatures as validated against ``trust_roots``, and its two attachments."""
    if not pdf.startswith(b"%PDF-"):
        raise NotAPdf("not a PDF: the file does not start with %PDF-")
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
        attachments = _attachments(reader)
    except Exception as exc:  # noqa: BLE001 - an untrusted file may fail the parser anywhere: it is unreadable
        raise NotAPdf(f"the PDF cannot be read: {type(exc).__name__}: {exc}"[:300]) from None
    context = ValidationContext(trust_roots=list(trust_roots), allow_fetching=False, revocation_mode="soft-fail")
    signatures: list[SignatureFacts] = []
    for sig in embedded:
        problems: list[str] = []
        try:
            status = validate_pdf_signature(sig, context)
        except Exception as exc:  # noqa: BLE001 - any failure to validate is a refusal, stated
            signatures.append(SignatureFacts(field_name=sig.field_name, intact=False, valid=False, trusted=False,
                                             covers_whole_file=False, signer="unknown",
                                             problems=[f"cannot be validated: {type(exc).__name__}"]))
            continue
        signed_at = status.signer_reported_dt.isoformat() if isinstance(status.signer_reported_dt, dt.datetime) else None
        signatures.append(SignatureFacts(
            field_name=sig.field_name, intact=bool(status.intact), valid=bool(status.valid),
            trusted=bool(status.trusted), covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
            signer=_subject(status.signing_cert), signed_at=signed_at, problems=problems,
        ))
    return PdfFacts(signatures=signatures, agreement_json=attachments.get(AGREEMENT_ATTACHMENT),
                    consent_json=attachments.get(CONSENT_ATTACHMENT))

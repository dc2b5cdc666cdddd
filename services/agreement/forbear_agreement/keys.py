"""A demo certificate authority and lender signing certificate (``make run``; tests make their own).

Not for production: there the lender's key lives in an HSM or token (PKCS#11) or a PKCS#12
issued by the lender's CA, and only its path and passphrase are configured.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class DemoKeys:
    trust_root: Path
    pkcs12: Path
    passphrase_file: Path

    def passphrase(self) -> str:
        return self.passphrase_file.read_text().strip()

    def env(self) -> dict[str, str]:
        return {
            "FORBEAR_AGREEMENT_SIGNING_PKCS12_FILE": str(self.pkcs12),
            "FORBEAR_AGREEMENT_SIGNING_PKCS12_PASSPHRASE": self.passphrase(),
            "FORBEAR_AGREEMENT_SIGNING_TRUST_ROOT_FILE": str(self.trust_root),
        }


def _name(common: str, org: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificate(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, *, ca: bool,
                 days: int) -> x509.CertificateBuilder:
    """A certificate for ``public_key``: a CA's signs certificates, a signer's signs documents
    (digitalSignature and nonRepudiation, as PAdES signers carry)."""
    now = dt.datetime.now(dt.UTC)
    usage = x509.KeyUsage(digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                          encipher_only=False, decipher_only=False)
    return (
        x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(usage, critical=True)
    )


def make_ca(common: str = "Forbear demo lender CA", org: str = "Forbear demo lender",
            ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common, org)
    cert = (
        _certificate(name, name, key.public_key(), ca=True, days=3650)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def issue_signing_cert(ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate,
                       common: str = "Forbear demo lender (agreements)", org: str = "Forbear demo lender",
                       ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _certificate(_name(common, org), ca_cert.subject, key.public_key(), ca=False, days=1825)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def write_pkcs12(path: Path, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate, ca_cert: x509.Certificate,
                 passphrase: str) -> None:
    data = pkcs12.serialize_key_and_certificates(
        b"lender", key, cert, [ca_cert], serialization.BestAvailableEncryption(passphrase.encode("utf-8")))
    _write_private(path, data)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def ensure_demo_keys(directory: Path) -> DemoKeys:
    """The demo CA and lender PKCS#12 under ``directory``, made once (kept when already there)."""
    directory.mkdir(parents=True, exist_ok=True)
    keys = DemoKeys(directory / "demo-ca.pem", directory / "lender.p12", directory / "lender.p12.pass")
    if keys.trust_root.exists() and keys.pkcs12.exists() and keys.passphrase_file.exists():
        return keys
    ca_key, ca_cert = make_ca()
    key, cert = issue_signing_cert(ca_key, ca_cert)
    passphrase = secrets.token_urlsafe(24)
    _write_private(keys.passphrase_file, passphrase.encode("ascii") + b"\n")
    write_pkcs12(keys.pkcs12, key, cert, ca_cert, passphrase)
    keys.trust_root.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    return keys

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


def make_ca(common: str = "Forbear demo lender CA", org: str = "Forbear demo lender",
            ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    name = _name(common, org)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def issue_signing_cert(ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate,
                       common: str = "Forbear demo lender (agreements)", org: str = "Forbear demo lender",
                       ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(_name(common, org)).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
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

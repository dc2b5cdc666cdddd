"""The pkcs11 signing backend on a real token: SoftHSM (Debian's softhsm2, deploy/local/prereqs.sh).

A token is initialised in a directory of this test (``SOFTHSM2_CONF``), the lender's demo key
and certificate (``forbear_agreement.keys``) are imported into it, and the agreement PDF is
signed through ``pades.load_signer`` with ``FORBEAR_AGREEMENT_SIGNING_BACKEND=pkcs11``, then
verified as the service verifies a presented PDF: intact, covering the file, chained to the
trust root, the document hash and the consent matching.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from forbear_agreement.adapters import pades
from forbear_agreement.domain.verification import verdict
from forbear_agreement.keys import DemoKeys, ensure_demo_keys
from forbear_shared.settings import Settings
from pydantic import SecretStr

from tests.support.agreement_pdf import CONSENT, SHA, rendered

SOFTHSM_UTIL = shutil.which("softhsm2-util")
MODULES = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")
MODULE = next((m for m in MODULES if Path(m).is_file()), None)
TOKEN = "forbear-lender"
KEY_LABEL = "lender-agreements"
USER_PIN = "461729"
SO_PIN = "83920174"

pytestmark = pytest.mark.skipif(
    SOFTHSM_UTIL is None or MODULE is None,
    reason="SoftHSM is missing: install Debian's softhsm2 (deploy/local/prereqs.sh)")


def softhsm(*args: str, conf: Path) -> str:
    done = subprocess.run([SOFTHSM_UTIL or "softhsm2-util", *args], capture_output=True, text=True, check=False,
                          env={**os.environ, "SOFTHSM2_CONF": str(conf)})
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def import_certificate(module: str, der: bytes, subject: bytes, label: str, ident: bytes) -> None:
    """softhsm2-util imports keys only; the certificate objects are written over PKCS#11."""
    import pkcs11
    from pkcs11 import Attribute, CertificateType, ObjectClass

    token = pkcs11.lib(module).get_token(token_label=TOKEN)
    with token.open(rw=True, user_pin=USER_PIN) as session:
        session.create_object({
            Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
            Attribute.TOKEN: True, Attribute.PRIVATE: False, Attribute.LABEL: label, Attribute.ID: ident,
            Attribute.SUBJECT: subject, Attribute.VALUE: der,
        })


@pytest.fixture(scope="module")
def lender_keys(tmp_path_factory: pytest.TempPathFactory) -> DemoKeys:
    return ensure_demo_keys(Path(tmp_path_factory.mktemp("lender-ca-pkcs11")))


@pytest.fixture(scope="module")
def token(lender_keys: DemoKeys, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A SoftHSM token holding the lender's key (never extractable) and its certificate, with the
    CA's certificate beside it; SOFTHSM2_CONF points this process's library at it."""
    assert MODULE is not None
    home = Path(tmp_path_factory.mktemp("softhsm"))
    (home / "tokens").mkdir()
    conf = home / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {home / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    softhsm("--init-token", "--free", "--label", TOKEN, "--so-pin", SO_PIN, "--pin", USER_PIN, conf=conf)

    key, cert, chain = pkcs12.load_key_and_certificates(lender_keys.pkcs12.read_bytes(),
                                                         lender_keys.passphrase().encode("utf-8"))
    assert key is not None and cert is not None and len(chain) == 1
    pem = home / "lender-key.p8"
    fd = os.open(pem, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    try:
        softhsm("--import", str(pem), "--token", TOKEN, "--label", KEY_LABEL, "--id", "01", "--pin", USER_PIN,
                conf=conf)
    finally:
        pem.unlink()  # the key now lives in the token only

    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)  # read when this process first loads the module
    try:
        der = serialization.Encoding.DER
        import_certificate(MODULE, cert.public_bytes(der), cert.subject.public_bytes(), KEY_LABEL, b"\x01")
        ca = chain[0]
        import_certificate(MODULE, ca.public_bytes(der), ca.subject.public_bytes(), "lender-ca", b"\x02")
        yield conf
    finally:
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous


def pkcs11_settings(keys: DemoKeys, **values: Any) -> Settings:
    configured: dict[str, Any] = {
        "agreement_signing_backend": "pkcs11", "agreement_signing_pkcs11_module": MODULE,
        "agreement_signing_pkcs11_token_label": TOKEN, "agreement_signing_pkcs11_key_label": KEY_LABEL,
        "agreement_signing_pkcs11_pin": SecretStr(USER_PIN), "agreement_signing_trust_root_file": str(keys.trust_root),
    }
    return Settings(service_name="agreement", database_url="postgresql://unused/unused", kafka_bootstrap="unused:1",
                    **{**configured, **values})


def test_the_token_holds_the_key_unextractable_and_the_two_certificates(token: Path) -> None:
    listed = softhsm("--show-slots", conf=token)
    assert f"Label:            {TOKEN}" in listed
    import pkcs11
    from pkcs11 import Attribute, ObjectClass

    assert MODULE is not None
    with pkcs11.lib(MODULE).get_token(token_label=TOKEN).open(user_pin=USER_PIN) as session:
        (key,) = session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY})
        assert key[Attribute.LABEL] == KEY_LABEL and key[Attribute.SENSITIVE] and not key[Attribute.EXTRACTABLE]
        labels = sorted(c[Attribute.LABEL] for c in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}))
    assert labels == [KEY_LABEL, "lender-ca"]  # sorted: "lender-a…" before "lender-c…"


def test_an_agreement_signed_in_the_token_verifies_as_the_service_verifies_it(
        token: Path, lender_keys: DemoKeys) -> None:
    signer = pades.load_signer(pkcs11_settings(lender_keys))
    assert signer is not None and "Forbear demo lender (agreements)" in signer.subject
    try:
        signed = signer.sign(rendered(), reason="countersigned for the lender")
    finally:
        signer.close()
    result = verdict(pades.inspect(signed, pades.load_trust_roots(str(lender_keys.trust_root))),
                     stored_document_sha256=SHA)
    assert result.reasons == [] and result.valid
    assert result.document_sha256 == result.consent_document_sha256 == SHA and result.consent == CONSENT
    assert "Forbear demo lender (agreements)" in (result.signer or "")
    # and another CA's trust root does not accept it
    stranger = ensure_demo_keys(token.parent / "stranger-ca")
    foreign = verdict(pades.inspect(signed, pades.load_trust_roots(str(stranger.trust_root))),
                      stored_document_sha256=SHA)
    assert not foreign.valid and [r.split(":")[0] for r in foreign.reasons] == ["certificate_not_trusted"]


def test_a_wrong_pin_an_unknown_token_or_key_is_refused_at_start_up_without_the_pin(
        token: Path, lender_keys: DemoKeys) -> None:
    wrong = "000000"
    for values, named in (({"agreement_signing_pkcs11_pin": SecretStr(wrong)}, "PIN"),
                          ({"agreement_signing_pkcs11_token_label": "no-such-token"}, "no-such-token"),
                          ({"agreement_signing_pkcs11_key_label": "no-such-key"}, "no-such-key")):
        with pytest.raises(pades.SigningNotConfigured, match=named) as refused:
            pades.load_signer(pkcs11_settings(lender_keys, **values))
        assert wrong not in str(refused.value) and USER_PIN not in str(refused.value)

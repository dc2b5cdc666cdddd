"""``python -m forbear_agreement``: verify a signed agreement PDF offline; make the demo keys.

    python -m forbear_agreement verify FILE.pdf [--trust-root CA.pem] [--document-sha256 HEX]
    python -m forbear_agreement demo-keys DIR      (prints the FORBEAR_AGREEMENT_SIGNING_* variables)

``verify`` prints the same answer as ``POST /agreement-verifications`` and exits 0 when the PDF is
valid, 1 when it is not, 2 when the file cannot be read. Offline there is no agreement on
record: give the stored hash with ``--document-sha256`` (``GET /agreements/{id}`` shows it);
without it the attached JSON is checked against the consent record and the signature only,
and the answer says so (``checked_against_record: false``). The trust root defaults to
``FORBEAR_AGREEMENT_SIGNING_TRUST_ROOT_FILE``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import sys
from pathlib import Path

from forbear_agreement.adapters import pades
from forbear_agreement.domain import verification
from forbear_agreement.keys import ensure_demo_keys


def verify(path: Path, trust_root: str | None, document_sha256: str | None) -> int:
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        roots = pades.load_trust_roots(trust_root)
        facts = pades.inspect(data, roots)
    except (pades.NotAPdf, pades.SigningNotConfigured) as exc:
        print(json.dumps({"valid": False, "reasons": [f"not_a_pdf: {exc}"]}, indent=2, ensure_ascii=False))
        return 2
    result = verification.verdict(facts, stored_document_sha256=document_sha256.lower() if document_sha256 else None,
                                  with_record=document_sha256 is not None)
    print(json.dumps(dataclasses.asdict(result), indent=2, ensure_ascii=False))
    return 0 if result.valid else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forbear_agreement")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("verify", help="verify a signed agreement PDF")
    check.add_argument("file", type=Path)
    check.add_argument("--trust-root", default=os.environ.get("FORBEAR_AGREEMENT_SIGNING_TRUST_ROOT_FILE"),
                       help="the CA certificate (PEM) the signer must chain to")
    check.add_argument("--document-sha256", help="the document hash on record for the agreement")
    demo = commands.add_parser("demo-keys", help="make a demo CA and lender PKCS#12 once under DIR")
    demo.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    if args.command == "verify":
        return verify(args.file, args.trust_root, args.document_sha256)
    keys = ensure_demo_keys(args.directory)
    for name, value in keys.env().items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

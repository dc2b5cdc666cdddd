"""A lender's mail relay and SMS gateway, for real, on 127.0.0.1: the signing-code senders' peers.

``SmtpRelay`` is aiosmtpd (an SMTP server, in this process) with STARTTLS or implicit TLS and
a login; ``HttpGateway`` is the standard library's HTTP server behind TLS, answering what the
test tells it to. Both present a certificate for 127.0.0.1 issued by a CA made for the test
(``forbear_agreement.keys.make_ca``), which the sender is given as its CA file.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from forbear_agreement.keys import make_ca

LOCALHOST = "127.0.0.1"


@dataclass(frozen=True)
class Tls:
    """A CA file for the client and a server certificate for 127.0.0.1 under it."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_tls(directory: Path, common: str = "relay.lender.test") -> Tls:
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = make_ca(common=f"{common} test CA", org="Lender relay")
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)  # certificate validity is technical time
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)]))
        .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOCALHOST))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    tls = Tls(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    tls.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    tls.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tls.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return tls


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOCALHOST, 0))
        return int(s.getsockname()[1])


# -- SMTP -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    """One message as the relay received it: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: str | None

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())  # type: ignore[attr-defined]


@dataclass
class SmtpRelay:
    user: str
    password: str
    port: int
    delivered: list[Delivered] = field(default_factory=list)
    #: every login attempted, right or wrong (the test asserts the sender logged in)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        self.delivered.append(Delivered(envelope.mail_from, list(envelope.rcpt_tos), message,  # type: ignore[arg-type]
                                        login))
        return "250 Message accepted"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        self.logins.append(auth_data.login.decode())
        ok = auth_data.login.decode() == self.user and auth_data.password.decode() == self.password
        if not ok:  # handled=False: aiosmtpd answers 535 itself
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=auth_data.login)


@contextmanager
def smtp_relay(tls: Tls, *, mode: Literal["starttls", "implicit"] = "starttls", user: str = "forbear-agreement",
               password: str = "relay-password-7Qx2", port: int | None = None) -> Iterator[SmtpRelay]:
    """A relay that requires TLS (STARTTLS before AUTH, or TLS from the first byte) and a login,
    on ``port`` (a free one by default)."""
    relay = SmtpRelay(user=user, password=password, port=port or free_port())
    context = tls.server_context()
    # aiosmtpd's auth_require_tls looks for STARTTLS only: with implicit TLS every byte, the
    # login's too, is already inside TLS (it warns so on each connection: tests filter that)
    options: dict[str, Any] = {"ssl_context": context, "auth_require_tls": False} if mode == "implicit" else {
        "tls_context": context, "require_starttls": True, "auth_require_tls": True}
    controller = Controller(relay, hostname=LOCALHOST, port=relay.port, authenticator=relay.authenticate,
                            auth_required=True, server_hostname="relay.lender.test", **options)
    controller.start()
    try:
        yield relay
    finally:
        controller.stop()


# -- HTTP -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class HttpGateway:
    port: int
    #: what the gateway answers next, and how long it thinks first
    status: int = 202
    delay_seconds: float = 0.0
    posted: list[Posted] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://{LOCALHOST}:{self.port}/v1/messages"


@contextmanager
def http_gateway(tls: Tls) -> Iterator[HttpGateway]:
    gateway = HttpGateway(port=free_port())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's hook
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            gateway.posted.append(Posted(self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(raw)))
            time.sleep(gateway.delay_seconds)
            answer = json.dumps({"accepted": 200 <= gateway.status < 300}).encode()
            try:
                self.send_response(gateway.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass  # the sender gave up waiting

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            pass

    server = ThreadingHTTPServer((LOCALHOST, gateway.port), Handler)
    server.daemon_threads = True
    server.socket = tls.server_context().wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

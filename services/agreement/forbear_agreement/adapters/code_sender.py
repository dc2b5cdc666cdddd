"""Delivery of the borrower's one-time signing code: the port, and the adapter configuration selects.

A real delivery is the lender's SMS or e-mail gateway: it knows the borrower's phone and address
(this service holds ids, never contact details), so a message names the borrower by id and the
gateway resolves the recipient. ``FORBEAR_SIGNING_CODE_SENDER`` selects:

- ``smtp``: ``SmtpSender`` hands the message to the lender's mail relay (STARTTLS or implicit
  TLS, a login), addressed by a template naming the borrower by id
  (``{borrower_id}@sms-relay.lender.example``: the relay maps it to the phone or mailbox);
- ``http``: ``HttpSender`` posts it as JSON to the lender's SMS/notification gateway, with a
  bearer token and the code's id as the ``Idempotency-Key``;
- ``dev_mailbox``: ``DevMailboxSender`` writes it to the local mailbox file
  (``forbear_shared.dev_mailbox``) that the demo and the tests read; production refuses it.

The sender is called inside the use case's transaction: a delivery that fails rolls the code
back (no code is kept that nobody received) and the request is answered with a problem:
502 ``signing_code_not_delivered`` when the relay or gateway answered and refused, 503
``signing_code_gateway_unavailable`` when it did not answer. The code itself never reaches a
log, and neither does the password or token.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Literal, Protocol

import httpx
from forbear_shared import dev_mailbox
from forbear_shared.errors import ForbearError
from forbear_shared.settings import Settings
from pydantic import SecretStr

log = logging.getLogger(__name__)

#: what a borrower id may be to stand in an address (ours are ``brw-…``, a lender's ``B-1``)
_ADDRESSABLE_ID = re.compile(r"[A-Za-z0-9._+-]{1,64}")


@dataclass(frozen=True)
class SigningCodeMessage:
    agreement_id: str
    borrower_id: str
    channel: str
    expires_at: dt.datetime
    code: str
    text: str
    #: the issued code's id (``otp-…``): names the message at the relay or gateway, never the code
    code_id: str

    def __repr__(self) -> str:  # never print the code, even in a traceback's locals
        return f"SigningCodeMessage(agreement_id={self.agreement_id!r}, channel={self.channel!r}, code=***)"


class CodeNotDelivered(ForbearError):
    """The relay or gateway did not take the message: 502 when it answered with a refusal,
    503 when it could not be reached in time. The detail names neither the code nor a secret."""

    def __init__(self, status: Literal[502, 503], reason: str, message: str) -> None:
        super().__init__(reason, message)
        self.status_code = status


def refused(what: str) -> CodeNotDelivered:
    return CodeNotDelivered(502, "signing_code_not_delivered", f"the signing code was not sent: {what}; try again later")


def unreachable(what: str) -> CodeNotDelivered:
    return CodeNotDelivered(503, "signing_code_gateway_unavailable",
                            f"the signing code was not sent: {what}; try again later")


class CodeSender(Protocol):
    def send(self, message: SigningCodeMessage) -> None:
        """Deliver the message to the borrower, or raise (the code is then not issued)."""


@dataclass(frozen=True)
class DevMailboxSender:
    """Development sink: appends the message to a JSON-lines file (never a delivery)."""

    path: Path

    def send(self, message: SigningCodeMessage) -> None:
        dev_mailbox.append(self.path, {
            "kind": "signing_code",
            "agreement_id": message.agreement_id,
            "borrower_id": message.borrower_id,
            "channel": message.channel,
            "expires_at": message.expires_at.isoformat(),
            "code": message.code,
            "text": message.text,
        })


def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Certificate and host name checked, against ``ca_file`` or the system's trust store."""
    return ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()


@dataclass(frozen=True)
class SmtpSender:
    """The lender's mail relay (standard library ``smtplib``): one message per code, addressed by
    the borrower's id; the relay turns it into an SMS or an e-mail to the contact on file."""

    host: str
    port: int
    tls: Literal["starttls", "implicit", "none"]
    sender: str
    recipient_template: str
    subject: str
    timeout: float
    user: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    ca_file: str | None = None

    def recipient(self, borrower_id: str) -> str:
        if not _ADDRESSABLE_ID.fullmatch(borrower_id):
            raise refused("the borrower id cannot be put in an address")
        return self.recipient_template.replace("{borrower_id}", borrower_id)

    def mail(self, message: SigningCodeMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = self.recipient(message.borrower_id)
        mail["Subject"] = self.subject
        mail["Date"] = formatdate(usegmt=True)
        domain = self.sender.rpartition("@")[2] or "forbear.invalid"
        mail["Message-ID"] = f"<{message.code_id}@{domain}>"  # a relay that sees it twice can tell
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to the relay
        mail["Content-Language"] = "zh-CN, en"
        mail["X-Forbear-Channel"] = message.channel  # sms or email: which contact the relay uses
        mail.set_content(message.text, charset="utf-8")
        return mail

    def send(self, message: SigningCodeMessage) -> None:
        mail = self.mail(message)
        context = _tls_context(self.ca_file)
        try:
            if self.tls == "implicit":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.tls == "starttls":
                    smtp.starttls(context=context)
                if self.user is not None and self.password is not None:
                    smtp.login(self.user, self.password.get_secret_value())
                smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            log.warning("signing code not sent: the mail relay refused the login",
                        extra={"agreement_id": message.agreement_id, "smtp_code": exc.smtp_code})
            raise refused("the mail relay refused the service's login") from None
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
                smtplib.SMTPNotSupportedError, smtplib.SMTPHeloError) as exc:
            log.warning("signing code not sent: the mail relay refused the message",
                        extra={"agreement_id": message.agreement_id, "error": type(exc).__name__})
            raise refused("the mail relay refused the message") from None
        except (smtplib.SMTPException, OSError) as exc:  # refused connection, timeout, TLS, a dropped line
            log.warning("signing code not sent: the mail relay is unreachable",
                        extra={"agreement_id": message.agreement_id, "error": type(exc).__name__})
            raise unreachable("the mail relay did not answer") from None


@dataclass(frozen=True)
class HttpSender:
    """The lender's SMS/notification gateway: a JSON POST per code with a bearer token; the
    code's id is the ``Idempotency-Key``, so a gateway that sees the message twice sends it once."""

    url: str
    timeout: float
    token: SecretStr | None = field(default=None, repr=False)
    ca_file: str | None = None

    def body(self, message: SigningCodeMessage) -> dict[str, str]:
        return {"message_id": message.code_id, "purpose": "agreement_signing_code",
                "borrower_id": message.borrower_id, "channel": message.channel,
                "agreement_id": message.agreement_id, "expires_at": message.expires_at.isoformat(),
                "language": "zh-CN", "text": message.text}

    def send(self, message: SigningCodeMessage) -> None:
        headers = {"Idempotency-Key": message.code_id}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token.get_secret_value()}"
        try:
            answer = httpx.post(self.url, json=self.body(message), headers=headers, timeout=self.timeout,
                                verify=_tls_context(self.ca_file), follow_redirects=False)
        except httpx.HTTPError as exc:  # refused connection, timeout, TLS
            log.warning("signing code not sent: the gateway is unreachable",
                        extra={"agreement_id": message.agreement_id, "error": type(exc).__name__})
            raise unreachable("the gateway did not answer") from None
        if not answer.is_success:
            log.warning("signing code not sent: the gateway refused the message",
                        extra={"agreement_id": message.agreement_id, "http_status": answer.status_code})
            raise refused(f"the gateway answered {answer.status_code}")


def from_settings(settings: Settings) -> CodeSender:
    if settings.signing_code_sender == "smtp":
        assert settings.signing_code_smtp_host and settings.signing_code_smtp_from  # settings validated them
        assert settings.signing_code_smtp_recipient_template
        return SmtpSender(
            host=settings.signing_code_smtp_host, port=settings.signing_code_smtp_port,
            tls=settings.signing_code_smtp_tls, sender=settings.signing_code_smtp_from,
            recipient_template=settings.signing_code_smtp_recipient_template,
            subject=settings.signing_code_smtp_subject, timeout=settings.signing_code_smtp_timeout_seconds,
            user=settings.signing_code_smtp_user, password=settings.signing_code_smtp_password,
            ca_file=settings.signing_code_smtp_ca_file,
        )
    if settings.signing_code_sender == "http":
        assert settings.signing_code_http_url  # settings validated it
        return HttpSender(url=settings.signing_code_http_url, timeout=settings.signing_code_http_timeout_seconds,
                          token=settings.signing_code_http_token, ca_file=settings.signing_code_http_ca_file)
    if settings.signing_code_sender == "dev_mailbox":
        if settings.environment == "production":
            raise ValueError("FORBEAR_SIGNING_CODE_SENDER=dev_mailbox is a development sink; production needs "
                             "the lender's SMS/e-mail gateway adapter")
        return DevMailboxSender(Path(settings.dev_mailbox_file))
    raise ValueError(f"unknown FORBEAR_SIGNING_CODE_SENDER {settings.signing_code_sender!r}")

"""Delivery of the borrower's one-time signing code: the port, and the adapter configuration selects.

A real delivery is the lender's SMS or e-mail gateway: it knows the borrower's phone and address
(this service holds ids, never contact details), so a message names the borrower by id and the
gateway resolves the recipient. Forbear ships the port and one development adapter,
``DevMailboxSender``, which writes the message to the local mailbox file
(``forbear_shared.dev_mailbox``) that the demo and the tests read; production refuses it, so a
lender cannot go live without wiring its gateway here.

The sender is called inside the use case's transaction: a delivery that fails rolls the code
back (no code is kept that nobody received). The code itself never reaches a log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from forbear_shared import dev_mailbox
from forbear_shared.settings import Settings


@dataclass(frozen=True)
class SigningCodeMessage:
    agreement_id: str
    borrower_id: str
    channel: str
    expires_at: dt.datetime
    code: str
    text: str

    def __repr__(self) -> str:  # never print the code, even in a traceback's locals
        return f"SigningCodeMessage(agreement_id={self.agreement_id!r}, channel={self.channel!r}, code=***)"


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


def from_settings(settings: Settings) -> CodeSender:
    if settings.signing_code_sender == "dev_mailbox":
        if settings.environment == "production":
            raise ValueError("FORBEAR_SIGNING_CODE_SENDER=dev_mailbox is a development sink; production needs "
                             "the lender's SMS/e-mail gateway adapter")
        return DevMailboxSender(Path(settings.dev_mailbox_file))
    raise ValueError(f"unknown FORBEAR_SIGNING_CODE_SENDER {settings.signing_code_sender!r}")

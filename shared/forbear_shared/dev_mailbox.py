"""The development mailbox: messages to borrowers written to a local JSON-lines file.

A development and test sink only, never a delivery: a lender's messages go through its SMS or
e-mail gateway. The agreement service writes the borrower's one-time signing codes here when
``FORBEAR_SIGNING_CODE_SENDER=dev_mailbox`` (refused in production); ``make run``'s simulator,
the journeys and the tests read them back with ``latest_message``. Each line is one message:
``{"at", "kind", "agreement_id", "borrower_id", "channel", "expires_at", "code", "text"}``.

Several processes (API replicas) append at once: each line is written under an exclusive
``flock`` in one ``write`` on a file opened for appending.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

DEFAULT_PATH = "/var/tmp/forbear/dev-mailbox.jsonl"


def mailbox_path() -> Path:
    """The mailbox the local services write to (``FORBEAR_DEV_MAILBOX_FILE``, as in their settings)."""
    return Path(os.environ.get("FORBEAR_DEV_MAILBOX_FILE", DEFAULT_PATH))


def append(path: Path, message: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(message, ensure_ascii=False, sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line)
    finally:
        os.close(fd)


def messages(path: Path | None = None) -> list[dict[str, Any]]:
    target = path or mailbox_path()
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def latest_message(agreement_id: str, path: Path | None = None, kind: str = "signing_code") -> dict[str, Any] | None:
    """The newest message of ``kind`` about ``agreement_id``, or None."""
    found = [m for m in messages(path) if m.get("agreement_id") == agreement_id and m.get("kind") == kind]
    return found[-1] if found else None


def latest_code(agreement_id: str, path: Path | None = None) -> str:
    """The newest signing code sent for the agreement (what the borrower would type)."""
    message = latest_message(agreement_id, path)
    if message is None:
        raise LookupError(f"no signing code in the dev mailbox {path or mailbox_path()} for {agreement_id}")
    return str(message["code"])

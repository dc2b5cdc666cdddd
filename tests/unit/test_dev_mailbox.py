"""The development mailbox the agreement service writes the borrower's signing codes to."""

from __future__ import annotations

import datetime as dt
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from forbear_agreement.adapters.code_sender import DevMailboxSender, SigningCodeMessage
from forbear_shared import dev_mailbox
from forbear_shared.domain.policy import SigningCodePolicy, parse_policy
from forbear_shared.policy_loader import load_policy, read_policy_text


def message(agreement_id: str, code: str) -> SigningCodeMessage:
    return SigningCodeMessage(agreement_id=agreement_id, borrower_id="B-1", channel="sms", code=code, text=f"code {code}",
                              code_id=f"otp-{agreement_id}-{code}",
                              expires_at=dt.datetime(2026, 1, 5, 9, 10, tzinfo=dt.UTC))


def test_the_newest_code_of_each_agreement_is_read_back(tmp_path: Path) -> None:
    box = tmp_path / "nested" / "mailbox.jsonl"
    sender = DevMailboxSender(box)
    sender.send(message("agr-1", "000111"))
    sender.send(message("agr-2", "222333"))
    sender.send(message("agr-1", "444555"))
    assert dev_mailbox.latest_code("agr-1", box) == "444555"
    assert dev_mailbox.latest_code("agr-2", box) == "222333"
    assert dev_mailbox.latest_message("agr-2", box)["expires_at"] == "2026-01-05T09:10:00+00:00"  # type: ignore[index]
    with pytest.raises(LookupError):
        dev_mailbox.latest_code("agr-3", box)


def test_messages_written_at_once_stay_whole_lines(tmp_path: Path) -> None:
    box = tmp_path / "mailbox.jsonl"
    sender = DevMailboxSender(box)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: sender.send(message(f"agr-{i}", f"{i:06d}")), range(200)))
    assert sorted(m["code"] for m in dev_mailbox.messages(box)) == [f"{i:06d}" for i in range(200)]


def test_a_message_never_shows_its_code_in_a_repr() -> None:
    assert "123456" not in repr(message("agr-1", "123456"))


def test_a_policy_without_a_signing_code_section_gets_the_defaults() -> None:
    data = tomllib.loads(read_policy_text())
    del data["signing_code"]
    assert parse_policy(data).signing_code == SigningCodePolicy() == load_policy().signing_code
    assert SigningCodePolicy().model_dump() == {"expiry_minutes": 10, "max_attempts": 5, "resend_after_seconds": 60,
                                                "max_per_day": 5}

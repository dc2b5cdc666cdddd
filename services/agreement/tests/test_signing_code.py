"""The borrower's one-time signing code as specifications: issue, bind, expire, count, use once.

Numbers from the demo lender's policy ``[signing_code]``: 10 minutes, 5 attempts, one code a
minute, 5 codes in any 24 hours per agreement.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pytest
from forbear_agreement.domain import signing, signing_code
from forbear_agreement.domain.signing_code import Channel, CodeRefusal, CodeStatus, StoredCode, TooManyCodes
from forbear_shared.errors import Unprocessable
from forbear_shared.policy_loader import load_policy
from hypothesis import given
from hypothesis import strategies as st

RULES = load_policy().signing_code
SECRET = b"a-test-secret-of-some-length-000"
AGREEMENT = "agr-1"
DOC = "ab" * 32
OTHER_DOC = "cd" * 32
ISSUED = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def stored(code: str = "042917", *, attempts: int = 0, status: CodeStatus = CodeStatus.LIVE,
           document: str = DOC, agreement: str = AGREEMENT) -> StoredCode:
    return StoredCode(
        code_id="otp-1", status=status, attempts=attempts, max_attempts=RULES.max_attempts, channel=Channel.SMS,
        digest=signing_code.code_digest(SECRET, agreement_id=agreement, document_sha256=document, code=code),
        document_sha256=document, expires_at=signing_code.expires_at(ISSUED, RULES),
    )


def presented(code: str, *, document: str = DOC, agreement: str = AGREEMENT) -> str:
    return signing_code.code_digest(SECRET, agreement_id=agreement, document_sha256=document, code=code)


def test_the_demo_policy_gives_ten_minutes_five_attempts_one_a_minute_five_a_day() -> None:
    assert (RULES.expiry_minutes, RULES.max_attempts, RULES.resend_after_seconds, RULES.max_per_day) == (10, 5, 60, 5)


# -- issuing ------------------------------------------------------------------------------


def test_a_code_is_six_digits_and_keeps_its_leading_zeros() -> None:
    assert signing_code.new_code(lambda n: 42) == "000042"
    assert signing_code.new_code(lambda n: n - 1) == "999999"
    drawn = {signing_code.new_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in drawn) and len(drawn) > 150


def test_only_a_keyed_hash_is_kept_never_the_code() -> None:
    digest = presented("042917")
    # HMAC-SHA256 over (purpose, agreement, document, code), computed here independently
    expected = hmac.new(SECRET, f"forbear-signing-code-v1\x1f{AGREEMENT}\x1f{DOC}\x1f042917".encode(),
                        hashlib.sha256).hexdigest()
    assert digest == expected and "042917" not in digest
    # without the secret the six digits cannot be found by hashing all of them
    assert hashlib.sha256(b"042917").hexdigest() != digest
    assert signing_code.code_digest(b"another-secret", agreement_id=AGREEMENT, document_sha256=DOC,
                                    code="042917") != digest


def test_the_digest_binds_the_code_to_its_agreement_and_document() -> None:
    assert presented("042917", document=OTHER_DOC) != presented("042917")
    assert presented("042917", agreement="agr-2") != presented("042917")


def test_the_message_tells_the_borrower_the_code_its_life_and_never_to_share_it() -> None:
    text = signing_code.message_text("042917", RULES)
    assert "042917" in text and "10分钟" in text and "请勿告知他人" in text and "10 minutes" in text


def test_a_second_code_within_a_minute_is_refused_with_the_seconds_to_wait() -> None:
    with pytest.raises(TooManyCodes) as refused:
        signing_code.check_may_issue([ISSUED], ISSUED + dt.timedelta(seconds=45), RULES)
    assert refused.value.reason == "code_requested_too_soon" and refused.value.retry_after_seconds == 15
    signing_code.check_may_issue([ISSUED], ISSUED + dt.timedelta(seconds=60), RULES)


def test_the_sixth_code_in_24_hours_is_refused_until_the_first_is_a_day_old() -> None:
    # codes at 09:00, 10:00, 11:00, 12:00, 13:00: the sixth waits until the 09:00 one is 24 h old
    issued = [ISSUED + dt.timedelta(hours=h) for h in range(5)]
    with pytest.raises(TooManyCodes) as refused:
        signing_code.check_may_issue(issued, ISSUED + dt.timedelta(hours=20), RULES)
    assert refused.value.reason == "code_daily_limit"
    assert refused.value.retry_after_seconds == 4 * 3600 + 1  # 09:00 next day is 4 h after 05:00
    signing_code.check_may_issue(issued, ISSUED + dt.timedelta(hours=24), RULES)


# -- verifying ----------------------------------------------------------------------------


def test_the_right_code_within_its_life_is_accepted_and_becomes_used() -> None:
    check = signing_code.verify(stored(), presented_digest=presented("042917"), document_sha256=DOC,
                                now=ISSUED + dt.timedelta(minutes=9, seconds=59))
    assert check.accepted and check.status is CodeStatus.USED and check.attempts == 0


def test_a_code_dies_at_ten_minutes() -> None:
    check = signing_code.verify(stored(), presented_digest=presented("042917"), document_sha256=DOC,
                                now=ISSUED + dt.timedelta(minutes=10))
    assert check.refusal is CodeRefusal.EXPIRED and check.attempts == 0


def test_each_wrong_entry_costs_an_attempt_and_the_fifth_kills_the_code() -> None:
    code = stored()
    for left in (4, 3, 2, 1):
        check = signing_code.verify(code, presented_digest=presented("111111"), document_sha256=DOC, now=ISSUED)
        assert (check.refusal, check.attempts_left, check.status) == (CodeRefusal.WRONG, left, CodeStatus.LIVE)
        code = stored(attempts=check.attempts)
    fifth = signing_code.verify(code, presented_digest=presented("111111"), document_sha256=DOC, now=ISSUED)
    assert (fifth.refusal, fifth.attempts_left, fifth.status) == (CodeRefusal.WRONG, 0, CodeStatus.EXHAUSTED)
    # now even the right code is refused, and no further attempt is counted
    dead = signing_code.verify(stored(attempts=5, status=CodeStatus.EXHAUSTED), presented_digest=presented("042917"),
                               document_sha256=DOC, now=ISSUED)
    assert dead.refusal is CodeRefusal.EXHAUSTED and not dead.changed


def test_a_code_signs_once() -> None:
    check = signing_code.verify(stored(status=CodeStatus.USED), presented_digest=presented("042917"),
                                document_sha256=DOC, now=ISSUED)
    assert check.refusal is CodeRefusal.USED and not check.changed


def test_a_code_issued_for_one_document_does_not_sign_another() -> None:
    check = signing_code.verify(stored(document=DOC), presented_digest=presented("042917", document=OTHER_DOC),
                                document_sha256=OTHER_DOC, now=ISSUED)
    assert check.refusal is CodeRefusal.OTHER_DOCUMENT and check.attempts == 0


def test_no_code_issued_and_a_superseded_code_are_refused() -> None:
    assert signing_code.verify(None, presented_digest=presented("042917"), document_sha256=DOC,
                               now=ISSUED).refusal is CodeRefusal.NOT_ISSUED
    assert signing_code.verify(stored(status=CodeStatus.SUPERSEDED), presented_digest=presented("042917"),
                               document_sha256=DOC, now=ISSUED).refusal is CodeRefusal.NOT_ISSUED


def test_the_borrower_needs_a_code_and_the_lender_takes_none() -> None:
    with pytest.raises(Unprocessable) as missing:
        signing_code.check_presence(True, None)
    assert missing.value.reason == "one_time_code_required"
    with pytest.raises(Unprocessable) as lender:
        signing_code.check_presence(False, "042917")
    assert lender.value.reason == "one_time_code_not_for_lender"


@given(code=st.from_regex(r"[0-9]{6}", fullmatch=True), wrong=st.from_regex(r"[0-9]{6}", fullmatch=True))
def test_only_the_issued_code_is_accepted(code: str, wrong: str) -> None:
    check = signing_code.verify(stored(code), presented_digest=presented(wrong), document_sha256=DOC, now=ISSUED)
    assert check.accepted is (code == wrong)


# -- the consent record -------------------------------------------------------------------


def test_the_consent_record_says_who_when_how_and_what_was_signed_in_json_types() -> None:
    row = {"party": "borrower", "signed_by": "agent-zhao", "signed_role": "agent", "on_behalf_of_borrower": True,
           "signed_on": dt.date(2026, 1, 6),
           "signed_at": dt.datetime(2026, 1, 6, 17, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))),
           "channel": "sms", "otp_verified": True, "document_sha256": DOC}
    record = signing.consent_record(row, agreement_id="agr-1")
    assert record == {
        "type": "forbear.borrower_consent", "agreement_id": "agr-1", "party": "borrower",
        "signed_by": "agent-zhao", "signed_role": "agent", "on_behalf_of_borrower": True,
        "signed_on": "2026-01-06", "signed_at": "2026-01-06T09:30:00+00:00",  # 17:30 in Beijing is 09:30 UTC
        "channel": "sms", "otp_verified": True, "document_sha256": DOC,
    }

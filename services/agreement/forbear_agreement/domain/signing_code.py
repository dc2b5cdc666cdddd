"""The borrower's one-time signing code: the evidence that the borrower consented to one document.

A code is sent to the borrower's own phone or mailbox (``Channel``) and typed back when the
borrower signs, by the borrower in the portal or read out to the agent who records a signature
taken at a branch or by phone. A code shown to the agent would prove nothing of the borrower,
so there is no "in person" delivery: every code reaches the borrower through the lender's gateway.

What is kept is never the code: only ``code_digest``, an HMAC-SHA256 under the service's secret
over the agreement id, the document's sha256 and the code, so that
- a database reader cannot recover a code (10^6 candidates are nothing against a bare hash;
  they are nothing without the secret either);
- a code issued for one agreement or one version of its document cannot sign another.

Clocks: expiry, the resend interval and the 24-hour limit are counted on the technical clock
(``uow.now()``), not on the lender's business date: a security code must die minutes after it
was sent, whatever day close of business says it is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from forbear_shared.domain.policy import SigningCodePolicy
from forbear_shared.errors import ForbearError, Unprocessable

CODE_DIGITS = 6


class Channel(StrEnum):
    """Where the code is delivered: the borrower's contact on file with the lender."""

    SMS = "sms"
    EMAIL = "email"


class CodeStatus(StrEnum):
    LIVE = "live"
    USED = "used"
    #: the last allowed wrong entry was made
    EXHAUSTED = "exhausted"
    #: a newer code was issued for the same agreement: only the newest one signs
    SUPERSEDED = "superseded"


class CodeRefusal(StrEnum):
    REQUIRED = "one_time_code_required"
    NOT_FOR_LENDER = "one_time_code_not_for_lender"
    NOT_ISSUED = "code_not_issued"
    WRONG = "code_wrong"
    EXPIRED = "code_expired"
    USED = "code_used"
    EXHAUSTED = "code_attempts_exhausted"
    OTHER_DOCUMENT = "code_for_another_document"


class TooManyCodes(ForbearError):
    """Issuing refused by the rate limit (HTTP 429, with the seconds to wait)."""

    status_code = 429

    def __init__(self, reason: str, message: str, retry_after_seconds: int) -> None:
        super().__init__(reason, message)
        self.retry_after_seconds = retry_after_seconds


# -- issuing ------------------------------------------------------------------------------


def new_code(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """Six decimal digits from the operating system's CSPRNG (``secrets``), leading zeros kept."""
    return f"{randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def code_digest(secret: bytes, *, agreement_id: str, document_sha256: str, code: str) -> str:
    """HMAC-SHA256 (hex) of the code bound to one agreement and one document version."""
    if not secret:
        raise ValueError("the signing-code secret is empty")
    message = "\x1f".join(("forbear-signing-code-v1", agreement_id, document_sha256.lower(), code))
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def expires_at(issued_at: dt.datetime, policy: SigningCodePolicy) -> dt.datetime:
    return issued_at + dt.timedelta(minutes=policy.expiry_minutes)


def check_may_issue(issued: Sequence[dt.datetime], now: dt.datetime, policy: SigningCodePolicy) -> None:
    """Refuse a new code sooner than ``resend_after_seconds`` after the last one, or past
    ``max_per_day`` codes in the last 24 hours (rolling, on the technical clock)."""
    recent = sorted(t for t in issued if now - t < dt.timedelta(hours=24))
    if recent:
        wait = policy.resend_after_seconds - int((now - recent[-1]).total_seconds())
        if wait > 0:
            raise TooManyCodes("code_requested_too_soon",
                               f"a code was sent less than {policy.resend_after_seconds} s ago; retry in {wait} s", wait)
    if len(recent) >= policy.max_per_day:
        wait = int((recent[-policy.max_per_day] + dt.timedelta(hours=24) - now).total_seconds()) + 1
        raise TooManyCodes("code_daily_limit",
                           f"{policy.max_per_day} codes were sent for this agreement in the last 24 hours", wait)


def message_text(code: str, policy: SigningCodePolicy) -> str:
    """What the borrower receives (Chinese first): the code, its life, and never to share it."""
    minutes = policy.expiry_minutes
    return (f"【签署验证码】{code}，{minutes}分钟内有效，仅用于签署您的还款协议，请勿告知他人（工作人员不会向您索要）。"
            f" Your agreement signing code is {code}, valid {minutes} minutes. Do not share it; "
            "staff will only ask you for it while recording your signature.")


# -- verifying ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredCode:
    """A code as kept: its digest, what it is bound to, its clock and its attempts."""

    code_id: str
    digest: str
    document_sha256: str
    channel: Channel
    status: CodeStatus
    expires_at: dt.datetime
    attempts: int
    max_attempts: int


@dataclass(frozen=True)
class CodeCheck:
    """The verdict on one presented code and what must be recorded whatever it is."""

    refusal: CodeRefusal | None
    #: wrong entries after this one (what is written back)
    attempts: int
    #: the code's status after this check (used when accepted, exhausted on the last wrong entry)
    status: CodeStatus
    attempts_left: int

    @property
    def accepted(self) -> bool:
        return self.refusal is None

    @property
    def changed(self) -> bool:
        """Whether the stored code must be written back (an attempt counted, or now used)."""
        return self.refusal is None or self.refusal is CodeRefusal.WRONG


def check_presence(party_is_borrower: bool, presented: str | None) -> None:
    """The borrower's signature needs a code; the lender's (a supervisor in the console) takes none."""
    if party_is_borrower and not presented:
        raise Unprocessable(CodeRefusal.REQUIRED.value,
                            "the borrower's signature needs the one-time code sent to the borrower: "
                            "POST /agreements/{id}/signing-code first")
    if not party_is_borrower and presented:
        raise Unprocessable(CodeRefusal.NOT_FOR_LENDER.value, "the lender's signature takes no one-time code")


def verify(stored: StoredCode | None, *, presented_digest: str, document_sha256: str, now: dt.datetime) -> CodeCheck:
    """Check the newest code of the agreement against the one presented.

    The order matters: a dead code (used, exhausted, expired, for another document) is refused
    as such without counting an attempt; only a live code compares digests, in constant time,
    and each wrong entry costs one of its attempts.
    """
    if stored is None:
        return CodeCheck(CodeRefusal.NOT_ISSUED, 0, CodeStatus.LIVE, 0)

    def refused(reason: CodeRefusal, attempts: int = stored.attempts, status: CodeStatus = stored.status) -> CodeCheck:
        return CodeCheck(reason, attempts, status, max(stored.max_attempts - attempts, 0))

    if stored.status is CodeStatus.USED:
        return refused(CodeRefusal.USED)
    if stored.status is CodeStatus.EXHAUSTED or stored.attempts >= stored.max_attempts:
        return refused(CodeRefusal.EXHAUSTED, status=CodeStatus.EXHAUSTED)
    if stored.status is not CodeStatus.LIVE:
        return refused(CodeRefusal.NOT_ISSUED)
    if now >= stored.expires_at:
        return refused(CodeRefusal.EXPIRED)
    if stored.document_sha256 != document_sha256.lower():
        return refused(CodeRefusal.OTHER_DOCUMENT)
    if not hmac.compare_digest(stored.digest.encode(), presented_digest.encode()):
        attempts = stored.attempts + 1
        status = CodeStatus.EXHAUSTED if attempts >= stored.max_attempts else CodeStatus.LIVE
        return refused(CodeRefusal.WRONG, attempts, status)
    return CodeCheck(None, stored.attempts, CodeStatus.USED, max(stored.max_attempts - stored.attempts, 0))


def refusal_detail(check: CodeCheck) -> str:
    reason = check.refusal
    if reason is CodeRefusal.WRONG:
        if check.attempts_left == 0:
            return "wrong code; that was the last attempt: request a new code"
        return f"wrong code; {check.attempts_left} attempt(s) left"
    return {
        CodeRefusal.NOT_ISSUED: "no live code for this agreement: request one",
        CodeRefusal.EXPIRED: "the code has expired: request a new one",
        CodeRefusal.USED: "the code was already used: request a new one",
        CodeRefusal.EXHAUSTED: "too many wrong entries: the code is dead, request a new one",
        CodeRefusal.OTHER_DOCUMENT: "the code was issued for another version of the document: request a new one",
    }.get(reason, "code refused") if reason is not None else ""

"""One agreement, rendered as its PDF: the document the signed-PDF tests sign, verify and tamper with.

6 monthly instalments of 100.00 CNY at 7 %, the borrower's consent given on the portal with a
one-time code; rendered on the business date 9 January 2026 with Debian's CJK font.
"""

from __future__ import annotations

import datetime as dt
from datetime import date
from decimal import Decimal
from typing import Any

from forbear_agreement.adapters import pades
from forbear_agreement.domain import signing
from forbear_agreement.domain.document import (
    AgreementDraft,
    OfferedTerms,
    PaymentMethod,
    build_content,
    canonical_json,
    content_sha256,
)
from forbear_agreement.domain.pdf import render_pdf
from forbear_shared.domain.money import Money
from forbear_shared.domain.schedule import equal_instalment_schedule
from forbear_shared.policy_loader import load_policy

POLICY = load_policy()
FONT = pades.DEFAULT_FONT
SIGNED_ON = date(2026, 1, 9)


def content() -> dict[str, Any]:
    # 6 monthly instalments of 100.00 CNY at 7 %: the schedule is the shared rule's; the test
    # reads each of its numbers back out of the PDF, whatever they are
    schedule = equal_instalment_schedule(Money.of("100.00"), Decimal("0.07"), 6, date(2026, 2, 5),
                                         start_date=date(2026, 1, 5))
    draft = AgreementDraft(
        agreement_id="agr-pdf-1", case_id="case-1", offer_id="off-1", decision_id="dec-1", borrower_id="brw-1",
        loan_ids=["LN-1"],
        terms=OfferedTerms(option="term_extension", new_instalment=Money.of("17.01"), old_instalment=Money.of("35.00"),
                           term_months=6, annual_rate=Decimal("0.07"), capitalised_arrears=Money.of("20.00"),
                           summary="展期六个月 six-month term extension"),
        schedule=schedule, policy_version=POLICY.version, accepted_on=date(2026, 1, 8),
        offer_expires_on=date(2026, 1, 19), payment_method=PaymentMethod.ACCOUNT_DEBIT,
    )
    return build_content(draft, POLICY)


CANONICAL = canonical_json(content())
SHA = content_sha256(CANONICAL)
BORROWER_SIGNATURE = {
    "agreement_id": "agr-pdf-1", "party": "borrower", "signed_by": "portal-user", "signed_role": "borrower",
    "on_behalf_of_borrower": False, "document_sha256": SHA, "signed_on": date(2026, 1, 8),
    "signed_at": dt.datetime(2026, 1, 8, 10, 30, tzinfo=dt.UTC),
    "channel": "portal", "otp_verified": True,
}
CONSENT = signing.consent_record(BORROWER_SIGNATURE, agreement_id="agr-pdf-1")


def rendered(canonical: str = CANONICAL, sha: str = SHA, consent: dict[str, Any] | None = CONSENT,
             on: date = SIGNED_ON) -> bytes:
    return render_pdf(canonical, sha, consent, issued_on=on, font_path=FONT)

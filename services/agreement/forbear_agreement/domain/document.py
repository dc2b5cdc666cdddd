"""The agreement document: one canonical JSON text, its sha256, and a rendering for people.

The canonical JSON is what both parties sign: keys sorted, no insignificant whitespace,
UTF-8, every amount a decimal string with two places, every date ISO 8601. Anyone can
recompute the content hash from it (``sha256(canonical.encode("utf-8"))``) and check that a
signature names this document. The human-readable text is rendered *from the canonical
JSON*, so the two can never say different things.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import Component, Policy
from forbear_shared.domain.schedule import Schedule
from forbear_shared.domain.working_days import DayUnit, DueDateRoll

FORMAT_VERSION = 2
"""2: the option states ``apr``, the annualised rate by the IRR method (a fraction to six places)."""


class PaymentMethod(StrEnum):
    """How the borrower pays each instalment; chosen when the offer is accepted."""

    ACCOUNT_DEBIT = "account_debit"
    BANK_TRANSFER = "bank_transfer"
    BRANCH = "branch"


PAYMENT_METHOD_TEXT: dict[PaymentMethod, tuple[str, str]] = {
    PaymentMethod.ACCOUNT_DEBIT: (
        "Automatic debit from the borrower's repayment account on each due date",
        "每期还款日从借款人还款账户自动扣款",
    ),
    PaymentMethod.BANK_TRANSFER: (
        "Transfer to the lender's repayment account quoting the loan number, by each due date",
        "于每期还款日前转账至贷款人还款账户并注明贷款编号",
    ),
    PaymentMethod.BRANCH: ("Payment at a branch counter by each due date", "于每期还款日前在网点柜台还款"),
}

OPTION_NAMES: dict[str, str] = {
    "term_extension": "展期 term extension",
    "interest_waiver": "减免利息 interest waiver",
    "arrears_instalments": "分期偿还 arrears instalments",
    "consolidation": "债务重组 debt restructuring",
    "restructuring": "债务重组 debt restructuring",
    "payment_deferral": "延期还款 payment deferral",
    "reamortisation": "重新摊还 re-amortisation",
    "reageing": "账龄重置 re-ageing",
}

_COMPONENT_TEXT: dict[Component, tuple[str, str]] = {
    Component.FEES: ("fees", "费用"),
    Component.PENALTY_INTEREST: ("penalty interest", "罚息"),
    Component.INTEREST: ("interest", "利息"),
    Component.PRINCIPAL: ("principal", "本金"),
}


@dataclass(frozen=True)
class OfferedTerms:
    """What the accepted offer changed, as evaluation stated it."""

    option: str
    new_instalment: Money
    old_instalment: Money
    term_months: int
    annual_rate: Decimal
    capitalised_arrears: Money | None = None
    waived_amount: Money | None = None
    fees: Money | None = None
    summary: str = ""
    apr: Decimal | None = None
    """The annualised rate (年化利率, IRR method) disclosed with the offer."""


@dataclass(frozen=True)
class AgreementDraft:
    """Everything the document states, gathered when the borrower accepts an offer."""

    agreement_id: str
    case_id: str
    offer_id: str
    decision_id: str
    borrower_id: str
    loan_ids: Sequence[str]
    terms: OfferedTerms
    schedule: Schedule
    policy_version: str
    accepted_on: date
    offer_expires_on: date
    payment_method: PaymentMethod
    supersedes_agreement_id: str | None = None


@dataclass(frozen=True)
class AgreementDocument:
    canonical_json: str
    sha256: str
    rendered_text: str


def _money(value: Money | None) -> str | None:
    return None if value is None else value.to_str()


def _percent(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}%"


def _unit_en(unit: DayUnit) -> str:
    return "working days" if unit is DayUnit.WORKING else "days"


def _unit_zh(unit: DayUnit) -> str:
    return "个工作日" if unit is DayUnit.WORKING else "日"


_ROLL_TEXT = {
    DueDateRoll.FOLLOWING: ("moves to the next working day", "顺延至下一个工作日"),
    DueDateRoll.MODIFIED_FOLLOWING: ("moves to the next working day in the same month, else the previous one",
                                     "顺延至当月下一个工作日，当月无工作日的提前至上一个工作日"),
    DueDateRoll.PRECEDING: ("moves to the previous working day", "提前至上一个工作日"),
    DueDateRoll.NONE: ("stays on that day", "不作调整"),
}


def _due_date_clause(policy: Policy) -> dict[str, str]:
    """How a due date on a closed day moves; the schedule above already shows the moved dates."""
    en, zh = _ROLL_TEXT[policy.calendar.due_date_roll]
    return {
        "code": "due_dates",
        "en": f"A due date on a day the lender is closed (a weekend or public holiday) {en}; "
        "the amount due is unchanged.",
        "zh": f"到期日遇周末或法定节假日的，{zh}，应还金额不变。",
    }


def governing_terms(policy: Policy) -> list[dict[str, str]]:
    """The clauses that bind both parties, stated from the lender's policy values."""
    order_en = ", then ".join(_COMPONENT_TEXT[c][0] for c in policy.allocation.order)
    order_zh = "、".join(_COMPONENT_TEXT[c][1] for c in policy.allocation.order)
    esc = policy.escalation
    grace = policy.delinquency.grace_days
    tolerance = policy.tolerance.to_str()
    return [
        {
            "code": "allocation",
            "en": f"Each payment is applied to {order_en}, oldest instalment first; "
            f"a shortfall of at most {tolerance} {policy.currency} counts the instalment as paid.",
            "zh": f"每笔还款按{order_zh}的顺序冲抵，先还最早一期；差额不超过{tolerance}{policy.currency}的视为已足额还款。",
        },
        {
            "code": "missed_instalment",
            "en": f"An instalment not paid in full within {grace} {_unit_en(policy.calendar.units.grace)} "
            "after its due date is missed.",
            "zh": f"到期日后{grace}{_unit_zh(policy.calendar.units.grace)}内未足额偿还的一期视为逾期。",
        },
        _due_date_clause(policy),
        {
            "code": "penalty_interest",
            "en": "Overdue principal bears penalty interest at the contract rate increased by "
            f"{_percent(policy.delinquency.penalty_uplift)}.",
            "zh": f"逾期本金按合同利率上浮{_percent(policy.delinquency.penalty_uplift)}计收罚息。",
        },
        {
            "code": "escalation",
            "en": f"When payment is late the lender sends a reminder at {esc.reminder_dpd} day(s) past due, "
            f"a warning at {esc.warning_dpd} days and a breach notice at {esc.breach_notice_dpd} days "
            f"giving {esc.remedy_days} {_unit_en(policy.calendar.units.remedy)} to pay all arrears.",
            "zh": f"逾期{esc.reminder_dpd}日发送提醒，逾期{esc.warning_dpd}日发送警告，逾期{esc.breach_notice_dpd}日发送违约通知，"
            f"给予{esc.remedy_days}{_unit_zh(policy.calendar.units.remedy)}补救期偿还全部欠款。",
        },
        {
            "code": "legal_referral",
            "en": "If the remedy period passes without all arrears paid, or "
            f"{esc.referral_missed_instalments} instalments are missed, the debt may be referred to legal action "
            "(pre-litigation mediation, lawsuit or asset preservation).",
            "zh": f"补救期届满仍未还清欠款，或累计{esc.referral_missed_instalments}期逾期的，贷款人可将债务移交法务"
            "（诉前调解、起诉或财产保全）。",
        },
        {
            "code": "cure",
            "en": "Paying all arrears before a legal referral restores the agreement to current.",
            "zh": "在移交法务前还清全部欠款的，协议恢复正常履行。",
        },
        {
            "code": "effect",
            "en": "This agreement replaces the repayment terms of the loans listed for as long as it is performed. "
            "It takes effect when both parties have signed the document identified by its SHA-256; "
            "the borrower signs first, then the lender.",
            "zh": "本协议在履行期间取代所列贷款的原还款条款。双方对以SHA-256标识的本文件签署后生效，借款人先签，贷款人后签。",
        },
    ]


def build_content(draft: AgreementDraft, policy: Policy) -> dict[str, Any]:
    """The document as data: only strings, integers, lists, objects and nulls (no floats)."""
    schedule = draft.schedule
    terms = draft.terms
    en, zh = PAYMENT_METHOD_TEXT[draft.payment_method]
    return {
        "document": {"type": "forbear.repayment_agreement", "format_version": FORMAT_VERSION},
        "agreement_id": draft.agreement_id,
        "case_id": draft.case_id,
        "offer_id": draft.offer_id,
        "decision_id": draft.decision_id,
        "parties": {
            "borrower": {"borrower_id": draft.borrower_id},
            "lender": {"lender_id": policy.lender},
        },
        "loans": [{"loan_id": loan_id} for loan_id in draft.loan_ids],
        "option": {
            "code": terms.option,
            "summary": terms.summary,
            "new_instalment": terms.new_instalment.to_str(),
            "old_instalment": terms.old_instalment.to_str(),
            "term_months": terms.term_months,
            "annual_rate": str(terms.annual_rate),
            "apr": None if terms.apr is None else str(terms.apr),
            "capitalised_arrears": _money(terms.capitalised_arrears),
            "waived_amount": _money(terms.waived_amount),
            "fees": _money(terms.fees),
        },
        "schedule": schedule.to_dict(),
        "totals": {
            "currency": schedule.currency,
            "instalments": schedule.term,
            "principal": schedule.total_principal.to_str(),
            "interest": schedule.total_interest.to_str(),
            "fees": schedule.total_fees.to_str(),
            "payable": schedule.total_payable.to_str(),
            "first_due_date": schedule.first_due_date.isoformat(),
            "final_due_date": schedule.final_due_date.isoformat(),
        },
        "dates": {
            "accepted_on": draft.accepted_on.isoformat(),
            "offer_expires_on": draft.offer_expires_on.isoformat(),
        },
        "payment_method": {"code": draft.payment_method.value, "en": en, "zh": zh},
        "policy_version": draft.policy_version,
        "governing_terms": governing_terms(policy),
        "supersedes_agreement_id": draft.supersedes_agreement_id,
    }


def canonical_json(content: dict[str, Any]) -> str:
    """Sorted keys, no insignificant whitespace, UTF-8 characters kept as they are."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def content_sha256(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def make_document(draft: AgreementDraft, policy: Policy) -> AgreementDocument:
    canonical = canonical_json(build_content(draft, policy))
    digest = content_sha256(canonical)
    return AgreementDocument(canonical, digest, render_text(canonical, digest))


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(cell.rjust(width) if i else cell.ljust(width) for i, (cell, width) in enumerate(zip(cells, widths, strict=True)))


def render_text(canonical: str, sha256: str) -> str:
    """A plain-text rendering of the canonical document, headings in Chinese and English."""
    doc: dict[str, Any] = json.loads(canonical)
    option = doc["option"]
    totals = doc["totals"]
    schedule = doc["schedule"]
    currency = totals["currency"]
    lines: list[str] = [
        "还款协议 / REPAYMENT AGREEMENT",
        "=" * 60,
        f"协议编号 Agreement:     {doc['agreement_id']}",
        f"案件 Case:              {doc['case_id']}",
        f"方案 Offer:             {doc['offer_id']} (decision {doc['decision_id']})",
        f"政策版本 Policy:        {doc['policy_version']}",
        f"接受日期 Accepted on:   {doc['dates']['accepted_on']}",
    ]
    if doc.get("supersedes_agreement_id"):
        lines.append(f"取代协议 Supersedes:    {doc['supersedes_agreement_id']}")
    lines += [
        "",
        "1. 当事人 / Parties",
        f"   借款人 Borrower: {doc['parties']['borrower']['borrower_id']}",
        f"   贷款人 Lender:   {doc['parties']['lender']['lender_id']}",
        "",
        "2. 贷款 / Loans",
    ]
    lines += [f"   - {loan['loan_id']}" for loan in doc["loans"]] or ["   (as stated in the decision)"]
    lines += [
        "",
        f"3. 方案 / Option: {OPTION_NAMES.get(option['code'], option['code'])}",
    ]
    if option["summary"]:
        lines.append(f"   {option['summary']}")
    lines += [
        f"   新月供 New instalment:   {option['new_instalment']} {currency} (was {option['old_instalment']})",
        f"   期数 Term:               {option['term_months']} months",
        f"   年利率 Annual rate:      {option['annual_rate']}",
    ]
    if option.get("apr") is not None:
        lines.append(f"   年化利率 APR (IRR):      {_percent(Decimal(option['apr']))} ({option['apr']})")
    for key, label in (
        ("capitalised_arrears", "逾期欠款资本化 Capitalised arrears"),
        ("waived_amount", "减免金额 Waived"),
        ("fees", "费用 Fees"),
    ):
        if option[key] is not None:
            lines.append(f"   {label}: {option[key]} {currency}")
    widths = (4, 10, 12, 12, 12, 10, 12, 12)
    lines += [
        "",
        f"4. 还款计划 / Repayment schedule ({schedule['method']}, {schedule.get('frequency', 'monthly')}, "
        f"{schedule['day_count']}, from {schedule['start_date']})",
        "   " + _row(("No.", "Due", "Opening", "Principal", "Interest", "Fee", "Total", "Closing"), widths),
    ]
    for inst in schedule["instalments"]:
        cells = (
            str(inst["number"]),
            inst["due_date"],
            inst["opening_balance"],
            inst["principal"],
            inst["interest"],
            inst["fee"],
            inst["total"],
            inst["closing_balance"],
        )
        lines.append("   " + _row(cells, widths))
    lines += [
        "",
        "5. 合计 / Totals",
        f"   本金 Principal {totals['principal']}  利息 Interest {totals['interest']}  "
        f"费用 Fees {totals['fees']}  应还合计 Payable {totals['payable']} {currency}",
        f"   {totals['instalments']} instalments, {totals['first_due_date']} to {totals['final_due_date']}",
        "",
        "6. 还款方式 / Payment method",
        f"   {doc['payment_method']['zh']}",
        f"   {doc['payment_method']['en']}",
        "",
        "7. 条款 / Terms",
    ]
    for number, clause in enumerate(doc["governing_terms"], start=1):
        lines.append(f"   7.{number} {clause['zh']}")
        lines.append(f"       {clause['en']}")
    lines += [
        "",
        "8. 签署 / Signatures",
        "   借款人 Borrower: ____________________   贷款人 Lender: ____________________",
        f"   文件摘要 Document SHA-256: {sha256}",
        "",
    ]
    return "\n".join(lines)

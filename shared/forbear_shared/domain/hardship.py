"""Hardship categories and the evidence each one needs.

Negotiation is for borrowers who *cannot* pay; evidence is how the hardship
is shown to be objective. The matrix below is the product brief's table as
data, so a credit officer reads (and changes) it here, not in if-statements.
Where the brief offers alternatives for one item ("death / marriage /
custody documents", "deregistration / closure notice") they are one
document type: any of them proves the same fact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class HardshipCategory(StrEnum):
    ILLNESS = "illness"                      # 突发疾病
    INJURY = "injury"                        # 意外事故
    UNEMPLOYMENT = "unemployment"            # 失业
    NATURAL_DISASTER = "natural_disaster"    # 自然灾害
    BUSINESS_CLOSURE = "business_closure"    # 企业倒闭
    INCOME_REDUCTION = "income_reduction"    # 工资降低
    PROJECT_DELAY = "project_delay"          # 项目延期
    FAMILY_CRISIS = "family_crisis"          # 家庭重大变故
    HEAVY_DEBT = "heavy_debt"                # 承担巨额债务


class DocumentType(StrEnum):
    HOSPITAL_DIAGNOSIS = "hospital_diagnosis"
    MEDICAL_BILLS = "medical_bills"
    DISCHARGE_SUMMARY = "discharge_summary"
    TERMINATION_LETTER = "termination_letter"
    UNEMPLOYMENT_REGISTRATION = "unemployment_registration"
    DISASTER_CERTIFICATE = "disaster_certificate"
    INSURANCE_CLAIM = "insurance_claim"
    CLOSURE_NOTICE = "closure_notice"
    """Deregistration or closure notice of the business."""
    PAY_SLIPS = "pay_slips"
    """Recent pay slips, e.g. the last 3 months, showing the reduction."""
    BANK_STATEMENTS = "bank_statements"
    CONTRACTS = "contracts"
    PAYMENT_DELAY_NOTICES = "payment_delay_notices"
    FAMILY_EVENT_CERTIFICATE = "family_event_certificate"
    """Death, marriage or custody document."""
    OTHER_DEBT_STATEMENTS = "other_debt_statements"
    REPRESENTATIVE_AUTHORISATION = "representative_authorisation"
    """The borrower's signed authorisation of a representative (not hardship evidence: no
    category requires it; intake's representatives name it)."""


REQUIRED_DOCUMENTS: Mapping[HardshipCategory, tuple[DocumentType, ...]] = MappingProxyType({
    HardshipCategory.ILLNESS: (
        DocumentType.HOSPITAL_DIAGNOSIS, DocumentType.MEDICAL_BILLS, DocumentType.DISCHARGE_SUMMARY,
    ),
    HardshipCategory.INJURY: (
        DocumentType.HOSPITAL_DIAGNOSIS, DocumentType.MEDICAL_BILLS, DocumentType.DISCHARGE_SUMMARY,
    ),
    HardshipCategory.UNEMPLOYMENT: (
        DocumentType.TERMINATION_LETTER, DocumentType.UNEMPLOYMENT_REGISTRATION,
    ),
    HardshipCategory.NATURAL_DISASTER: (
        DocumentType.DISASTER_CERTIFICATE, DocumentType.INSURANCE_CLAIM,
    ),
    HardshipCategory.BUSINESS_CLOSURE: (DocumentType.CLOSURE_NOTICE,),
    HardshipCategory.INCOME_REDUCTION: (DocumentType.PAY_SLIPS, DocumentType.BANK_STATEMENTS),
    HardshipCategory.PROJECT_DELAY: (DocumentType.CONTRACTS, DocumentType.PAYMENT_DELAY_NOTICES),
    HardshipCategory.FAMILY_CRISIS: (DocumentType.FAMILY_EVENT_CERTIFICATE,),
    HardshipCategory.HEAVY_DEBT: (DocumentType.OTHER_DEBT_STATEMENTS,),
})
"""Category -> documents that must all be accepted for the evidence to be complete."""


class ReviewStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class EvidenceDocument:
    """One submitted document and the outcome of its review."""

    document_type: DocumentType
    status: ReviewStatus = ReviewStatus.PENDING
    rejection_reason: str | None = None
    document_id: str | None = None

    def __post_init__(self) -> None:
        if self.status is ReviewStatus.REJECTED and not self.rejection_reason:
            raise ValueError("a rejected document needs a reason (the borrower is told why)")


@dataclass(frozen=True, slots=True)
class EvidenceCompleteness:
    """Where a case's evidence stands, per required document type."""

    category: HardshipCategory
    required: tuple[DocumentType, ...]
    accepted: tuple[DocumentType, ...]
    missing: tuple[DocumentType, ...]
    """Required types with no accepted document (to request, with a deadline)."""
    pending: tuple[DocumentType, ...]
    """Missing types for which a document is awaiting review."""
    rejected: tuple[EvidenceDocument, ...]
    """Every rejected document with its reason; rejection as false is a wilful-default indicator."""

    @property
    def is_complete(self) -> bool:
        """Complete when every required item is accepted (product brief)."""
        return not self.missing


def required_documents(category: HardshipCategory) -> tuple[DocumentType, ...]:
    return REQUIRED_DOCUMENTS[HardshipCategory(category)]


def evidence_completeness(
    category: HardshipCategory, documents: Iterable[EvidenceDocument]
) -> EvidenceCompleteness:
    """Check submitted documents against the category's required list.

    One accepted document of a type satisfies that type even if another of
    the same type was rejected (a borrower may resubmit a clearer copy).
    Documents of types the category does not require are ignored.
    """
    category = HardshipCategory(category)
    required = REQUIRED_DOCUMENTS[category]
    docs = tuple(documents)
    accepted_types = {d.document_type for d in docs if d.status is ReviewStatus.ACCEPTED}
    pending_types = {d.document_type for d in docs if d.status is ReviewStatus.PENDING}
    accepted = tuple(t for t in required if t in accepted_types)
    missing = tuple(t for t in required if t not in accepted_types)
    pending = tuple(t for t in missing if t in pending_types)
    rejected = tuple(d for d in docs if d.status is ReviewStatus.REJECTED)
    return EvidenceCompleteness(category, required, accepted, missing, pending, rejected)

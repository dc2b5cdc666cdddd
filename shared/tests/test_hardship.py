import pytest
from forbear_shared.domain.hardship import (
    REQUIRED_DOCUMENTS,
    DocumentType,
    EvidenceDocument,
    HardshipCategory,
    ReviewStatus,
    evidence_completeness,
)

A, R, P = ReviewStatus.ACCEPTED, ReviewStatus.REJECTED, ReviewStatus.PENDING


def test_every_hardship_category_has_required_documents():
    assert set(REQUIRED_DOCUMENTS) == set(HardshipCategory)
    assert all(REQUIRED_DOCUMENTS.values())


def test_illness_needs_diagnosis_bills_and_discharge_summary():
    assert REQUIRED_DOCUMENTS[HardshipCategory.ILLNESS] == (
        DocumentType.HOSPITAL_DIAGNOSIS, DocumentType.MEDICAL_BILLS, DocumentType.DISCHARGE_SUMMARY)


def test_unemployment_evidence_is_complete_when_both_documents_are_accepted():
    result = evidence_completeness(HardshipCategory.UNEMPLOYMENT, [
        EvidenceDocument(DocumentType.TERMINATION_LETTER, A),
        EvidenceDocument(DocumentType.UNEMPLOYMENT_REGISTRATION, A),
    ])
    assert result.is_complete
    assert result.missing == ()


def test_income_reduction_with_only_pay_slips_is_missing_bank_statements():
    result = evidence_completeness(HardshipCategory.INCOME_REDUCTION, [
        EvidenceDocument(DocumentType.PAY_SLIPS, A),
        EvidenceDocument(DocumentType.BANK_STATEMENTS, P),
    ])
    assert not result.is_complete
    assert result.missing == (DocumentType.BANK_STATEMENTS,)
    assert result.pending == (DocumentType.BANK_STATEMENTS,)


def test_a_rejected_document_is_listed_with_its_reason_and_still_missing():
    rejected = EvidenceDocument(DocumentType.CLOSURE_NOTICE, R, rejection_reason="forged_seal")
    result = evidence_completeness(HardshipCategory.BUSINESS_CLOSURE, [rejected])
    assert result.rejected == (rejected,)
    assert result.missing == (DocumentType.CLOSURE_NOTICE,)


def test_a_resubmitted_accepted_copy_satisfies_the_item_despite_an_earlier_rejection():
    result = evidence_completeness(HardshipCategory.FAMILY_CRISIS, [
        EvidenceDocument(DocumentType.FAMILY_EVENT_CERTIFICATE, R, rejection_reason="illegible"),
        EvidenceDocument(DocumentType.FAMILY_EVENT_CERTIFICATE, A),
    ])
    assert result.is_complete
    assert len(result.rejected) == 1


def test_documents_the_category_does_not_need_are_ignored():
    result = evidence_completeness(HardshipCategory.HEAVY_DEBT, [EvidenceDocument(DocumentType.PAY_SLIPS, A)])
    assert result.missing == (DocumentType.OTHER_DEBT_STATEMENTS,)


def test_a_rejection_needs_a_reason():
    with pytest.raises(ValueError):
        EvidenceDocument(DocumentType.PAY_SLIPS, R)

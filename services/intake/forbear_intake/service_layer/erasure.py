"""Erasing closed cases' personal data and evidence once the lender's retention has run out.

The intake worker's erasure loop runs these use cases: on the business date intake knows,
each closed case whose retention is over (``domain.personal_data``) is erased in a transaction of its own: its
personal fields blanked, each erasure recorded in ``personal_data_erasures`` (what, under
which policy version and rule; never the data), ``case.personal_data_erased`` announced, and
its evidence files deleted from the store before the commit. A failed commit leaves the case
to the next run, which finds the files gone and erases the rest; an erasure recorded as done
never leaves a file behind. The same bytes uploaded to two cases are one file: it stays while
the other case keeps its document.

The case row is locked and the rule checked again inside the transaction, so replicas running
the loop at once erase each case once.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

from forbear_shared import metrics
from forbear_shared.auth import Principal
from forbear_shared.events.schemas.intake import CasePersonalDataErased
from forbear_shared.unit_of_work import UnitOfWork

from forbear_intake.adapters import repository as repo
from forbear_intake.domain.case_status import CaseStatus
from forbear_intake.domain.personal_data import (
    BORROWER_FIELDS,
    CASE_FIELDS,
    CONTACT_FIELDS,
    DOCUMENT_FIELDS,
    ERASABLE,
    REPRESENTATIVE_FIELDS,
    RULE,
    Erasure,
    candidates_closed_by,
    erasure,
)
from forbear_intake.service_layer.cases import audit
from forbear_intake.service_layer.commands import EraseCase

if TYPE_CHECKING:
    from forbear_intake.bootstrap import Intake

log = logging.getLogger(__name__)

#: who erases: the lender's retention job, in the audit trail
RETENTION = Principal(subject="retention", role="system")


def due_for_erasure(uow: UnitOfWork[Intake], limit: int = 200) -> list[str]:
    """The cases that may be due for erasure on the current business date (at most ``limit``,
    oldest closed first); ``erase_case`` decides each."""
    with uow:
        closed_by = candidates_closed_by(uow.business_date, uow.policy.retention)
        return repo.cases_closed_by(uow.conn, closed_by, sorted(s.value for s in ERASABLE), limit)


def erase_case(cmd: EraseCase, uow: UnitOfWork[Intake]) -> bool:
    """Erase one case's personal data if the rule says it is due now; False if it is not."""
    case_id, policy = cmd.case_id, uow.policy
    with uow:
        conn, today = uow.conn, uow.business_date
        case = repo.lock_case(conn, case_id)
        if case is None:
            return False
        verdict = erasure(CaseStatus(case["status"]), case["closed_on"], case["personal_data_erased_on"], today,
                          policy.retention)
        if verdict is not Erasure.DUE:
            return False
        borrower_id = case["borrower_id"]
        borrower = repo.lock_borrower(conn, borrower_id)  # a case opened meanwhile waits, and is seen
        documents = [d for d in repo.list_documents(conn, case_id) if d["erased_on"] is None]
        files = sorted({d["sha256"] for d in documents})
        for sha256 in files:
            repo.lock_evidence_file(conn, sha256)
        kept = {sha256 for sha256 in files if repo.evidence_file_kept_for(conn, sha256, case_id)}
        borrower_erased = borrower is not None and not repo.borrower_has_other_cases_holding_data(
            conn, borrower_id, case_id)

        contacts = repo.erase_case_fields(conn, case_id, today)
        representatives = repo.erase_representative_names(conn, case_id)
        if borrower_erased:
            repo.erase_borrower(conn, borrower_id)
        record = partial(repo.record_erasure, conn, case_id=case_id, borrower_id=borrower_id,
                         policy_version=policy.version, rule=RULE, closed_on=case["closed_on"], on=today)
        record(subject="case", subject_id=case_id, fields=CASE_FIELDS)
        for contact_id in contacts:
            record(subject="contact", subject_id=contact_id, fields=CONTACT_FIELDS)
        for representative_id in representatives:
            record(subject="representative", subject_id=representative_id, fields=REPRESENTATIVE_FIELDS)
        for doc in documents:
            if doc["sha256"] in kept:
                record(subject="evidence_document", subject_id=doc["document_id"], fields=["original_filename"],
                       detail={"file": "kept_for_another_case"})
            else:
                record(subject="evidence_document", subject_id=doc["document_id"], fields=DOCUMENT_FIELDS)
        if borrower_erased:
            record(subject="borrower", subject_id=borrower_id, fields=BORROWER_FIELDS)
        audit(conn, case_id, today, cmd.who, "personal_data_erased", RULE, policy_version=policy.version,
              closed_on=case["closed_on"], documents=len(documents), contacts=len(contacts),
              borrower_erased=borrower_erased)
        uow.emit(type="case.personal_data_erased", case_id=case_id, business_date=today,
                 payload=CasePersonalDataErased(
                     borrower_id=borrower_id, closed_on=case["closed_on"], erased_on=today,
                     policy_version=policy.version, rule=RULE,
                     document_ids=[d["document_id"] for d in documents], borrower_erased=borrower_erased))
        # deleted before the commit: an erasure recorded as done never leaves a file behind
        for sha256 in files:
            if sha256 not in kept:
                uow.service.store.delete(sha256)
    metrics.PERSONAL_DATA_ERASED.inc()
    log.info("personal data erased", extra={"case_id": case_id, "documents": len(documents)})
    return True

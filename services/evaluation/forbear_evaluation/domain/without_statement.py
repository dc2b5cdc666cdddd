"""A submission without an income and expenditure statement.

Without the statement affordability cannot be assessed at all, so no plan can be built and no
offer made: the lender asks for the statement (and whatever other document the hardship
category requires) until the evidence deadline, and declines once the deadline has passed
without them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from forbear_shared import phrasing
from forbear_shared.domain.hardship import EvidenceDocument, HardshipCategory, evidence_completeness

from .evaluate import Outcome, Reason, ReasonCode

STATEMENT = "income_expenditure_statement"
"""How the missing statement is named beside the missing documents."""


@dataclass(frozen=True)
class WithoutStatement:
    """The decision on a case that has no statement: more evidence, or a decline."""

    outcome: Outcome
    reasons: tuple[Reason, ...]
    #: the statement first, then the documents the category requires and the lender lacks
    missing: tuple[str, ...]
    as_of: date


def decide_without_statement(
    hardship: HardshipCategory, evidence: tuple[EvidenceDocument, ...], deadline: date | None, as_of: date,
) -> WithoutStatement:
    """Ask for what is missing; decline once ``deadline`` is behind the business date ``as_of``."""
    completeness = evidence_completeness(hardship, evidence)
    missing = (STATEMENT, *(t.value for t in completeness.missing))
    listed = ", ".join(missing)
    documents = phrasing.codes("document", missing)
    statement_missing = Reason(ReasonCode.STATEMENT_MISSING, "no income and expenditure statement was submitted", {})
    if deadline is not None and as_of > deadline:
        expired = Reason(ReasonCode.EVIDENCE_DEADLINE_EXPIRED, f"deadline {deadline.isoformat()} passed without: {listed}",
                         {"deadline": phrasing.date(deadline), "missing": documents})
        return WithoutStatement(Outcome.DECLINE, (statement_missing, expired), missing, as_of)
    incomplete = Reason(ReasonCode.EVIDENCE_INCOMPLETE, f"missing: {listed}", {"missing": documents})
    return WithoutStatement(Outcome.NEED_MORE_EVIDENCE, (statement_missing, incomplete), missing, as_of)

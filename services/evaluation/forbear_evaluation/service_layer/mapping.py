"""Between the event contract (``case.submitted``, ``case.decided``) and the evaluation domain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from forbear_shared import phrasing
from forbear_shared.domain.hardship import DocumentType, EvidenceDocument, HardshipCategory, ReviewStatus
from forbear_shared.domain.money import Money, parse_rate
from forbear_shared.domain.schedule import Frequency, RepaymentMethod
from forbear_shared.events.schemas.common import Phrase, Reason, ScheduleDoc
from forbear_shared.events.schemas.evaluation import OfferTerms
from forbear_shared.events.schemas.intake import CaseSubmitted, Statement

from forbear_evaluation.domain.affordability import IncomeExpenditureStatement, StatementItem
from forbear_evaluation.domain.evaluate import FALSE_EVIDENCE_REASON, Case, Decision, Offer, deadline_as_seen
from forbear_evaluation.domain.evaluate import Reason as DomainReason
from forbear_evaluation.domain.restructuring import LoanPosition
from forbear_evaluation.domain.wilful_default import ConductRecord, DelinquencyEpisode

_KNOWN_DOCUMENTS = {t.value for t in DocumentType}


def effective_deadline(submitted: CaseSubmitted, as_of: dt.date) -> dt.date | None:
    """The evidence deadline the domain should see (``domain.evaluate.deadline_as_seen``)."""
    return deadline_as_seen(submitted.evidence_deadline, submitted.evidence_deadline_passed, as_of)


def statement_from(statement: Statement, currency: str) -> IncomeExpenditureStatement:
    def items(lines: list) -> tuple[StatementItem, ...]:  # type: ignore[type-arg]
        return tuple(StatementItem(line.category, Money.of(line.monthly_amount, currency)) for line in lines)

    return IncomeExpenditureStatement(
        income=items(statement.income),
        essential_expenditure=items(statement.essential_expenditure),
        other_debt_payments=items(statement.other_debt_payments),
        dependants=statement.dependants,
        gross_monthly_income=(
            Money.of(statement.gross_monthly_income, currency) if statement.gross_monthly_income is not None else None
        ),
        currency=currency,
    )


def evidence_of(submitted: CaseSubmitted) -> tuple[EvidenceDocument, ...]:
    """The submitted documents as the domain reviews them (a document found false is rejected as false)."""
    evidence: list[EvidenceDocument] = []
    for item in submitted.evidence:
        if item.document_type not in _KNOWN_DOCUMENTS:
            continue  # a document no category requires cannot complete any evidence
        status = ReviewStatus(item.status)
        reason = None
        if status is ReviewStatus.REJECTED:
            reason = FALSE_EVIDENCE_REASON if item.found_false else (item.rejection_reason or "rejected")
        evidence.append(EvidenceDocument(DocumentType(item.document_type), status, reason, item.document_id))
    return tuple(evidence)


def case_from_submission(case_id: str, submitted: CaseSubmitted, currency: str, as_of: dt.date) -> Case:
    """The domain's case. The statement must be present (the caller checks)."""
    assert submitted.statement is not None
    loans = tuple(
        LoanPosition(
            loan_id=loan.loan_id,
            borrower_id=loan.borrower_id,
            outstanding_principal=Money.of(loan.outstanding_principal, currency),
            overdue_principal=Money.of(loan.overdue_principal, currency),
            overdue_interest=Money.of(loan.overdue_interest, currency),
            penalty_interest=Money.of(loan.penalty_interest, currency),
            fees=Money.of(loan.fees, currency),
            annual_rate=parse_rate(loan.annual_rate),
            original_term_months=loan.original_term_months,
            remaining_term_months=loan.remaining_term_months,
            contractual_instalment=Money.of(loan.contractual_instalment, currency),
            repayment_method=RepaymentMethod(loan.repayment_method),
            frequency=Frequency(loan.repayment_frequency),
            next_due_date=loan.next_due_date,
            reaged_on=tuple(loan.reaged_on),
            consecutive_payments=loan.consecutive_payments,
        )
        for loan in submitted.loans
    )
    false_documents = [item.document_type for item in submitted.evidence if item.found_false]
    history = submitted.history
    # Intake counts the episodes within the policy's look-back windows; the domain wants dated
    # facts, so each counted episode is placed inside its window (before the business date).
    episodes = tuple(
        DelinquencyEpisode(as_of - dt.timedelta(days=i + 1), borrower_made_contact=False)
        for i in range(history.no_contact_delinquencies_24m)
    )
    conduct = ConductRecord(
        earlier_delinquencies=episodes,
        evidence_rejected_as_false=tuple(sorted(set(false_documents))),
        declaration_untrue=history.declaration_untrue,
        agreements_broken_on=tuple(as_of for _ in range(history.broken_agreements_12m)),
    )
    return Case(
        case_id=case_id,
        borrower_id=submitted.borrower_id,
        hardship=HardshipCategory(submitted.hardship_category),
        evidence=evidence_of(submitted),
        statement=statement_from(submitted.statement, currency),
        loans=loans,
        dpd_at_first_contact=submitted.dpd_at_first_contact,
        conduct=conduct,
        evidence_deadline=effective_deadline(submitted, as_of),
    )


def _money(value: Money) -> Decimal:
    return value.amount


def offer_terms(offer: Offer) -> OfferTerms:
    plan = offer.plan
    ch = plan.changes
    waived = ch.waived_penalty + ch.waived_interest
    frequency = plan.schedule.frequency
    monthly = frequency is Frequency.MONTHLY
    currency = ch.new_instalment.currency

    def amount(value: Money) -> dict[str, str] | None:
        return phrasing.money(value.amount, currency)

    # each part twice: in English (``summary``) and as the catalogues' phrase (``summary_phrases``)
    parts: list[tuple[str, str, dict[str, Any]]] = [
        (f"{plan.kind.value}: {ch.new_instalment} {'a month' if monthly else 'an instalment'} (was {ch.old_instalment})",
         "offer_part.change" if monthly else "offer_part.change_periodic",
         {"option": phrasing.code("option", plan.kind.value), "instalment": amount(ch.new_instalment),
          "old": amount(ch.old_instalment)}),
        (f"{ch.new_term_months} months (was {ch.old_remaining_term_months} remaining)" if monthly
         else f"{ch.new_term_months} {frequency.value} instalments (was {ch.old_remaining_term_months} months remaining)",
         "offer_part.term" if monthly else "offer_part.term_periodic",
         {"term": ch.new_term_months, "was": ch.old_remaining_term_months,
          "frequency": phrasing.code("frequency", frequency.value)} if not monthly
         else {"term": ch.new_term_months, "was": ch.old_remaining_term_months}),
        (f"rate {ch.new_annual_rate} (was {ch.old_annual_rate})", "offer_part.rate",
         {"rate": phrasing.share(ch.new_annual_rate), "old": phrasing.share(ch.old_annual_rate)}),
    ]
    if ch.capitalised_arrears.is_positive():
        parts.append((f"arrears {ch.capitalised_arrears} capitalised", "offer_part.capitalised",
                      {"amount": amount(ch.capitalised_arrears)}))
    if waived.is_positive():
        parts.append((f"waived {waived} (penalty {ch.waived_penalty}, interest {ch.waived_interest})", "offer_part.waived",
                      {"amount": amount(waived), "penalty": amount(ch.waived_penalty),
                       "interest": amount(ch.waived_interest)}))
    if ch.deferral_months:
        parts.append((f"payments paused {ch.deferral_months} months", "offer_part.paused",
                      {"months": ch.deferral_months}))
    if ch.arrears_instalments:
        parts.append((f"arrears in {ch.arrears_instalments} interest-free parts on top", "offer_part.arrears_parts",
                      {"parts": ch.arrears_instalments}))
    if ch.deferred_principal.is_positive():
        parts.append((f"{ch.deferred_principal} principal deferred to an interest-free balloon", "offer_part.balloon",
                      {"amount": amount(ch.deferred_principal)}))
    if ch.fees_charged.is_positive():
        parts.append((f"fees {ch.fees_charged}", "offer_part.fees", {"amount": amount(ch.fees_charged)}))
    if not monthly:  # term_months then counts instalments of this frequency
        parts.append((f"about {plan.monthly_equivalent_payment} a month", "offer_part.monthly_equivalent",
                      {"amount": amount(plan.monthly_equivalent_payment)}))
    if plan.schedule.method is RepaymentMethod.FLAT_RATE:
        parts.append(("flat rate (等本等息): interest on the original balance every period", "offer_part.flat_rate", {}))
    summary = [text for text, _, _ in parts]
    return OfferTerms(
        rank=offer.rank,
        option=plan.kind.value,
        schedule=ScheduleDoc.model_validate(plan.schedule.to_dict()),
        arrears_schedule=(
            ScheduleDoc.model_validate(plan.arrears_schedule.to_dict()) if plan.arrears_schedule is not None else None
        ),
        new_instalment=_money(ch.new_instalment),
        old_instalment=_money(ch.old_instalment),
        term_months=ch.new_term_months,
        annual_rate=ch.new_annual_rate,
        capitalised_arrears=_money(ch.capitalised_arrears),
        waived_amount=_money(waived),
        fees=_money(ch.fees_charged),
        summary="; ".join(summary),
        summary_phrases=[Phrase(key=key, args=args) for _, key, args in parts],
        loan_ids=list(plan.loan_ids),
        apr=plan.annualised_rate().apr,
    )


def reasons_of(reasons: Iterable[DomainReason]) -> list[Reason]:
    return [Reason(code=r.code.value, detail=r.detail, phrase=Phrase(key=r.phrase_key, args=dict(r.args)))
            for r in reasons]


def assessment_of(decision: Decision) -> dict[str, object]:
    """What the decision saw, for the record and the console (no personal data)."""
    a = decision.affordability
    return {
        "as_of": decision.as_of.isoformat(),
        "priority_band": decision.priority,
        "disposable_income": a.disposable_income.to_str(),
        "affordable_instalment": a.affordable_instalment.to_str(),
        "debt_to_income_cap": a.debt_to_income_cap.to_str() if a.debt_to_income_cap is not None else None,
        "evidence_missing": [t.value for t in decision.evidence.missing],
        "evidence_pending": [t.value for t in decision.evidence.pending],
        "wilful_default_indicators": [i.code.value for i in decision.indicators],
        "value_tests": [
            {"rank": o.rank, "plan_npv": o.value_test.plan_npv.to_str(), "legal_npv": o.value_test.legal_npv.to_str()}
            for o in decision.offers
        ],
    }

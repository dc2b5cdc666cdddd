"""Try the evaluation rules on one case, without the services.

    python -m forbear_evaluation.cli CASE.json [--policy POLICY.toml] [--json]

Prints the decision (outcome, reasons, ranked offers with what changed) and
the schedule of the first offer; ``--json`` prints the same as one JSON
document instead.  The policy defaults to the demo lender's.

Case JSON shape (money and rates are decimal STRINGS, dates ISO):

    {
      "as_of": "2026-03-10",                      business date of the evaluation
      "case_id": "...", "borrower_id": "...",
      "hardship": "unemployment",                 forbear_shared.domain.hardship.HardshipCategory
      "dpd_at_first_contact": 19,
      "evidence_deadline": "2026-03-24",          optional
      "evidence": [{"document_type": "termination_letter", "status": "accepted",
                    "rejection_reason": null}],   status: pending | accepted | rejected
      "statement": {
        "income": [{"label": "...", "monthly_amount": "1900.00"}],
        "essential_expenditure": [...], "other_debt_payments": [...],
        "dependants": 1, "gross_monthly_income": "10500.00"          (optional)
      },
      "loans": [{"loan_id": "...", "outstanding_principal": "...", "overdue_principal": "...",
                 "overdue_interest": "...", "penalty_interest": "...", "fees": "...",
                 "annual_rate": "0.096", "original_term_months": 36,
                 "remaining_term_months": 22, "contractual_instalment": "2566.38",
                 "repayment_method": "flat_rate", "frequency": "monthly",     optional
                 "next_due_date": "2026-03-15", "reaged_on": ["2024-05-02"],   optional
                 "consecutive_payments": 3}],                                 optional
      "conduct": {                                 optional
        "earlier_delinquencies": [{"started_on": "2025-02-03", "borrower_made_contact": true}],
        "evidence_rejected_as_false": [], "declaration_untrue": false,
        "agreements_broken_on": []
      }
    }

Example: ``services/evaluation/examples/unemployed-borrower.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from forbear_shared.domain.hardship import DocumentType, EvidenceDocument, HardshipCategory, ReviewStatus
from forbear_shared.domain.money import Money, parse_rate
from forbear_shared.domain.schedule import Frequency, RepaymentMethod
from forbear_shared.policy_loader import load_policy

from .domain.affordability import IncomeExpenditureStatement, StatementItem
from .domain.evaluate import Case, Decision, Offer, evaluate
from .domain.restructuring import LoanPosition
from .domain.wilful_default import ConductRecord, DelinquencyEpisode


def _money(value: Any, currency: str) -> Money:
    return Money.of(str(value), currency)


def case_from_dict(data: Mapping[str, Any], currency: str = "CNY") -> Case:
    borrower = str(data["borrower_id"])
    s = data["statement"]

    def items(key: str) -> tuple[StatementItem, ...]:
        return tuple(StatementItem(str(i["label"]), _money(i["monthly_amount"], currency)) for i in s.get(key, ()))

    statement = IncomeExpenditureStatement(
        income=items("income"),
        essential_expenditure=items("essential_expenditure"),
        other_debt_payments=items("other_debt_payments"),
        dependants=int(s.get("dependants", 0)),
        gross_monthly_income=(
            _money(s["gross_monthly_income"], currency) if s.get("gross_monthly_income") is not None else None
        ),
        currency=currency,
    )
    loans = tuple(
        LoanPosition(
            loan_id=str(loan["loan_id"]),
            borrower_id=borrower,
            outstanding_principal=_money(loan["outstanding_principal"], currency),
            overdue_principal=_money(loan.get("overdue_principal", "0"), currency),
            overdue_interest=_money(loan.get("overdue_interest", "0"), currency),
            penalty_interest=_money(loan.get("penalty_interest", "0"), currency),
            fees=_money(loan.get("fees", "0"), currency),
            annual_rate=parse_rate(str(loan["annual_rate"])),
            original_term_months=int(loan["original_term_months"]),
            remaining_term_months=int(loan["remaining_term_months"]),
            contractual_instalment=_money(loan["contractual_instalment"], currency),
            repayment_method=RepaymentMethod(loan.get("repayment_method", RepaymentMethod.EQUAL_INSTALMENT.value)),
            frequency=Frequency(loan.get("frequency", Frequency.MONTHLY.value)),
            next_due_date=date.fromisoformat(loan["next_due_date"]) if loan.get("next_due_date") else None,
            reaged_on=tuple(date.fromisoformat(d) for d in loan.get("reaged_on", ())),
            consecutive_payments=int(loan.get("consecutive_payments", 0)),
        )
        for loan in data["loans"]
    )
    c = data.get("conduct", {})
    conduct = ConductRecord(
        earlier_delinquencies=tuple(
            DelinquencyEpisode(date.fromisoformat(e["started_on"]), bool(e["borrower_made_contact"]))
            for e in c.get("earlier_delinquencies", ())
        ),
        evidence_rejected_as_false=tuple(str(x) for x in c.get("evidence_rejected_as_false", ())),
        declaration_untrue=bool(c.get("declaration_untrue", False)),
        agreements_broken_on=tuple(date.fromisoformat(d) for d in c.get("agreements_broken_on", ())),
    )
    evidence = tuple(
        EvidenceDocument(
            DocumentType(e["document_type"]),
            ReviewStatus(e.get("status", "pending")),
            e.get("rejection_reason"),
        )
        for e in data.get("evidence", ())
    )
    deadline = data.get("evidence_deadline")
    return Case(
        case_id=str(data["case_id"]),
        borrower_id=borrower,
        hardship=HardshipCategory(data["hardship"]),
        evidence=evidence,
        statement=statement,
        loans=loans,
        dpd_at_first_contact=int(data["dpd_at_first_contact"]),
        conduct=conduct,
        evidence_deadline=date.fromisoformat(deadline) if deadline else None,
    )


def offer_to_dict(offer: Offer) -> dict[str, Any]:
    ch = offer.plan.changes
    return {
        "rank": offer.rank,
        "source": offer.source,
        "option": offer.plan.kind.value,
        "loan_ids": list(offer.plan.loan_ids),
        "concessions": [c.value for c in offer.concessions],
        "needs_supervisor": offer.plan.needs_supervisor,
        "changes": {
            "old_instalment": ch.old_instalment.to_str(),
            "new_instalment": ch.new_instalment.to_str(),
            "old_remaining_term_months": ch.old_remaining_term_months,
            "new_term_months": ch.new_term_months,
            "old_annual_rate": str(ch.old_annual_rate),
            "new_annual_rate": str(ch.new_annual_rate),
            "capitalised_arrears": ch.capitalised_arrears.to_str(),
            "waived_penalty": ch.waived_penalty.to_str(),
            "waived_interest": ch.waived_interest.to_str(),
            "fees_charged": ch.fees_charged.to_str(),
            "deferred_principal": ch.deferred_principal.to_str(),
            "deferral_months": ch.deferral_months,
            "arrears_instalments": ch.arrears_instalments,
        },
        "value_test": {
            "plan_npv": offer.value_test.plan_npv.to_str(),
            "legal_npv": offer.value_test.legal_npv.to_str(),
            "passes": offer.value_test.passes,
        },
        "apr": str(offer.plan.annualised_rate().apr),
        "effective_annual_rate": str(offer.plan.annualised_rate().effective_annual_rate),
        "schedule": offer.plan.schedule.to_dict(),
        "arrears_schedule": offer.plan.arrears_schedule.to_dict() if offer.plan.arrears_schedule else None,
    }


def decision_to_dict(decision: Decision) -> dict[str, Any]:
    return {
        "case_id": decision.case_id,
        "outcome": decision.outcome.value,
        "policy_version": decision.policy_version,
        "as_of": decision.as_of.isoformat(),
        "priority": decision.priority,
        "reasons": [{"code": r.code.value, "detail": r.detail} for r in decision.reasons],
        "affordability": {
            "disposable_income": decision.affordability.disposable_income.to_str(),
            "affordable_instalment": decision.affordability.affordable_instalment.to_str(),
            "debt_to_income_cap": (
                decision.affordability.debt_to_income_cap.to_str()
                if decision.affordability.debt_to_income_cap is not None else None
            ),
        },
        "evidence_missing": [t.value for t in decision.evidence.missing],
        "offers": [offer_to_dict(o) for o in decision.offers],
    }


def render_text(decision: Decision, schedule_of: int = 1) -> str:
    a = decision.affordability
    lines = [
        f"case {decision.case_id} as of {decision.as_of.isoformat()} (policy {decision.policy_version})",
        f"outcome: {decision.outcome.value}    priority: {decision.priority}",
        f"disposable income {a.disposable_income}; affordable instalment {a.affordable_instalment}"
        + (f" (DTI cap {a.debt_to_income_cap})" if a.debt_to_income_cap is not None else ""),
        "reasons:",
        *(f"  - {r.code.value}: {r.detail}" for r in decision.reasons),
    ]
    for offer in decision.offers:
        ch = offer.plan.changes
        lines += [
            f"offer {offer.rank} ({offer.source}, {offer.plan.kind.value})"
            + (f" concessions: {', '.join(c.value for c in offer.concessions)}" if offer.concessions else ""),
            f"  instalment {ch.old_instalment} -> {ch.new_instalment}; term {ch.old_remaining_term_months} -> "
            + (f"{ch.new_term_months} months" if offer.plan.schedule.frequency is Frequency.MONTHLY
               else f"{ch.new_term_months} {offer.plan.schedule.frequency.value} instalments "
                    f"(about {offer.plan.monthly_equivalent_payment} a month)")
            + f"; rate {ch.old_annual_rate} -> {ch.new_annual_rate}",
            f"  capitalised arrears {ch.capitalised_arrears}; waived penalty {ch.waived_penalty}, "
            f"interest {ch.waived_interest}; fees {ch.fees_charged}; deferred principal {ch.deferred_principal}"
            + (f"; deferral {ch.deferral_months} months" if ch.deferral_months else "")
            + (f"; arrears in {ch.arrears_instalments} parts" if ch.arrears_instalments else ""),
            f"  value test: plan NPV {offer.value_test.plan_npv} vs legal NPV {offer.value_test.legal_npv}",
            f"  {offer.plan.schedule.method.value}, {offer.plan.schedule.frequency.value}; "
            f"APR {_percent(offer.plan.annualised_rate().apr)} (IRR x {offer.plan.schedule.frequency.periods_per_year:.4f}), "
            f"effective {_percent(offer.plan.annualised_rate().effective_annual_rate)}",
        ]
    chosen = [o for o in decision.offers if o.rank == schedule_of]
    if chosen:
        plan = chosen[0].plan
        lines.append(f"schedule of offer {schedule_of} (principal {plan.schedule.principal}):")
        lines.append(f"  {'no':>3} {'due':>10} {'kind':>13} {'principal':>11} {'interest':>9} {'fee':>7} "
                     f"{'arrears':>8} {'total':>10} {'balance':>11}")
        extra = plan.arrears_schedule.instalments if plan.arrears_schedule else ()
        for index, i in enumerate(plan.schedule.instalments):
            part = extra[index].total if index < len(extra) else Money.zero(plan.currency)
            lines.append(
                f"  {i.number:>3} {i.due_date.isoformat():>10} {i.kind.value:>13} {i.principal.to_str():>11} "
                f"{i.interest.to_str():>9} {i.fee.to_str():>7} {part.to_str():>8} "
                f"{(i.total + part).to_str():>10} {i.closing_balance.to_str():>11}"
            )
    return "\n".join(lines)


def _percent(rate: object) -> str:
    return f"{Decimal(str(rate)) * 100:.4f} %"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forbear_evaluation.cli", description=__doc__.split("\n")[0])
    parser.add_argument("case", help="case JSON file (shape in this module's docstring)")
    parser.add_argument("--policy", help="policy TOML file (default: the demo lender's)")
    parser.add_argument("--json", action="store_true", help="print the decision as JSON")
    parser.add_argument("--schedule", type=int, default=1, metavar="RANK", help="print this offer's schedule (default 1)")
    args = parser.parse_args(argv)
    with open(args.case, encoding="utf-8") as handle:
        data = json.load(handle)
    policy = load_policy(args.policy)
    decision = evaluate(case_from_dict(data, policy.currency), policy, date.fromisoformat(data["as_of"]))
    if args.json:
        print(json.dumps(decision_to_dict(decision), indent=2, ensure_ascii=False))
    else:
        print(render_text(decision, args.schedule))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Seeded random cases and a digest of their decisions, to prove speed work changes no result.

``python -m services.evaluation.tests.golden_cases write`` records the digests in
``golden_decisions.json`` (do that only when a result is MEANT to change);
``... dump DIR`` writes every decision in full, for a diff when a digest differs.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from forbear_evaluation.cli import case_from_dict, decision_to_dict
from forbear_evaluation.domain.counter_proposal import CounterProposal, evaluate_counter
from forbear_evaluation.domain.evaluate import evaluate
from forbear_shared.domain.hardship import REQUIRED_DOCUMENTS, HardshipCategory
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import Policy
from forbear_shared.policy_loader import load_policy

SEED = 20260310
COUNT = 300
GOLDEN = Path(__file__).with_name("golden_decisions.json")


def policies() -> list[Policy]:
    base = load_policy()
    dumped = base.model_dump()

    def variant(**restructuring: Any) -> Policy:
        data = json.loads(json.dumps(dumped, default=str))
        data["restructuring"].update(restructuring)
        official = base.calendar.official
        assert official is not None
        return Policy.model_validate(data).with_official_holidays(official)  # the table is not in the file

    return [
        base,
        variant(principal_deferral_allowed=False, principal_deferral_max_share="0"),
        variant(rate_step="0.005", rate_floor="0.03", max_total_term_months=84, principal_deferral_max_share="0.5"),
        variant(rate_step="0.01", rate_floor="0", max_total_term_months=36, penalty_waiver_max_share="0.5"),
    ]


def _money(rng: random.Random, low: float, high: float) -> str:
    return f"{Decimal(rng.randint(int(low * 100), int(high * 100))) / 100:.2f}"


def random_case(rng: random.Random, index: int) -> dict[str, Any]:
    hardship = rng.choice(list(HardshipCategory))
    required = REQUIRED_DOCUMENTS[hardship]
    evidence = [{"document_type": t.value, "status": "accepted"} for t in required]
    if rng.random() < 0.05 and evidence:
        evidence = evidence[:-1]
    loans = []
    instalments = Decimal(0)
    for n in range(1 if rng.random() < 0.85 else rng.randint(2, 3)):
        original = rng.choice([6, 12, 18, 24, 36, 48, 60])
        remaining = rng.randint(0 if rng.random() < 0.05 else 1, original)
        rate = rng.choice(["0", "0.0180", "0.035", "0.0435", "0.06", "0.0785", "0.096", "0.12", "0.18", "0.2399"])
        outstanding = _money(rng, 0 if remaining == 0 else 300, 250000)
        instalment = Decimal(outstanding) / max(remaining, 1) * Decimal("1.05")
        instalments += instalment
        loans.append({
            "loan_id": f"L{index}-{n}", "outstanding_principal": outstanding,
            "overdue_principal": _money(rng, 0, float(instalment) * 4),
            "overdue_interest": _money(rng, 0, float(instalment) * 0.8),
            "penalty_interest": _money(rng, 0, 300) if rng.random() < 0.8 else "0.00",
            "fees": _money(rng, 0, 200) if rng.random() < 0.3 else "0.00",
            "annual_rate": rate, "original_term_months": original, "remaining_term_months": remaining,
            "contractual_instalment": f"{instalment:.2f}",
        })
    # affordable = 0.7 x disposable: aim around the instalment so every waterfall step is reached
    target = instalments * Decimal(str(rng.choice([0.1, 0.3, 0.45, 0.6, 0.75, 0.9, 1.0, 1.15, 1.3, 2.0])))
    target *= Decimal(str(rng.uniform(0.9, 1.1)))
    if rng.random() < 0.9:  # the contractual instalment above the disposable income: no capacity to pay
        scale = max(Decimal(1), target / Decimal("0.7") / instalments * Decimal(str(rng.uniform(1.01, 1.5))))
        for loan in loans:
            loan["contractual_instalment"] = f"{Decimal(loan['contractual_instalment']) * scale:.2f}"
    expenditure = Decimal(rng.randint(500, 6000))
    income = expenditure + target / Decimal("0.7")
    as_of = date(2026, 1, 1) + timedelta(days=rng.randint(0, 400))
    return {
        "as_of": as_of.isoformat(),
        "case_id": f"golden-{index}",
        "borrower_id": f"B{index}",
        "hardship": hardship.value,
        "dpd_at_first_contact": rng.choice([0, 5, 19, 30, 31, 60, 90, 91, 200]),
        "evidence_deadline": (as_of + timedelta(days=rng.randint(-10, 20))).isoformat(),
        "evidence": evidence,
        "statement": {
            "income": [{"label": "salary", "monthly_amount": f"{income:.2f}"}],
            "essential_expenditure": [{"label": "rent", "monthly_amount": f"{expenditure:.2f}"}],
            "other_debt_payments": (
                [{"label": "card", "monthly_amount": _money(rng, 0, 500)}] if rng.random() < 0.3 else []
            ),
            "dependants": rng.randint(0, 3),
            "gross_monthly_income": f"{income * Decimal('1.3'):.2f}" if rng.random() < 0.5 else None,
        },
        "loans": loans,
        "conduct": {
            "earlier_delinquencies": (
                [{"started_on": "2025-06-01", "borrower_made_contact": rng.random() < 0.5}] * rng.randint(0, 3)
            ),
            "evidence_rejected_as_false": [],
            "declaration_untrue": rng.random() < 0.02,
            "agreements_broken_on": ["2025-11-20"] if rng.random() < 0.05 else [],
        },
    }


def outcome(index: int, data: dict[str, Any], policy: Policy) -> dict[str, Any]:
    case = case_from_dict(data, policy.currency)
    as_of = date.fromisoformat(data["as_of"])
    decision = evaluate(case, policy, as_of)
    result: dict[str, Any] = {"decision": decision_to_dict(decision)}
    wf = decision.waterfall
    if wf is not None:
        result["waterfall"] = {
            "plans_tried": wf.plans_tried,
            "concessions": [c.value for c in wf.concessions],
            "plan": wf.plan.changes.new_instalment.to_str() if wf.plan else None,
            "most_generous": wf.most_generous.schedule.to_dict() if wf.most_generous else None,
        }
    if index % 3 == 0 and decision.offers:
        affordable = decision.affordability.affordable_instalment
        proposal = CounterProposal(
            proposed_instalment=Money(affordable.amount * Decimal("0.8"), affordable.currency)
            if affordable.is_positive() else None,
            proposed_term_months=None if index % 2 else decision.offers[0].plan.schedule.term + 3,
        )
        counter = evaluate_counter(case, policy, as_of, proposal)
        result["counter"] = {"met": counter.met, "detail": counter.detail,
                             "decision": decision_to_dict(counter.decision)}
    return result


def outcomes(count: int = COUNT) -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    variants = policies()
    return [outcome(i, random_case(rng, i), variants[i % len(variants)]) for i in range(count)]


def digest(result: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(result, sort_keys=True).encode()).hexdigest()[:16]


def main(argv: list[str]) -> None:
    results = outcomes()
    if argv[:1] == ["write"]:
        GOLDEN.write_text(json.dumps([digest(r) for r in results], indent=0) + "\n")
    elif argv[:1] == ["dump"]:
        Path(argv[1]).write_text(json.dumps(results, sort_keys=True, indent=1))
    counts: dict[str, int] = {}
    for r in results:
        key = r["decision"]["outcome"] + ":" + ",".join(r.get("waterfall", {}).get("concessions", []))
        counts[key] = counts.get(key, 0) + 1
    for key, n in sorted(counts.items()):
        print(f"{n:4} {key}")


if __name__ == "__main__":
    main(sys.argv[1:])

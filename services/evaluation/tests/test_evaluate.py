"""evaluate(case, policy, as_of): the decision, its reasons and the policy version."""

import json
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

from forbear_evaluation.cli import case_from_dict
from forbear_evaluation.domain.affordability import StatementItem
from forbear_evaluation.domain.evaluate import Case, Outcome, ReasonCode, evaluate
from forbear_evaluation.domain.wilful_default import ConductRecord, DelinquencyEpisode
from forbear_shared.domain.hardship import DocumentType, EvidenceDocument, ReviewStatus
from forbear_shared.domain.money import Money
from forbear_shared.domain.policy import Policy

from services.evaluation.tests.builders import loan

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "unemployed-borrower.json"
AS_OF = date(2026, 3, 10)


def example_case() -> Case:
    return case_from_dict(json.loads(EXAMPLE.read_text(encoding="utf-8")))


def test_unemployed_borrower_is_approved_with_the_waterfall_plan_first(policy: Policy) -> None:
    decision = evaluate(example_case(), policy, AS_OF)
    # income 1900.00 + 6400.00 = 8300.00; essentials 3000 + 1800 + 400 + 600 + 300 = 6100.00; other debt 300.00
    # disposable 8300.00 - 6100.00 - 300.00 = 1900.00 < instalment 2566.38: no capacity to pay
    # 70 % of 1900.00 = 1330.00; DTI cap 31 % x 10500.00 - 300.00 = 2955.00; affordable 1330.00
    assert decision.affordability.disposable_income == Money.of("1900.00")
    assert decision.affordability.affordable_instalment == Money.of("1330.00")
    assert decision.outcome is Outcome.APPROVE
    assert decision.policy_version == "demo-lender-2026.1"
    assert decision.priority == "early"  # first contact at DPD 19 <= 30
    first = decision.offers[0]
    assert first.rank == 1 and first.source == "waterfall"
    # 36 months - 22 remaining = 14 run, so at most 46 new months; penalty 38.20 waived
    assert first.plan.changes.new_term_months == 46
    assert first.plan.changes.waived_penalty == Money.of("38.20")
    assert first.plan.peak_regular_payment <= Money.of("1330.00")
    assert first.value_test.passes
    assert ReasonCode.AFFORDABLE_PLAN_FOUND in decision.reason_codes


def test_disposable_income_covering_the_instalment_declines_as_capacity_to_pay(policy: Policy) -> None:
    case = example_case()
    # drop the rent: disposable 1900.00 + 3000.00 = 4900.00 >= 2566.38
    statement = replace(case.statement, essential_expenditure=case.statement.essential_expenditure[1:])
    decision = evaluate(replace(case, statement=statement), policy, AS_OF)
    assert decision.outcome is Outcome.DECLINE
    assert decision.reason_codes[0] is ReasonCode.CAPACITY_TO_PAY
    assert decision.offers == ()


def test_missing_document_asks_for_more_evidence_before_the_deadline(policy: Policy) -> None:
    case = replace(example_case(), evidence=(EvidenceDocument(DocumentType.TERMINATION_LETTER, ReviewStatus.ACCEPTED),))
    decision = evaluate(case, policy, AS_OF)
    assert decision.outcome is Outcome.NEED_MORE_EVIDENCE
    assert decision.reasons[0].detail == "missing: unemployment_registration"


def test_missing_document_after_the_deadline_declines(policy: Policy) -> None:
    case = replace(example_case(), evidence=(EvidenceDocument(DocumentType.TERMINATION_LETTER, ReviewStatus.ACCEPTED),))
    decision = evaluate(case, policy, date(2026, 3, 25))  # deadline 2026-03-24
    assert decision.outcome is Outcome.DECLINE
    assert decision.reason_codes[0] is ReasonCode.EVIDENCE_DEADLINE_EXPIRED


def test_document_rejected_as_false_declines(policy: Policy) -> None:
    case = replace(example_case(), evidence=(
        EvidenceDocument(DocumentType.TERMINATION_LETTER, ReviewStatus.REJECTED, "false"),
        EvidenceDocument(DocumentType.UNEMPLOYMENT_REGISTRATION, ReviewStatus.ACCEPTED),
    ))
    decision = evaluate(case, policy, AS_OF)
    assert decision.outcome is Outcome.DECLINE
    assert decision.reasons[0].code is ReasonCode.EVIDENCE_FALSE


def test_repeated_silent_delinquency_routes_the_offers_to_a_supervisor(policy: Policy) -> None:
    conduct = ConductRecord(earlier_delinquencies=(
        DelinquencyEpisode(date(2024, 9, 1), False), DelinquencyEpisode(date(2025, 5, 1), False),
    ))
    decision = evaluate(replace(example_case(), conduct=conduct), policy, AS_OF)
    assert decision.outcome is Outcome.NEEDS_SUPERVISOR
    assert ReasonCode.REPEATED_NO_CONTACT_DELINQUENCY in decision.reason_codes
    assert decision.offers  # the supervisor sees the proposed plans


def test_no_affordable_plan_within_the_limits_declines(policy: Policy) -> None:
    case = example_case()
    # income 6200.00 against 6100.00 + 300.00: a deficit, so no instalment is affordable
    statement = replace(case.statement, income=case.statement.income[1:])
    decision = evaluate(replace(case, statement=statement), policy, AS_OF)
    assert decision.outcome is Outcome.DECLINE
    assert ReasonCode.NO_AFFORDABLE_PLAN in decision.reason_codes


def test_consolidating_two_loans_above_the_threshold_needs_a_supervisor(policy: Policy) -> None:
    case = example_case()
    loans = (
        loan("150000.00", overdue_principal="3000.00", rate="0.08", original=60, remaining=48,
             instalment="3700.00", loan_id="A", borrower_id=case.borrower_id),
        loan("60000.00", overdue_principal="1500.00", rate="0.10", original=36, remaining=20,
             instalment="2000.00", loan_id="B", borrower_id=case.borrower_id),
    )
    # + 3700.00 rental income: disposable 1900.00 + 3700.00 = 5600.00 < 3700.00 + 2000.00 = 5700.00 (no capacity)
    # affordable 70 % x 5600.00 = 3920.00 (no gross income given, so no DTI cap)
    rich = replace(case.statement, gross_monthly_income=None,
                   income=case.statement.income + (StatementItem("rental income", Money.of("3700.00")),))
    decision = evaluate(replace(case, loans=loans, statement=rich), policy, AS_OF)
    # merged: 153000.00 + 61500.00 = 214500.00 > 200000.00 threshold
    assert decision.outcome is Outcome.NEEDS_SUPERVISOR
    assert ReasonCode.CONSOLIDATION_ABOVE_THRESHOLD in decision.reason_codes
    assert decision.offers[0].plan.schedule.principal == Money.of("214500.00")


def test_cli_prints_the_decision_and_the_schedule_for_the_example_case() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "forbear_evaluation.cli", str(EXAMPLE)],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout
    assert "outcome: approve" in out
    assert "policy demo-lender-2026.1" in out
    assert "schedule of offer 1" in out
    as_json = subprocess.run(
        [sys.executable, "-m", "forbear_evaluation.cli", str(EXAMPLE), "--json"],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout
    decision = json.loads(as_json)
    assert decision["outcome"] == "approve"
    assert decision["offers"][0]["schedule"]["instalments"][0]["total"] == decision["offers"][0]["changes"]["new_instalment"]

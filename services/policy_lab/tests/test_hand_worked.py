"""A three-borrower portfolio whose every figure is worked out by hand below.

The policy is the demo lender's (examples/champion.toml), evaluated on Tuesday 10 March 2026.
Every loan: 12,000.00 outstanding at 0 % a year, 6 months left, 2,000.00 a month, nothing overdue;
hardship income reduction with both documents accepted; essential expenditure 3,500.00 a month.

* b1, income 5,000.00: disposable 1,500.00, affordable 0.7 x 1,500.00 = 1,050.00 (no gross income,
  no DTI cap). 1,500.00 < 2,000.00, so no capacity to pay. Waterfall: nothing to waive or
  capitalise; extending the term at 0 %: 12,000.00 / n <= 1,050.00 needs n >= 11.43, so 12 months
  of 1,000.00. Burden 1,000 / 1,500 = 0.666667; relief 2,000 - 1,000 = 1,000.00 (share 0.5).
* b2, income 4,600.00: disposable 1,100.00, affordable 770.00; 12,000 / 770 = 15.58, so 16 months
  of 750.00. Burden 750 / 1,100 = 0.681818; relief 1,250.00 (share 0.625).
* b3, income 6,000.00: disposable 2,500.00 covers the 2,000.00 instalment: declined,
  capacity_to_pay (a decline indicator of the policy).

Behaviour (test parameters): ceiling 1, midpoint 0.675, steepness 100,000: a payment below 67.5 %
of disposable income is always paid, one above never. b1's 66.7 % is paid every month (nothing is
ever overdue, so "everything due" is the instalment): 12 x 1,000.00 = 12,000.00 paid, completed on
the last due date, 10 March 2027. b2's 68.2 % is never paid, nor any notice answered (the arrears
are at least 750.00, 68.2 % and more):
  first due date 10 April 2026 (Friday); grace 3 working days: 13, 14, 15 April; DPD 1 on 16 April
  (reminder), DPD 7 on 22 April (warning), DPD 15 on 30 April (breach notice; remedy 14 calendar
  days, to 14 May); the second instalment, due Sunday 10 May, rolls to Monday 11 May; on 15 May the
  remedy period has passed: legal referral, with 2 missed instalments (< 3) and the whole
  12,000.00 outstanding (0 % rate, so no penalty interest).
Legal recovery (policy A's lender-value assumptions: recovery 0.4, costs 3,000.00):
  0.4 x 12,000.00 - 3,000.00 = 1,800.00 each for b2 (referred) and b3 (declined).

So: approved 2/3, declined 1/3 (capacity_to_pay 1/3); mean relief (1,000 + 1,250) / 2 = 1,125.00,
share (0.5 + 0.625) / 2 = 0.5625; burden (0.666667 + 0.681818) / 2 = 0.6742425; of the 2
agreements 1 delinquent, 1 breached, 1 referred, 1 completed; of the 1 delinquent 0 cured;
recovered 12,000 + 1,800 + 1,800 = 15,600.00 of 36,000.00 owed (0.433333...); with the discount
rate set to 0 its present value is the same 15,600.00.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from forbear_monitoring.domain.escalation import Stage
from forbear_policy_lab import engine, portfolio
from forbear_policy_lab.domain.behaviour import BehaviourModel, draws
from forbear_policy_lab.domain.lifecycle import evaluate_case, live_agreement

AS_OF = date(2026, 3, 10)
SHARP = BehaviourModel(ceiling=1.0, midpoint=0.675, steepness=100_000.0)


def borrower(borrower_id: str, income: str) -> dict[str, object]:
    return {
        "case_id": f"case-{borrower_id}", "borrower_id": borrower_id, "hardship": "income_reduction",
        "dpd_at_first_contact": 10,
        "evidence": [{"document_type": "pay_slips", "status": "accepted"},
                     {"document_type": "bank_statements", "status": "accepted"}],
        "statement": {"income": [{"label": "salary", "monthly_amount": income}],
                      "essential_expenditure": [{"label": "living", "monthly_amount": "3500.00"}]},
        "loans": [{"loan_id": f"loan-{borrower_id}", "outstanding_principal": "12000.00", "annual_rate": "0",
                   "original_term_months": 12, "remaining_term_months": 6, "contractual_instalment": "2000.00"}],
    }


PORTFOLIO = (borrower("b1", "5000.00"), borrower("b2", "4600.00"), borrower("b3", "6000.00"))


def run(policy_texts: tuple[str, str], replications: int = 2) -> engine.Tallies:
    settings = engine.Settings((policy_texts[0],), AS_OF, seed=1, replications=replications, behaviour=SHARP,
                               discount_rate=Decimal(0))
    return engine.run_local(engine.chunks_of(settings, records=list(PORTFOLIO)), jobs=1)


def test_the_never_paying_borrower_is_referred_on_15_may_after_every_notice(policy_texts):
    policy = engine._policy(policy_texts[0])
    evaluated = evaluate_case(portfolio.case_under(PORTFOLIO[1], policy, AS_OF), policy, AS_OF)
    assert evaluated.offer is not None
    assert [str(i.total.amount) for i in evaluated.offer.plan.schedule.instalments] == ["750.00"] * 16
    life = live_agreement(evaluated, policy, AS_OF, SHARP, draws(1, 0, "b2"), Decimal(0))
    assert life.final_stage is Stage.LEGAL_REFERRAL
    assert life.referred_on == date(2026, 5, 15)
    assert (life.delinquent, life.breached, life.cured) == (True, True, False)
    assert life.referred_balance is not None and life.referred_balance.amount == Decimal("12000.00")
    assert life.paid.amount == 0


def test_the_paying_borrower_completes_on_the_last_due_date(policy_texts):
    policy = engine._policy(policy_texts[0])
    evaluated = evaluate_case(portfolio.case_under(PORTFOLIO[0], policy, AS_OF), policy, AS_OF)
    life = live_agreement(evaluated, policy, AS_OF, SHARP, draws(1, 0, "b1"), Decimal(0))
    assert life.final_stage is Stage.COMPLETED
    assert life.closed_on == date(2027, 3, 10)
    assert life.paid.amount == Decimal("12000.00")
    assert not life.delinquent


def test_three_borrowers_give_the_figures_worked_out_by_hand(policy_texts):
    tallies = run(policy_texts)
    for replication in (0, 1):  # the sharp model leaves nothing to chance: both replications agree
        m = tallies[(0, replication)].metrics()
        assert m["approval_rate"] == Decimal(2) / 3
        assert m["decline_rate"] == Decimal(1) / 3
        assert m["declined:capacity_to_pay"] == Decimal(1) / 3
        assert m["agreement_rate"] == Decimal(2) / 3
        assert m["mean_relief"] == Decimal("1125.00")
        assert m["mean_relief_share"] == Decimal("0.5625")
        assert m["burden"] == Decimal("0.6742425")
        assert m["delinquency_rate"] == Decimal("0.5")
        assert m["cure_rate"] == 0
        assert m["breach_rate"] == Decimal("0.5")
        assert m["referral_rate"] == Decimal("0.5")
        assert m["completion_rate"] == Decimal("0.5")
        assert m["recovered"] == Decimal("15600.00")
        assert m["recovered_npv"] == Decimal("15600.00")
        assert m["recovered_share"] == Decimal("15600.00") / Decimal("36000.00")


def test_a_declined_case_recovers_the_legal_value_at_the_policy_discount_rate(policy_texts):
    # b3 alone at policy A's 8 %: 1,800.00 x (1 + 0.08 / 12) ** -18 = 1,800.00 / 1.127048 = 1,597.09
    settings = engine.Settings((policy_texts[0],), AS_OF, seed=1, replications=1, behaviour=SHARP)
    tallies = engine.run_local(engine.chunks_of(settings, records=[PORTFOLIO[2]]), jobs=1)
    m = tallies[(0, 0)].metrics()
    assert m["recovered"] == Decimal("1800.00")
    assert m["recovered_npv"] == Decimal("1597.09")


def test_the_example_csv_is_the_same_three_borrowers(policy_texts):
    # services/policy_lab/examples/three-borrowers.csv holds b1, b2 and b3 above as CSV rows
    from .conftest import EXAMPLES

    records = portfolio.read_file(EXAMPLES / "three-borrowers.csv", AS_OF)
    settings = engine.Settings((policy_texts[0],), AS_OF, seed=1, replications=1, behaviour=SHARP,
                               discount_rate=Decimal(0))
    m = engine.run_local(engine.chunks_of(settings, records=records), jobs=1)[(0, 0)].metrics()
    assert (m["approval_rate"], m["referral_rate"], m["recovered"]) == (Decimal(2) / 3, Decimal("0.5"),
                                                                       Decimal("15600.00"))


def test_a_json_lines_portfolio_reads_the_same_records(tmp_path):
    import json

    path = tmp_path / "book.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in PORTFOLIO) + "\n", encoding="utf-8")
    assert portfolio.read_file(path, AS_OF) == list(PORTFOLIO)
    (tmp_path / "bad.jsonl").write_text(json.dumps({**PORTFOLIO[0], "loans": [{"loan_id": "x"}]}) + "\n")
    try:
        portfolio.read_file(tmp_path / "bad.jsonl", AS_OF)
    except portfolio.PortfolioError as exc:
        assert str(exc) == "line 1: field outstanding_principal is missing"
    else:
        raise AssertionError("a loan without its principal was read")

"""A seeded demo portfolio: who the borrowers are and how each of them will behave.

Pure: no I/O, no clock. ``generate(seed, size, run_id)`` draws every attribute from one
``random.Random(seed)``, so the same seed gives the same portfolio (the ``run_id`` only names
the borrowers, so that two runs against the same stack never collide). The simulator (``sim``)
then plays each borrower through the public doors.

The mix follows the product brief: the nine hardship categories, weighted; loans of varied
size, rate, term and days past due at first contact; evidence that is complete, incomplete and
completed late, never completed, or false; some wilful defaulters (capacity to pay, or earlier
delinquencies without contact); and, once an agreement is signed, borrowers who always pay,
pay late and cure, settle early, or break the plan.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from forbear_shared.domain.hardship import REQUIRED_DOCUMENTS, HardshipCategory

CENT = Decimal("0.01")

#: hardship mix of the demo lender's book (weights, not shares; the nine categories of intake)
HARDSHIP_WEIGHTS: dict[str, int] = {
    "illness": 14,
    "injury": 6,
    "unemployment": 22,
    "natural_disaster": 4,
    "business_closure": 10,
    "income_reduction": 22,
    "project_delay": 7,
    "family_crisis": 8,
    "heavy_debt": 7,
}
CHANNEL_WEIGHTS: dict[str, int] = {"phone": 45, "portal": 25, "branch": 18, "email": 12}
#: how the evidence arrives: all at once; part now and the rest days later (sometimes after the
#: deadline); part only (never completed); or one document the reviewer finds false
EVIDENCE_WEIGHTS: dict[str, int] = {"complete": 64, "late": 20, "missing": 8, "false": 8}
#: wilful-default profiles: none, disposable income covering the original instalment, or two or
#: more earlier delinquencies in which the borrower never got in touch (routed to a supervisor)
WILFUL_WEIGHTS: dict[str, int] = {"none": 83, "capacity": 7, "no_contact": 10}
#: payment behaviour under the signed agreement
BEHAVIOUR_WEIGHTS: dict[str, int] = {"always": 52, "late_cure": 24, "settles_early": 8, "breaks": 16}
PAYMENT_METHODS = ("account_debit", "bank_transfer", "branch")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞", "平", "刚")
STORIES = {
    "illness": "Hospitalised for several weeks; treatment costs and lost income.",
    "injury": "Injured in a traffic accident, unable to work during recovery.",
    "unemployment": "Laid off when the employer cut staff; looking for work.",
    "natural_disaster": "The flood damaged the house and the shop; insurance claim pending.",
    "business_closure": "The family business closed after losing its main customer.",
    "income_reduction": "Salary cut by a third since the company reduced hours.",
    "project_delay": "The client delayed payment for a finished construction project.",
    "family_crisis": "A death in the family; funeral costs and a single income now.",
    "heavy_debt": "Guaranteed a relative's business loan that is now being called.",
}


def _money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def annuity(principal: Decimal, annual_rate: Decimal, months: int) -> Decimal:
    """Monthly instalment of an equal-instalment loan (what core banking would have booked)."""
    r = annual_rate / 12
    if r == 0:
        return _money(principal / months)
    factor = (1 + r) ** months
    return _money(principal * r * factor / (factor - 1))


@dataclass(frozen=True)
class Loan:
    loan_id: str
    original_principal: Decimal
    outstanding_principal: Decimal
    annual_rate: Decimal
    original_term_months: int
    remaining_term_months: int
    contractual_instalment: Decimal
    overdue_principal: Decimal
    overdue_interest: Decimal
    penalty_interest: Decimal
    days_past_due: int

    def snapshot(self, borrower_id: str, as_of: str) -> dict[str, object]:
        """The loan as core banking publishes it (``LoanSnapshot`` fields, money as strings)."""
        return {
            "loan_id": self.loan_id, "borrower_id": borrower_id,
            "original_principal": str(self.original_principal),
            "outstanding_principal": str(self.outstanding_principal), "annual_rate": str(self.annual_rate),
            "original_term_months": self.original_term_months, "remaining_term_months": self.remaining_term_months,
            "contractual_instalment": str(self.contractual_instalment),
            "overdue_principal": str(self.overdue_principal), "overdue_interest": str(self.overdue_interest),
            "penalty_interest": str(self.penalty_interest), "days_past_due": self.days_past_due, "as_of": as_of,
        }


@dataclass(frozen=True)
class Borrower:
    index: int
    borrower_id: str
    name: str
    national_id: str
    phone: str
    hardship: str
    channel: str
    #: business day (from the start of the run) of the first contact
    arrival_day: int
    loans: tuple[Loan, ...]
    income: Decimal
    essential_expenditure: Decimal
    other_debt: Decimal
    dependants: int
    evidence: str
    #: for ``late`` evidence: business days after opening when the rest arrives
    late_after_days: int
    wilful: str
    no_contact_delinquencies: int
    #: the supervisor's call if the case is routed to review
    supervisor_approves: bool
    #: counter-propose the first offers instead of accepting them
    counters: bool
    #: business days the borrower takes to answer offers and to sign
    response_days: int
    payment_method: str
    behaviour: str
    #: late_cure: the instalment (1-based) paid late; breaks: instalments paid before stopping;
    #: settles_early: instalments paid before settling the rest
    behaviour_instalment: int
    #: late_cure: days past due when the arrears are paid
    cure_after_dpd: int
    required_documents: tuple[str, ...] = field(default=())

    @property
    def contractual_instalment(self) -> Decimal:
        return sum((loan.contractual_instalment for loan in self.loans), Decimal("0.00"))

    @property
    def disposable_income(self) -> Decimal:
        return self.income - self.essential_expenditure - self.other_debt

    @property
    def self_service(self) -> bool:
        """Portal borrowers act themselves; the others through an agent."""
        return self.channel == "portal"

    def statement(self) -> dict[str, object]:
        """The income and expenditure statement (the UK SFS shape intake takes)."""
        rent = _money(self.essential_expenditure * Decimal("0.45"))
        food = _money(self.essential_expenditure * Decimal("0.35"))
        other = self.essential_expenditure - rent - food
        body: dict[str, object] = {
            "income": [{"category": "net_salary_or_benefit", "monthly_amount": str(self.income)}],
            "essential_expenditure": [
                {"category": "rent", "monthly_amount": str(rent)},
                {"category": "food_and_household", "monthly_amount": str(food)},
                {"category": "utilities_transport", "monthly_amount": str(other)},
            ],
            "other_debt_payments": (
                [{"category": "credit_card_minimum", "monthly_amount": str(self.other_debt)}]
                if self.other_debt > 0 else []),
            "dependants": self.dependants,
        }
        return body

    def history(self) -> dict[str, object]:
        return {"no_contact_delinquencies_24m": self.no_contact_delinquencies, "broken_agreements_12m": 0,
                "declaration_untrue": False}


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _loan(rng: random.Random, loan_id: str, dpd: int) -> Loan:
    principal = _money(rng.choice([20_000, 30_000, 50_000, 80_000, 120_000, 200_000]) * rng.uniform(0.8, 1.25))
    rate = Decimal(rng.choice(["0.0600", "0.0720", "0.0850", "0.0960", "0.1200", "0.1500", "0.1800"]))
    term = rng.choice([12, 24, 24, 36, 36, 48, 60])
    elapsed = rng.randint(3, max(4, term // 2))
    remaining = term - elapsed
    instalment = annuity(principal, rate, term)
    outstanding = _money(principal * Decimal(remaining) / Decimal(term) * Decimal("1.05"))
    outstanding = min(outstanding, principal)
    months_overdue = max(1, (dpd + 29) // 30)
    overdue_interest = _money(outstanding * rate / 12 * months_overdue)
    overdue_principal = _money(max(Decimal("0"), instalment * months_overdue - overdue_interest))
    penalty = _money(overdue_principal * rate * Decimal("1.5") / 360 * dpd)
    return Loan(loan_id, principal, outstanding, rate, term, remaining, instalment, overdue_principal,
                overdue_interest, penalty, dpd)


def generate(seed: int, size: int, run_id: str = "r0", arrival_days: int = 60, wave: int = 0) -> list[Borrower]:
    """``size`` borrowers arriving over the first ``arrival_days`` business days (a handful a day).

    ``wave`` k > 0 draws the next ``size`` newcomers (indices after the earlier waves', arriving over
    the k-th window): the demo keeps its queues alive with waves.
    """
    rng = random.Random(seed if wave == 0 else f"{seed}-wave-{wave}")
    borrowers: list[Borrower] = []
    for index in range(wave * size, (wave + 1) * size):
        borrower_id = f"S{seed}-{run_id}-{index:04d}"
        hardship = _pick(rng, HARDSHIP_WEIGHTS)
        channel = _pick(rng, CHANNEL_WEIGHTS)
        # earlier contact is more common than very late contact
        dpd = min(int(rng.expovariate(1 / 35)) + 3, 180)
        count = 1 if rng.random() < 0.85 else 2
        loans = tuple(_loan(rng, f"L{seed}-{run_id}-{index:04d}-{k}", dpd) for k in range(count))
        instalment = sum((loan.contractual_instalment for loan in loans), Decimal("0.00"))
        wilful = _pick(rng, WILFUL_WEIGHTS)
        # disposable income as a share of the original instalment: hardship means it falls short
        share = rng.uniform(1.3, 2.2) if wilful == "capacity" else rng.uniform(0.65, 0.98)
        disposable = _money(instalment * Decimal(str(round(share, 4))))
        other_debt = _money(rng.choice([0, 0, 0, 300, 600, 1200]))
        essential = _money(rng.uniform(2500, 7000))
        income = disposable + essential + other_debt
        evidence = _pick(rng, EVIDENCE_WEIGHTS)
        behaviour = _pick(rng, BEHAVIOUR_WEIGHTS)
        borrowers.append(Borrower(
            index=index,
            borrower_id=borrower_id,
            name=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
            national_id=f"{rng.randint(110000, 659999)}{rng.randint(1960, 2003)}{rng.randint(101, 1228):04d}"
                        f"{rng.randint(1000, 9999)}",
            phone=f"1{rng.choice([3, 5, 7, 8, 9])}{rng.randint(100000000, 999999999)}",
            hardship=hardship,
            channel=channel,
            arrival_day=(wave * arrival_days + min(arrival_days - 1, int((index - wave * size) * arrival_days
                                                                           / max(size, 1)))) if arrival_days > 0 else 0,
            loans=loans,
            income=income,
            essential_expenditure=essential,
            other_debt=other_debt,
            dependants=rng.choice([0, 0, 1, 1, 2, 3]),
            evidence=evidence,
            late_after_days=rng.randint(4, 20),
            wilful=wilful,
            no_contact_delinquencies=rng.randint(2, 3) if wilful == "no_contact" else 0,
            supervisor_approves=rng.random() < 0.6,
            counters=rng.random() < 0.12,
            response_days=rng.randint(1, 4),
            payment_method=rng.choice(PAYMENT_METHODS),
            behaviour=behaviour,
            behaviour_instalment=rng.randint(1, 3),
            cure_after_dpd=rng.randint(5, 12),
            required_documents=tuple(d.value for d in REQUIRED_DOCUMENTS[HardshipCategory(hardship)]),
        ))
    return borrowers


def story(borrower: Borrower) -> str:
    return STORIES[borrower.hardship]


def shares(borrowers: list[Borrower], attribute: str) -> dict[str, float]:
    """Share of the portfolio by an attribute's value (for tests and the headless summary)."""
    counts: dict[str, int] = {}
    for borrower in borrowers:
        value = str(getattr(borrower, attribute))
        counts[value] = counts.get(value, 0) + 1
    return {k: v / len(borrowers) for k, v in sorted(counts.items())} if borrowers else {}

"""The portfolio the policies are compared on: seeded, or read from a file.

Every borrower becomes a *record*: the evaluation CLI's case JSON (``forbear_evaluation.cli``,
money and rates as decimal strings) without ``as_of``, plus one optional lab field,
``evidence_days``: the day (after the case opened) the last document arrives. Under a policy
whose ``evidence.deadline_days`` is shorter, that document is missing at evaluation and the
deadline has passed (the evaluation then declines it, ``evidence_deadline_expired``).

* ``--portfolio SEED`` (an integer): the demo lender's book as the simulator draws it
  (``forbear_simulator.portfolio.generate``: hardship mix, loans, income and expenditure,
  evidence complete, late, missing or false, wilful defaulters), in blocks of ``BLOCK``
  borrowers, block k being the simulator's wave k, so any block can be drawn on its own (a
  worker of a cluster draws its own borrowers).
* ``--portfolio FILE.jsonl``: one record per line, as above (several loans per borrower allowed).
* ``--portfolio FILE.csv``: one borrower with one loan per row, columns ``CSV_COLUMNS``
  (``evidence`` is complete | late | missing | false; ``evidence_days`` for late;
  ``gross_monthly_income`` and ``no_contact_delinquencies`` may be empty).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from forbear_evaluation.cli import case_from_dict
from forbear_evaluation.domain.evaluate import Case
from forbear_shared.domain.hardship import REQUIRED_DOCUMENTS, EvidenceDocument, HardshipCategory, ReviewStatus
from forbear_shared.domain.policy import Policy
from forbear_simulator.portfolio import Borrower, generate

BLOCK = 500
"""Borrowers per generated block (the simulator's wave size)."""

CSV_COLUMNS = (
    "borrower_id", "hardship", "dpd_at_first_contact", "income", "essential_expenditure", "other_debt_payments",
    "dependants", "gross_monthly_income", "evidence", "evidence_days", "no_contact_delinquencies",
    "outstanding_principal", "overdue_principal", "overdue_interest", "penalty_interest", "fees", "annual_rate",
    "original_term_months", "remaining_term_months", "contractual_instalment",
)

Record = dict[str, Any]


class PortfolioError(ValueError):
    """A portfolio file that cannot be read; the message names the line and the field."""


def _evidence(hardship: str, kind: str) -> list[dict[str, Any]]:
    required = [d.value for d in REQUIRED_DOCUMENTS[HardshipCategory(hardship)]]
    if kind == "missing":
        required = required[:-1]
    docs = [{"document_type": d, "status": "accepted"} for d in required]
    if kind == "false":
        docs[-1] = {"document_type": required[-1], "status": "rejected", "rejection_reason": "false"}
    return docs


def _conduct(no_contact: int, as_of: date) -> dict[str, Any]:
    episodes = [{"started_on": (as_of - timedelta(days=120 * (k + 1))).isoformat(), "borrower_made_contact": False}
                for k in range(no_contact)]
    return {"earlier_delinquencies": episodes}


def record_of_borrower(b: Borrower, as_of: date) -> Record:
    """A simulator borrower as a lab record (no name, id number or phone: the rules need none)."""
    items = [{"label": "net income", "monthly_amount": str(b.income)}]
    return {
        "case_id": f"case-{b.borrower_id}",
        "borrower_id": b.borrower_id,
        "hardship": b.hardship,
        "dpd_at_first_contact": b.loans[0].days_past_due,
        "evidence": _evidence(b.hardship, b.evidence),
        "evidence_deadline": (as_of - timedelta(days=1)).isoformat() if b.evidence == "missing" else None,
        "evidence_days": b.late_after_days if b.evidence == "late" else None,
        "statement": {
            "income": items,
            "essential_expenditure": [{"label": "essential expenditure", "monthly_amount": str(b.essential_expenditure)}],
            "other_debt_payments": ([{"label": "other creditors", "monthly_amount": str(b.other_debt)}]
                                    if b.other_debt > 0 else []),
            "dependants": b.dependants,
        },
        "loans": [{
            "loan_id": loan.loan_id, "outstanding_principal": str(loan.outstanding_principal),
            "overdue_principal": str(loan.overdue_principal), "overdue_interest": str(loan.overdue_interest),
            "penalty_interest": str(loan.penalty_interest), "fees": "0.00", "annual_rate": str(loan.annual_rate),
            "original_term_months": loan.original_term_months, "remaining_term_months": loan.remaining_term_months,
            "contractual_instalment": str(loan.contractual_instalment),
        } for loan in b.loans],
        "conduct": _conduct(b.no_contact_delinquencies, as_of),
    }


def generated_block(seed: int, block: int, size: int, as_of: date) -> list[Record]:
    """Borrowers ``block * BLOCK`` .. of the seeded portfolio of ``size`` borrowers."""
    count = min(BLOCK, size - block * BLOCK)
    if count <= 0:
        return []
    drawn = generate(seed, BLOCK, run_id="lab", arrival_days=0, wave=block)
    return [record_of_borrower(b, as_of) for b in drawn[:count]]


def blocks(size: int) -> int:
    return (size + BLOCK - 1) // BLOCK


def _csv_record(row: Mapping[str, str], line: int, as_of: date) -> Record:
    missing = [c for c in CSV_COLUMNS if c not in row]
    if missing:
        raise PortfolioError(f"line {line}: column {missing[0]} is missing")

    def need(name: str) -> str:
        value = (row[name] or "").strip()
        if not value:
            raise PortfolioError(f"line {line}: {name} is empty")
        return value

    evidence = need("evidence")
    if evidence not in ("complete", "late", "missing", "false"):
        raise PortfolioError(f"line {line}: evidence must be complete, late, missing or false, not {evidence!r}")
    other = (row["other_debt_payments"] or "0").strip()
    statement: dict[str, Any] = {
        "income": [{"label": "income", "monthly_amount": need("income")}],
        "essential_expenditure": [{"label": "essential expenditure", "monthly_amount": need("essential_expenditure")}],
        "other_debt_payments": [{"label": "other creditors", "monthly_amount": other}],
        "dependants": int(row["dependants"] or 0),
    }
    if (row["gross_monthly_income"] or "").strip():
        statement["gross_monthly_income"] = row["gross_monthly_income"].strip()
    hardship = need("hardship")
    if hardship not in {h.value for h in HardshipCategory}:
        raise PortfolioError(f"line {line}: hardship {hardship!r} is not one of {', '.join(h.value for h in HardshipCategory)}")
    borrower = need("borrower_id")
    return {
        "case_id": f"case-{borrower}", "borrower_id": borrower, "hardship": hardship,
        "dpd_at_first_contact": int(need("dpd_at_first_contact")),
        "evidence": _evidence(hardship, evidence),
        "evidence_deadline": (as_of - timedelta(days=1)).isoformat() if evidence == "missing" else None,
        "evidence_days": int(need("evidence_days")) if evidence == "late" else None,
        "statement": statement,
        "loans": [{k: need(k) for k in ("outstanding_principal", "overdue_principal", "overdue_interest",
                                         "penalty_interest", "fees", "annual_rate", "original_term_months",
                                         "remaining_term_months", "contractual_instalment")}
                  | {"loan_id": f"loan-{borrower}"}],
        "conduct": _conduct(int(row["no_contact_delinquencies"] or 0), as_of),
    }


def read_file(path: str | Path, as_of: date) -> list[Record]:
    """Every record of a ``.jsonl`` or ``.csv`` portfolio, each checked by building its case."""
    path = Path(path)
    records: list[Record] = []
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                records.append(_checked(_csv_record(row, line, as_of), line))
    elif path.suffix in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8") as handle:
            for line, text in enumerate(handle, start=1):
                if text.strip():
                    try:
                        records.append(_checked(json.loads(text), line))
                    except json.JSONDecodeError as exc:
                        raise PortfolioError(f"line {line}: not JSON ({exc.msg})") from exc
    else:
        raise PortfolioError(f"{path.name}: a portfolio file is .jsonl or .csv")
    if not records:
        raise PortfolioError(f"{path.name}: no borrowers")
    return records


def _checked(record: Record, line: int) -> Record:
    try:
        case_from_dict(record)
    except KeyError as exc:
        raise PortfolioError(f"line {line}: field {exc.args[0]} is missing") from exc
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise PortfolioError(f"line {line}: {exc}") from exc
    return record


def case_under(record: Record, policy: Policy, as_of: date) -> Case:
    """The case as the evaluation sees it under ``policy`` on ``as_of``: a document arriving
    after the policy's evidence deadline is still missing, and the deadline has passed."""
    case = case_from_dict(record, policy.currency)
    days = record.get("evidence_days")
    if days is not None and int(days) > policy.evidence.deadline_days:
        late = case.evidence[-1]
        pending = EvidenceDocument(late.document_type, ReviewStatus.PENDING)
        case = replace(case, evidence=case.evidence[:-1] + (pending,), evidence_deadline=as_of - timedelta(days=1))
    return case


def iter_records(records: list[Record], chunk: int) -> Iterator[list[Record]]:
    for start in range(0, len(records), chunk):
        yield records[start:start + chunk]

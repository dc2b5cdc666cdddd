"""The command line: a bad policy file names the field, a bad portfolio file names the line, and
the report is written, self-contained."""

from __future__ import annotations

import re
from pathlib import Path

from forbear_policy_lab.__main__ import main

from .conftest import EXAMPLES

CHAMPION = str(EXAMPLES / "champion.toml")
CHALLENGER = str(EXAMPLES / "challenger.toml")


def test_a_policy_share_above_one_is_refused_naming_the_field(tmp_path: Path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text((EXAMPLES / "challenger.toml").read_text(encoding="utf-8").replace(
        'affordable_share_of_disposable_income = "0.6"', 'affordable_share_of_disposable_income = "1.6"'))
    assert main(["compare", "--portfolio", "7", "--size", "2", "--policy", CHAMPION, "--policy", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "evaluation.affordable_share_of_disposable_income" in err


def test_a_policy_float_is_refused_naming_the_field(tmp_path: Path, capsys):
    bad = tmp_path / "float.toml"
    bad.write_text((EXAMPLES / "champion.toml").read_text(encoding="utf-8").replace(
        'rate_floor = "0.02"', "rate_floor = 0.02"))
    assert main(["compare", "--portfolio", "7", "--policy", str(bad), "--policy", CHAMPION]) == 2
    err = capsys.readouterr().err
    assert "restructuring.rate_floor" in err and "strings" in err


def test_a_portfolio_row_without_a_value_is_refused_naming_the_line_and_the_field(tmp_path: Path, capsys):
    from forbear_policy_lab.portfolio import CSV_COLUMNS

    rows = tmp_path / "book.csv"
    good = {"borrower_id": "b1", "hardship": "unemployment", "dpd_at_first_contact": "12", "income": "5000.00",
            "essential_expenditure": "3500.00", "other_debt_payments": "", "dependants": "0",
            "gross_monthly_income": "", "evidence": "complete", "evidence_days": "", "no_contact_delinquencies": "",
            "outstanding_principal": "12000.00", "overdue_principal": "0", "overdue_interest": "0",
            "penalty_interest": "0", "fees": "0", "annual_rate": "0.08", "original_term_months": "24",
            "remaining_term_months": "12", "contractual_instalment": "1100.00"}
    bad = dict(good, borrower_id="b2", annual_rate="")
    rows.write_text("\n".join([",".join(CSV_COLUMNS)] + [",".join(r[c] for c in CSV_COLUMNS) for r in (good, bad)]))
    assert main(["compare", "--portfolio", str(rows), "--policy", CHAMPION, "--policy", CHALLENGER]) == 2
    assert "line 3: annual_rate is empty" in capsys.readouterr().err


def test_compare_prints_both_policies_side_by_side_and_writes_a_self_contained_report(tmp_path: Path, capsys):
    report = tmp_path / "report.html"
    assert main(["compare", "--portfolio", "7", "--size", "8", "-R", "2", "--jobs", "1", "--policy", CHAMPION,
                 "--policy", CHALLENGER, "--html", str(report)]) == 0
    out = capsys.readouterr().out
    assert "A: champion (policy lab-champion-2026.1)" in out and "B - A" in out
    for label in ("approved", "mean instalment relief", "cure rate", "breach rate", "legal referral rate",
                  "recovered, present value", "borrower burden"):
        assert label in out
    page = report.read_text(encoding="utf-8")
    assert page.count("<svg") == 4 and "<script" not in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing fetched


LIVE = """
[challenger]
version = "lab-champion-2026.1-c1"
share = "0.20"

[challenger.restructuring]
rate_floor = "0.015"
interest_waiver_max_share = "0.5"
"""


def test_a_files_live_challenger_is_compared_as_it_runs_live(tmp_path: Path, capsys):
    """FILE#challenger is the challenger FILE names: the same tallies as a file that simply says
    its two values (written here by hand), and the report names its version."""
    from forbear_policy_lab import engine

    champion = (EXAMPLES / "champion.toml").read_text(encoding="utf-8")
    live = tmp_path / "live.toml"
    live.write_text(champion + LIVE, encoding="utf-8")
    by_hand = (champion.replace('version = "lab-champion-2026.1"', 'version = "lab-champion-2026.1-c1"')
               .replace('rate_floor = "0.02"', 'rate_floor = "0.015"')
               .replace('interest_waiver_max_share = "0.3"', 'interest_waiver_max_share = "0.5"'))
    assert by_hand.count('"0.015"') == 1

    def tallies(texts: tuple[str, ...], arms: tuple[str, ...]) -> engine.Tallies:
        settings = engine.Settings(texts, engine.date(2026, 3, 10), seed=1, replications=1, arms=arms)
        return engine.run_local(engine.chunks_of(settings, portfolio_seed=7, size=40), jobs=1)

    live_text = live.read_text(encoding="utf-8")
    assert tallies((live_text, live_text), ("champion", "challenger")) == tallies((champion, by_hand), ())
    assert main(["compare", "--portfolio", "7", "--size", "8", "-R", "1", "--jobs", "1",
                 "--policy", str(live), "--policy", f"{live}#challenger"]) == 0
    out = capsys.readouterr().out
    assert "live (challenger)" in out and "lab-champion-2026.1-c1" in out


def test_a_challenger_asked_of_a_file_without_one_is_refused(capsys):
    assert main(["compare", "--portfolio", "7", "--policy", CHAMPION, "--policy", f"{CHAMPION}#challenger"]) == 2
    assert "names no [challenger]" in capsys.readouterr().err
    assert main(["compare", "--portfolio", "7", "--policy", CHAMPION, "--policy", f"{CHAMPION}#other"]) == 2
    assert "only 'challenger'" in capsys.readouterr().err

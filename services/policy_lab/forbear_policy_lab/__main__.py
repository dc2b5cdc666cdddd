"""Compare lending policies on one portfolio, offline, with the services' own rules.

    python -m forbear_policy_lab compare --portfolio SEED|FILE --policy A.toml --policy B.toml [...]
        [--size N] [--replications R] [--seed S] [--as-of DATE] [--engine local|dask]
        [--jobs N] [--scheduler ADDRESS] [--html REPORT.html] [--discount-rate D]

``--portfolio`` an integer draws the demo lender's book of ``--size`` borrowers with that seed;
a ``.jsonl`` or ``.csv`` file is read (``forbear_policy_lab.portfolio``). Each borrower is
evaluated under each policy, takes an offer, and pays month by month as the behaviour model
says, R times with seeds S, S+1, ... (``forbear_policy_lab.domain.behaviour``). Exit 2 on a bad
policy file (the message names the field) or a bad portfolio file (it names the line).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from forbear_shared.domain.policy import PolicyError
from forbear_shared.domain.working_days import CalendarYearUnknown
from forbear_shared.policy_loader import policy_from_text

from . import engine, portfolio, report
from .domain.behaviour import BehaviourModel


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m forbear_policy_lab", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compare", help="run every policy over the same portfolio and print them side by side")
    c.add_argument("--portfolio", required=True, help="a seed (integer) or a .jsonl / .csv file of borrowers")
    c.add_argument("--policy", action="append", required=True, metavar="FILE.toml",
                   help="a policy file; give two or more (the first is A, the champion); FILE.toml#challenger "
                        "is the challenger that file names ([challenger]), as it runs live")
    c.add_argument("--size", type=int, default=1000, help="borrowers of a seeded portfolio (default 1000)")
    c.add_argument("--replications", "-R", type=int, default=5, help="behaviour replications (default 5)")
    c.add_argument("--seed", type=int, default=1, help="first behaviour seed (default 1)")
    c.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 3, 10),
                   help="business date of the evaluations and of activation (default 2026-03-10)")
    c.add_argument("--engine", choices=("local", "dask"), default="local")
    c.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per core)")
    c.add_argument("--scheduler", default=None, help="dask: address of a running scheduler (default: a local cluster)")
    c.add_argument("--discount-rate", default=None,
                   help="annual rate for present values (default: policy A's evaluation.lender_value.annual_discount_rate)")
    c.add_argument("--html", type=Path, default=None, metavar="REPORT.html", help="also write a report with charts")
    return parser.parse_args(argv)


def _fail(message: str) -> int:
    print(f"policy lab: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = _args(argv)
    if len(args.policy) < 2:
        return _fail("give at least two --policy files to compare")
    if args.replications < 1 or args.size < 1:
        return _fail("--replications and --size must be at least 1")
    texts, versions, arms, names = [], [], [], []
    for given in args.policy:
        path, _, arm = given.partition("#")
        if arm not in ("", "challenger"):
            return _fail(f"{given}: after # only 'challenger' (the file's [challenger])")
        try:
            text = Path(path).read_text(encoding="utf-8")
            policy = policy_from_text(text)
        except OSError as exc:
            return _fail(f"{path}: {exc.strerror}")
        except PolicyError as exc:
            return _fail(f"{path}: {exc}")
        if arm and policy.challenger_policy is None:
            return _fail(f"{path}: the policy names no [challenger]")
        versions.append(policy.challenger_policy.version if arm and policy.challenger_policy else policy.version)
        texts.append(text)
        arms.append(arm or "champion")
        names.append(f"{Path(path).stem} ({arm})" if arm else Path(path).stem)
    try:
        rate = Decimal(args.discount_rate) if args.discount_rate is not None else None
    except InvalidOperation:
        return _fail(f"--discount-rate {args.discount_rate!r} is not a decimal")
    settings = engine.Settings(tuple(texts), args.as_of, args.seed, args.replications, BehaviourModel(), rate,
                               tuple(arms))
    if args.portfolio.isdigit():
        chunks = engine.chunks_of(settings, portfolio_seed=int(args.portfolio), size=args.size)
    else:
        try:
            records = portfolio.read_file(args.portfolio, args.as_of)
        except OSError as exc:
            return _fail(f"{args.portfolio}: {exc.strerror}")
        except portfolio.PortfolioError as exc:
            return _fail(f"{args.portfolio}: {exc}")
        chunks = engine.chunks_of(settings, records=records)
    started = time.perf_counter()
    try:
        if args.engine == "dask":
            tallies = engine.run_dask(chunks, args.scheduler, args.jobs, progress=lambda m: print(m, file=sys.stderr))
        else:
            tallies = engine.run_local(chunks, args.jobs)
    except CalendarYearUnknown as exc:
        return _fail(f"{exc} (a plan runs into that year: publish it in the policy's calendar.published_years)")
    elapsed = time.perf_counter() - started
    currency = policy_from_text(texts[0]).currency
    comparison = report.compare(tallies, tuple(names), versions, args.replications, currency)
    print(report.text(comparison))
    print(f"\n{elapsed:.1f} s on {os.cpu_count()} cores ({args.engine} engine, {len(chunks)} chunks)")
    if args.html is not None:
        args.html.write_text(report.html(comparison), encoding="utf-8")
        print(f"report written to {args.html}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m forbear_simulator demo|headless`` — the demo lender against a running stack.

demo      runs until stopped (SIGTERM/SIGINT): a warm-up of business days back to back, then
          one business day every ``--day-seconds``; ``make run`` starts it in the background.
headless  runs ``--days`` business days as fast as the services allow, then prints the
          portfolio outcome read back from the services' APIs (``--json`` for JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from forbear_simulator.sim import Config, Simulation, install_signal_handlers


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m forbear_simulator", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    for name in ("demo", "headless"):
        s = sub.add_parser(name)
        s.add_argument("--seed", type=int, default=7)
        s.add_argument("--borrowers", type=int, default=300 if name == "demo" else 200)
        s.add_argument("--arrival-days", type=int, default=None,
                       help="business days over which the borrowers make first contact "
                            "(demo: 90; headless: a quarter of --days, at most 60)")
        s.add_argument("--run-id", default=None, help="names this run's borrowers (default: random)")
        s.add_argument("--port-offset", type=int, default=int(os.environ.get("FORBEAR_PORT_OFFSET", "0")))
        s.add_argument("--host", default="127.0.0.1")
        if name == "demo":
            s.add_argument("--day-seconds", type=float, default=float(os.environ.get("FORBEAR_DEMO_DAY_SECONDS", "2.5")),
                           help="wall-clock seconds per business day (accelerated clock)")
            s.add_argument("--warmup-days", type=int, default=40,
                           help="business days run back to back first, so every state shows at once")
            s.add_argument("--days", type=int, default=None, help="stop after this many business days")
            s.add_argument("--pid-file", default=None, help="write this process's pid here (removed on exit)")
            s.add_argument("--waves", type=int, default=3,
                           help="waves of --borrowers newcomers, one per arrival window (keeps the queues alive)")
            s.add_argument("--demo-borrower-password", default=None,
                           help="leave one borrower to a person on the portal, registered with this password")
        else:
            s.add_argument("--days", type=int, default=240)
            s.add_argument("--json", action="store_true", help="print the outcome as JSON")
    return p


def config_of(args: argparse.Namespace) -> Config:
    cfg = Config(seed=args.seed, borrowers=args.borrowers, days=args.days, port_offset=args.port_offset,
                 host=args.host)
    if args.run_id:
        cfg.run_id = args.run_id
    if args.mode == "demo":
        cfg.arrival_days = args.arrival_days or 90
        cfg.day_seconds = args.day_seconds
        cfg.warmup_days = args.warmup_days
        cfg.waves = args.waves
        cfg.demo_borrower_password = args.demo_borrower_password
    else:
        cfg.arrival_days = args.arrival_days or max(1, min(60, args.days // 4))
        cfg.day_seconds = 0
    return cfg


def format_outcome(outcome: dict[str, object]) -> str:
    lines = [f"portfolio outcome (seed {outcome['seed']}, run {outcome['run_id']}, {outcome['borrowers']} borrowers, "
             f"{outcome['business_days']} business days, to {outcome['business_date']})"]
    rows = [
        ("cases opened", outcome["cases_opened"]),
        ("approval rate", f"{outcome['approval_rate']:.1%} of {outcome['decided']} decided"),
        ("agreements activated", outcome["agreements_activated"]),
        ("cure rate", f"{outcome['cure_rate']:.1%} ({outcome['cured']} of {outcome['delinquent']} delinquent)"),
        ("breach rate", f"{outcome['breach_rate']:.1%} ({outcome['breached']} breach notices)"),
        ("referral rate", f"{outcome['referral_rate']:.1%} ({outcome['referred']} referred to legal)"),
        ("completed", outcome["completed"]),
        ("recovered amount", f"{outcome['recovered_amount']} CNY (payments applied)"),
        ("cases by status", ", ".join(f"{k} {v}" for k, v in outcome["cases_by_status"].items())),  # type: ignore[attr-defined]
    ]
    lines += [f"  {label:<22} {value}" for label, value in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    cfg = config_of(args)
    if args.mode == "demo":
        sim = Simulation(cfg, say=_say)
        install_signal_handlers(sim)
        pid_file = Path(args.pid_file) if args.pid_file else None
        if pid_file:
            pid_file.write_text(str(os.getpid()))
        try:
            sim.run()
        finally:
            if pid_file and pid_file.exists() and pid_file.read_text().strip() == str(os.getpid()):
                pid_file.unlink()
        _say("simulator stopped")
        return 0
    sim = Simulation(cfg, say=(lambda m: print(m, file=sys.stderr, flush=True)))
    install_signal_handlers(sim)
    started = time.monotonic()
    actions = sim.run()
    print("actions: " + ", ".join(f"{k} {v}" for k, v in sorted(actions.items())), file=sys.stderr, flush=True)
    outcome = sim.outcome()
    outcome["wall_seconds"] = round(time.monotonic() - started, 1)
    if args.json:
        print(json.dumps(outcome, indent=2))
    else:
        print(format_outcome(outcome))
        print(f"  {'wall time':<22} {outcome['wall_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""make run's supervisor: a process that exits is started again, logged and counted; stopping
the supervisor stops what it started, by pid."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path

from forbear_shared.devstack import Proc, Stack, Supervisor
from forbear_shared.retry import Backoff

from tests.support.infra import eventually

SLEEPS = [sys.executable, "-c", "import time; time.sleep(600)"]
FAILS = [sys.executable, "-c", "raise SystemExit(3)"]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_killed_process_and_one_that_keeps_failing_are_started_again_and_counted(tmp_path: Path) -> None:
    stack = Stack(tmp_path, {}, procs=[Proc("steady", SLEEPS, {}, None), Proc("failing", FAILS, {}, None)])
    supervisor = Supervisor(stack, backoff=Backoff(initial=0.05, cap=0.2))
    stop = threading.Event()
    runner = threading.Thread(target=supervisor.run, args=(stop, 0.05))
    runner.start()
    try:
        first = eventually(lambda: stack.pid("steady"), timeout=10)
        os.kill(first, signal.SIGKILL)
        second = eventually(lambda: (lambda p: p if p and p != first else None)(stack.pid("steady")), timeout=10)
        assert alive(second)
        # a process that exits at once is started again each time, the backoff growing to its cap
        eventually(lambda: supervisor.restarts["failing"] >= 3, timeout=10)
        state = eventually(lambda: json.loads((tmp_path / "supervisor.json").read_text())
                           if (tmp_path / "supervisor.json").exists() else None, timeout=5)
        assert state["pid"] == os.getpid()
        assert state["restarts"]["steady"] >= 1
    finally:
        stop.set()
        runner.join(timeout=30)
    assert not runner.is_alive()
    assert not alive(second)
    assert stack.pid("steady") is None and not (tmp_path / "steady.pid").exists()
    assert supervisor.restarts["steady"] == 1


def test_the_backoff_between_restarts_grows_and_is_capped() -> None:
    backoff = Backoff(initial=1.0, cap=60.0)
    # each wait is drawn from the upper half of min(cap, 1 s x 2^n)
    for attempt, bound in [(0, 1.0), (1, 2.0), (3, 8.0), (5, 32.0), (6, 60.0), (40, 60.0)]:
        for _ in range(50):
            assert bound / 2 <= backoff.delay(attempt) <= bound

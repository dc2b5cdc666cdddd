"""Stopping by pid: SIGTERM, then SIGKILL for a process that ignores it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from forbear_shared.devstack import terminate

IGNORES_TERM = "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_process_that_stops_on_sigterm_is_reaped():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    terminate(proc.pid, timeout=10)
    assert _gone(proc.pid)


def test_a_process_that_ignores_sigterm_is_killed_after_the_timeout():
    proc = subprocess.Popen([sys.executable, "-c", IGNORES_TERM], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    terminate(proc.pid, timeout=0.5)
    # it ignored SIGTERM, so only the SIGKILL that followed can have ended it
    assert _gone(proc.pid)


def test_a_pid_already_gone_is_not_an_error():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    terminate(proc.pid, signal.SIGTERM, timeout=1)

"""Start, watch and stop the services as local processes (``make run`` and the test suite).

Every process is started with its own environment and log file, recorded by pid, waited for
with a real HTTP readiness call, and stopped by that pid (SIGTERM, then SIGKILL).

A process can run as several replicas (``replicas={"monitoring-worker": 2}``): the first keeps
its name and ports, the n-th is named ``<name>-<n>`` and listens ``(n - 1) x REPLICA_PORT_STEP``
ports above the first (``monitoring-worker-2`` serves /metrics on 9114, ``monitoring-api-2`` on
8114). Workers' replicas are members of the same consumer group; API replicas share nothing but
Postgres and Kafka.

``up`` (``make run``) hands the processes to a supervisor, a small process of its own
(``supervise``, pid in ``supervisor.pid``) that starts them, starts again one that exited,
after a backoff that grows with each exit in a row (1 s to 60 s, reset once it ran for a
minute), logs each exit and counts the restarts per process in ``supervisor.json``; ``down``
stops the supervisor, which stops its processes by pid, then anything still recorded. The
test suite's ``Stack`` starts processes unsupervised, so that a test can kill one for good.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from forbear_shared.retry import Backoff

log = logging.getLogger("forbear_shared.devstack")

SERVICES = ("intake", "evaluation", "agreement", "monitoring")
API_PORTS = {"intake": 8101, "evaluation": 8102, "agreement": 8103, "monitoring": 8104}
WORKER_METRICS_PORTS = {"intake": 9101, "evaluation": 9102, "agreement": 9103, "monitoring": 9104}
#: the console's worker (the operations read model) serves /metrics here
CONSOLE_WORKER_METRICS_PORT = 9100
#: the operators' console and the borrowers' portal
CONSOLE_PORT = 8100
PORTAL_PORT = 8105
#: ports of the n-th replica of a process: the first one's plus (n - 1) x this (9 replicas at most)
REPLICA_PORT_STEP = 10
MAX_REPLICAS = 9


def replica_name(name: str, replica: int) -> str:
    """``monitoring-worker`` for the first replica, ``monitoring-worker-2`` for the second."""
    return name if replica == 1 else f"{name}-{replica}"


def replica_port(port: int, replica: int) -> int:
    return port + (replica - 1) * REPLICA_PORT_STEP


@dataclass(frozen=True)
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    ready_url: str | None


def processes(env: dict[str, str], port_offset: int = 0, replicas: Mapping[str, int] | None = None) -> list[Proc]:
    """Every process of the stack; ``replicas`` runs more than one of a service's API or worker
    (by name, e.g. ``{"evaluation-worker": 2}``)."""
    py = sys.executable
    counts = dict(replicas or {})
    known = {f"{s}-{kind}" for s in SERVICES for kind in ("api", "worker")}
    if set(counts) - known:
        raise ValueError(f"no such process to replicate: {sorted(set(counts) - known)}")
    if any(not 1 <= n <= MAX_REPLICAS for n in counts.values()):
        raise ValueError(f"replicas of a process: 1 to {MAX_REPLICAS}")
    procs: list[Proc] = []
    for service in SERVICES:
        for replica in range(1, counts.get(f"{service}-api", 1) + 1):
            api_port = replica_port(API_PORTS[service] + port_offset, replica)
            procs.append(
                Proc(
                    replica_name(f"{service}-api", replica),
                    [py, "-m", "forbear_shared.serve", f"forbear_{service}.entrypoints.api:create_app",
                     "--service", service, "--host", "127.0.0.1", "--port", str(api_port)],
                    {**env, "FORBEAR_HTTP_PORT": str(api_port),
                     "FORBEAR_METRICS_PORT": str(replica_port(WORKER_METRICS_PORTS[service] + port_offset, replica))},
                    f"http://127.0.0.1:{api_port}/readyz",
                )
            )
        for replica in range(1, counts.get(f"{service}-worker", 1) + 1):
            metrics_port = replica_port(WORKER_METRICS_PORTS[service] + port_offset, replica)
            procs.append(
                Proc(replica_name(f"{service}-worker", replica), [py, "-m", f"forbear_{service}.entrypoints.worker"],
                     {**env, "FORBEAR_HTTP_PORT": str(replica_port(API_PORTS[service] + port_offset, replica)),
                      "FORBEAR_METRICS_PORT": str(metrics_port)},
                     f"http://127.0.0.1:{metrics_port}/metrics")
            )
    console_metrics = CONSOLE_WORKER_METRICS_PORT + port_offset
    procs.append(Proc(
        "console-worker", [py, "-m", "forbear_console.entrypoints.worker"],
        {**env, "FORBEAR_METRICS_PORT": str(console_metrics)}, f"http://127.0.0.1:{console_metrics}/metrics",
    ))
    # the browsers' doors: the operators' console and the borrowers' portal
    for name, module, port in (("console", "api", CONSOLE_PORT), ("portal", "portal", PORTAL_PORT)):
        door_port = port + port_offset
        procs.append(Proc(
            name,
            [py, "-m", "forbear_shared.serve", f"forbear_console.entrypoints.{module}:create_app",
             "--service", name, "--host", "127.0.0.1", "--port", str(door_port)],
            {**env, "FORBEAR_PORT_OFFSET": str(port_offset), "FORBEAR_HTTP_PORT": str(door_port)},
            f"http://127.0.0.1:{door_port}/healthz",
        ))
    return procs



def terminate(pid: int, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
    """Send ``sig`` to ``pid`` and wait until it is gone; SIGKILL once ``timeout`` has passed.

    The one way Forbear's tooling stops what it started: by pid, never by name. A child of
    this process is reaped; any other process is polled until it no longer exists."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    killed = sig == signal.SIGKILL
    while True:
        try:
            waited, _ = os.waitpid(pid, os.WNOHANG)
            if waited == pid:
                return
        except ChildProcessError:
            pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        if not killed and time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)
            killed, deadline = True, time.monotonic() + 10.0
        elif killed and time.monotonic() >= deadline:
            return  # gone from our hands: a process SIGKILLed and unreaped by its parent (zombie)
        time.sleep(0.05)

class Stack:
    def __init__(self, run_dir: Path, env: dict[str, str], port_offset: int = 0,
                 replicas: Mapping[str, int] | None = None, procs: list[Proc] | None = None) -> None:
        self.run_dir = run_dir
        self.env = env
        self.port_offset = port_offset
        self.replicas = dict(replicas or {})
        self.procs = {p.name: p for p in (procs if procs is not None else processes(env, port_offset, replicas))}
        #: the processes this object started, to learn of their exit (and reap them)
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        run_dir.mkdir(parents=True, exist_ok=True)

    def _pidfile(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def pid(self, name: str) -> int | None:
        path = self._pidfile(name)
        if not path.exists():
            return None
        pid = int(path.read_text())
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            path.unlink(missing_ok=True)
            return None
        return pid

    def start(self, name: str) -> int:
        existing = self.pid(name)
        if existing:
            return existing
        proc = self.procs[name]
        log = open(self.run_dir / f"{name}.log", "ab")
        child = subprocess.Popen(
            proc.argv, env={**os.environ, **proc.env}, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        self._pidfile(name).write_text(str(child.pid))
        self.children[name] = child
        return child.pid

    def exited(self, name: str) -> int | None:
        """The exit code of a process that is no longer running (-N: killed by signal N), else None."""
        child = self.children.get(name)
        if child is not None:
            code = child.poll()
            if code is not None:
                self._pidfile(name).unlink(missing_ok=True)
            return code
        return -1 if self.pid(name) is None else None

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
        pid = self.pid(name)
        if pid is None:
            return
        terminate(pid, sig, timeout)
        self._pidfile(name).unlink(missing_ok=True)

    def kill(self, name: str) -> None:
        """SIGKILL: a crash, for restart tests."""
        self.stop(name, signal.SIGKILL, timeout=5)

    def wait_ready(self, names: list[str] | None = None, timeout: float = 90.0, *, supervised: bool = False) -> None:
        """Wait until each process answers its readiness URL. Unsupervised, a process that
        exited fails at once; supervised, it is being started again, and only the deadline fails."""
        deadline = time.monotonic() + timeout
        for name in names or list(self.procs):
            url = self.procs[name].ready_url
            if url is None:
                continue
            while True:
                if self.pid(name) is None and not supervised:
                    raise RuntimeError(f"{name} exited; see {self.run_dir / (name + '.log')}")
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} not ready at {url}; see {self.run_dir / (name + '.log')}")
                time.sleep(0.25)

    def up(self, names: list[str] | None = None) -> None:
        for name in names or list(self.procs):
            self.start(name)
        self.wait_ready(names)

    def _further_replicas(self) -> list[str]:
        """Replicas recorded in the run directory beyond this stack's (started with more of them)."""
        recorded = {path.stem for path in self.run_dir.glob("*.pid")}
        return sorted((recorded & _all_replica_names()) - set(self.procs))

    def down(self) -> None:
        """Stop every process, and the further replicas a run with more of them left recorded."""
        for name in [*reversed(list(self.procs)), *reversed(self._further_replicas())]:
            self.stop(name)

    def status(self) -> dict[str, int | None]:
        return {name: self.pid(name) for name in [*self.procs, *self._further_replicas()]}


def _all_replica_names() -> set[str]:
    return {replica_name(f"{service}-{kind}", n) for service in SERVICES for kind in ("api", "worker")
            for n in range(2, MAX_REPLICAS + 1)}


def _replicas_arg(value: str) -> tuple[str, int]:
    name, _, count = value.partition("=")
    if not count.isdigit():
        raise argparse.ArgumentTypeError(f"expected NAME=COUNT, e.g. monitoring-worker=2: {value!r}")
    return name, int(count)


class Supervisor:
    """Keeps a stack's processes running: one that exited is started again after a backoff."""

    def __init__(self, stack: Stack, names: list[str] | None = None,
                 backoff: Backoff = Backoff(initial=1.0, cap=60.0), healthy_after: float = 60.0) -> None:
        self.stack = stack
        self.names = names or list(stack.procs)
        self.backoff = backoff
        #: a process that ran this long without exiting starts its backoff afresh
        self.healthy_after = healthy_after
        self.restarts = {name: 0 for name in self.names}
        self._exits_in_a_row = {name: 0 for name in self.names}
        self._started_at: dict[str, float] = {}
        self._restart_at: dict[str, float] = {}

    @property
    def state_file(self) -> Path:
        return self.stack.run_dir / "supervisor.json"

    def run(self, stop: threading.Event, every: float = 0.5) -> None:
        for name in self.names:
            self._start(name)
        self._record()
        while not stop.wait(every):
            self.tick()
        self.stack.down()
        self._record()

    def tick(self) -> None:
        now = time.monotonic()
        for name in self.names:
            due = self._restart_at.get(name)
            if due is not None:
                if now >= due:
                    del self._restart_at[name]
                    self.restarts[name] += 1
                    log.warning("restarting %s (restart %d)", name, self.restarts[name])
                    self._start(name)
                    self._record()
                continue
            code = self.stack.exited(name)
            if code is None:
                if now - self._started_at.get(name, now) > self.healthy_after:
                    self._exits_in_a_row[name] = 0
                continue
            wait = self.backoff.delay(self._exits_in_a_row[name])
            self._exits_in_a_row[name] += 1
            log.error("%s exited with code %s; starting it again in %.1f s (see %s)", name, code, wait,
                      self.stack.run_dir / f"{name}.log")
            self._restart_at[name] = now + wait

    def _start(self, name: str) -> None:
        try:
            pid = self.stack.start(name)
        except OSError:
            log.exception("cannot start %s; trying again", name)
            self._restart_at[name] = time.monotonic() + self.backoff.delay(self._exits_in_a_row[name])
            self._exits_in_a_row[name] += 1
            return
        self._started_at[name] = time.monotonic()
        log.info("%s started (pid %d)", name, pid)

    def _record(self) -> None:
        state = {"pid": os.getpid(), "restarts": self.restarts, "pids": self.stack.status()}
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.state_file)


def _supervisor_pid(run_dir: Path) -> int | None:
    try:
        pid = int((run_dir / "supervisor.pid").read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def start_supervisor(run_dir: Path, port_offset: int = 0, replicas: Mapping[str, int] | None = None) -> int:
    """The supervisor of ``run_dir``'s stack, in a session of its own (started unless running)."""
    existing = _supervisor_pid(run_dir)
    if existing is not None:
        return existing
    run_dir.mkdir(parents=True, exist_ok=True)
    out = open(run_dir / "supervisor.log", "ab")
    child = subprocess.Popen([sys.executable, "-m", "forbear_shared.devstack", "supervise", "--run-dir", str(run_dir),
                              "--port-offset", str(port_offset),
                              *[f"--replicas={name}={count}" for name, count in (replicas or {}).items()]],
                             stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    (run_dir / "supervisor.pid").write_text(str(child.pid))
    return child.pid


def stop_supervisor(run_dir: Path, timeout: float = 90.0) -> None:
    """SIGTERM the supervisor (it stops its processes by pid first), SIGKILL after ``timeout``."""
    pid = _supervisor_pid(run_dir)
    if pid is None:
        return
    terminate(pid, signal.SIGTERM, timeout)
    (run_dir / "supervisor.pid").unlink(missing_ok=True)


def supervise(stack: Stack) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s [supervisor] %(levelname)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    signal.signal(signal.SIGINT, lambda _signum, _frame: stop.set())
    log.info("supervising %s", ", ".join(stack.procs))
    Supervisor(stack).run(stop)
    log.info("stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forbear_shared.devstack")
    parser.add_argument("command", choices=["up", "down", "status", "supervise"])
    parser.add_argument("--run-dir", default=os.path.join(os.environ.get("FORBEAR_VAR_DIR", "/var/tmp/forbear"), "run"))
    parser.add_argument("--replicas", type=_replicas_arg, action="append", default=[], metavar="NAME=COUNT",
                        help="run COUNT of a service's api or worker, e.g. monitoring-worker=2 (repeatable)")
    parser.add_argument("--port-offset", type=int, default=0, help="added to every port (a second stack beside the first)")
    args = parser.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if k.startswith("FORBEAR_")}
    run_dir = Path(args.run_dir)
    try:
        stack = Stack(run_dir, env, port_offset=args.port_offset, replicas=dict(args.replicas))
    except ValueError as exc:
        parser.error(str(exc))
    if args.command == "up":
        pid = start_supervisor(run_dir, args.port_offset, stack.replicas)
        print(f"  supervisor  pid {pid}: restarts what exits (log {run_dir / 'supervisor.log'})")
        stack.wait_ready(supervised=True)
        for service in SERVICES:
            print(f"  {service:<11} http://127.0.0.1:{API_PORTS[service]}/docs   "
                  f"metrics :{API_PORTS[service]}/metrics (api) :{WORKER_METRICS_PORTS[service]}/metrics (worker)")
        for name in stack.procs:
            if name in _all_replica_names():
                print(f"  {name:<22} {stack.procs[name].ready_url}")
    elif args.command == "supervise":
        supervise(stack)
    elif args.command == "down":
        stop_supervisor(run_dir)
        stack.down()
    else:
        state_file = run_dir / "supervisor.json"
        restarts = json.loads(state_file.read_text()).get("restarts", {}) if state_file.exists() else {}
        print(json.dumps({"supervisor": _supervisor_pid(run_dir), "pids": stack.status(), "restarts": restarts},
                         indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

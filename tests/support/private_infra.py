"""A private Kafka broker and Postgres server for fault tests, beside the shared ones.

Fault tests stop, kill and restart the broker and the database; doing that to the shared pair
would break every other test of the run. ``PrivateInfra`` runs a second pair from the same
script (deploy/local/infra.sh with its own var dir and ports), and offers the faults an
operator meets: a broker SIGKILLed or paused, Postgres stopped immediately, both restarted.
The identity provider stays the shared one (tests mint tokens with the test issuer).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from forbear_shared.devstack import terminate

ROOT = Path(__file__).resolve().parents[2]
INFRA_SH = ROOT / "deploy" / "local" / "infra.sh"


@dataclass
class PrivateInfra:
    """Postgres on ``port_base``, Kafka on ``port_base + 1`` (controller ``+ 2``), data in ``var_dir``."""

    var_dir: Path
    port_base: int

    @classmethod
    def for_run(cls, port_offset: int) -> PrivateInfra:
        """The pair of a test run on ``port_offset`` (FORBEAR_TEST_PORT_OFFSET): two runs side by
        side get two pairs."""
        return cls(Path(f"/var/tmp/forbear/private-{port_offset}"), 40000 + (port_offset // 1000) * 10)

    @property
    def pg_port(self) -> int:
        return self.port_base

    @property
    def kafka_port(self) -> int:
        return self.port_base + 1

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def database_url(self) -> str:
        return f"postgresql://forbear:forbear-local@127.0.0.1:{self.pg_port}/forbear"

    @property
    def admin_url(self) -> str:
        return f"postgresql://forbear:forbear-local@127.0.0.1:{self.pg_port}/postgres"

    def env(self) -> dict[str, str]:
        """The variables infra.sh and the services read, all pointing at this pair."""
        return {
            "FORBEAR_VAR_DIR": str(self.var_dir),
            "FORBEAR_PG_PORT": str(self.pg_port),
            "FORBEAR_KAFKA_PORT": str(self.kafka_port),
            "FORBEAR_KAFKA_CONTROLLER_PORT": str(self.port_base + 2),
            "FORBEAR_KAFKA_BOOTSTRAP": self.bootstrap,
            "FORBEAR_DATABASE_URL": self.database_url,
        }

    def _infra(self, *args: str, extra: dict[str, str] | None = None, timeout: float = 300) -> None:
        env = {**os.environ, **self.env(), **(extra or {}), "FORBEAR_PYTHON": str(ROOT / ".venv" / "bin" / "python")}
        subprocess.run(["bash", str(INFRA_SH), *args], env=env, check=True, timeout=timeout,
                       stdout=subprocess.DEVNULL)

    # -- the pair ---------------------------------------------------------------------------

    def up(self) -> None:
        self._infra("up", "postgres", "kafka")

    def down(self, *, wipe: bool = True) -> None:
        self.resume_kafka()
        self._infra("down", "kafka", "postgres")
        if wipe:
            shutil.rmtree(self.var_dir, ignore_errors=True)

    # -- faults ---------------------------------------------------------------------------

    def kafka_pid(self) -> int | None:
        path = self.var_dir / "kafka" / "kafka.pid"
        try:
            pid = int(path.read_text())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def kill_kafka(self) -> None:
        """SIGKILL the broker (a crash: nothing flushed, no controlled shutdown)."""
        pid = self.kafka_pid()
        if pid is not None:
            terminate(pid, signal.SIGKILL)

    def stop_kafka(self) -> None:
        """A clean broker stop (SIGTERM, waited for)."""
        self._infra("down", "kafka")

    def start_kafka(self) -> None:
        """Start the broker again (same data dir) and wait until it answers metadata calls."""
        self._infra("up", "kafka")

    def pause_kafka(self) -> None:
        pid = self.kafka_pid()
        if pid is not None:
            os.kill(pid, signal.SIGSTOP)

    def resume_kafka(self) -> None:
        pid = self.kafka_pid()
        if pid is not None:
            os.kill(pid, signal.SIGCONT)

    def stop_postgres(self, *, immediate: bool = True) -> None:
        """Stop Postgres; ``immediate`` is a crash-like stop (no checkpoint, clients cut off)."""
        self._infra("down", "postgres", extra={"FORBEAR_PG_STOP_MODE": "immediate" if immediate else "fast"})

    def start_postgres(self) -> None:
        self._infra("up", "postgres")


class Starting:
    """A pair started in a thread, so that its minute or more of start-up overlaps other work;
    ``wait`` returns it once up (or raises what went wrong)."""

    def __init__(self, pair: PrivateInfra) -> None:
        self.pair = pair
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._up, name="private-infra-up", daemon=True)
        self._thread.start()

    def _up(self) -> None:
        try:
            self.pair.up()
        except BaseException as exc:  # handed to whoever waits
            self._error = exc

    def wait(self, timeout: float = 600) -> PrivateInfra:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"the private pair in {self.pair.var_dir} did not start within {timeout:.0f} s")
        if self._error is not None:
            raise self._error
        return self.pair

    def down(self) -> None:
        self._thread.join(600)
        self.pair.down()


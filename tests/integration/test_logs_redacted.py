"""Every line an API process writes, uvicorn's included, is redacted JSON (finding 5)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.faulty_app import PHONE

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(factory: str, log: Path, port: int) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "forbear_shared.serve", factory, "--service", "faulty", "--port", str(port)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )


def assert_only_redacted_json(log: Path) -> list[dict]:
    text = log.read_text()
    assert PHONE not in text, text[-2000:]
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is JSON
    assert lines
    return lines


def test_a_failing_request_logs_only_redacted_json_lines(tmp_path: Path) -> None:
    log, port = tmp_path / "faulty-api.log", free_port()
    process = serve("tests.support.faulty_app:create_app", log, port)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/fail")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None, log.read_text()
                time.sleep(0.2)
        assert response.status_code == 500 and PHONE not in response.text
        error_id = response.json()["error_id"]
    finally:
        process.terminate()
        process.wait(timeout=20)
    lines = assert_only_redacted_json(log)
    [failure] = [line for line in lines if line.get("error_id") == error_id]
    assert "RuntimeError" in failure["error"] and "*******5678" in failure["error"]
    assert any(line["logger"] == "py.warnings" and "*******5678" in line["msg"] for line in lines)
    assert any(line["logger"].startswith("uvicorn") for line in lines)


def test_an_app_that_fails_to_load_logs_only_redacted_json_lines(tmp_path: Path) -> None:
    log = tmp_path / "broken-api.log"
    process = serve("tests.support.faulty_app:create_broken_app", log, free_port())
    assert process.wait(timeout=30) != 0
    lines = assert_only_redacted_json(log)
    assert any("*******5678" in (line["msg"] + line.get("error", "")) for line in lines)


def test_the_service_logs_of_the_test_stack_are_redacted_json(stack) -> None:
    for name in ("intake-api", "evaluation-api", "agreement-api", "monitoring-api", "console"):
        assert_only_redacted_json(stack.run_dir / f"{name}.log")

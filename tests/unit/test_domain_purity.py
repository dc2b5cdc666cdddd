"""Every ``domain/`` package is pure: no I/O libraries, no file access, no wall clock.

Why: business decisions must be replayable from their inputs (the business
date and the policy are passed in), and a domain that can read the clock or
a socket cannot be. This test walks the source with ``ast`` instead of
importing it, so a forbidden import is caught even in a module no test loads.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BANNED_MODULES = frozenset({
    # operating system, processes, files
    "os", "sys", "subprocess", "pathlib", "io", "shutil", "tempfile", "glob", "fileinput",
    "importlib", "pickle", "shelve", "sqlite3", "zoneinfo", "logging", "signal", "mmap",
    # network and concurrency
    "socket", "socketserver", "ssl", "select", "selectors", "http", "urllib", "email", "smtplib",
    "asyncio", "threading", "multiprocessing", "concurrent",
    # the clock
    "time",
    # infrastructure clients
    "psycopg", "psycopg2", "psycopg_pool", "asyncpg", "sqlalchemy", "kafka", "aiokafka", "confluent_kafka",
    "faust", "fastapi", "starlette", "uvicorn", "httpx", "requests", "aiohttp", "prometheus_client",
})
BANNED_CALLS = frozenset({"open", "input", "print", "breakpoint", "exec", "eval", "__import__"})
CLOCK_ATTRIBUTES = frozenset({"now", "utcnow", "today", "time_ns", "monotonic", "perf_counter"})


def domain_packages() -> list[Path]:
    packages = [ROOT / "shared" / "forbear_shared" / "domain"]
    packages += sorted(p for p in (ROOT / "services").glob("*/forbear_*/domain") if p.is_dir())
    return packages


def violations(source: str, filename: str) -> list[str]:
    found: list[str] = []
    tree = ast.parse(source, filename=filename)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in BANNED_MODULES:
                    found.append(f"{filename}:{node.lineno} imports {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 0 and module.split(".")[0] in BANNED_MODULES:
                found.append(f"{filename}:{node.lineno} imports from {module}")
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in BANNED_CALLS:
                found.append(f"{filename}:{node.lineno} calls {node.func.id}()")
        elif isinstance(node, ast.Attribute) and node.attr in CLOCK_ATTRIBUTES:
            found.append(f"{filename}:{node.lineno} reads the clock via .{node.attr}")
    return found


def domain_modules() -> list[Path]:
    return sorted(path for package in domain_packages() for path in package.rglob("*.py"))


def test_every_service_domain_package_is_checked():
    names = {p.relative_to(ROOT).as_posix() for p in domain_packages()}
    assert "shared/forbear_shared/domain" in names
    for service in ("evaluation", "monitoring", "intake"):
        assert f"services/{service}/forbear_{service}/domain" in names
    assert len(domain_modules()) > 10


@pytest.mark.parametrize("path", domain_modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_domain_module_does_no_io_and_reads_no_clock(path: Path):
    assert violations(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix()) == []


@pytest.mark.parametrize("snippet", [
    "import os",
    "from pathlib import Path",
    "import aiokafka",
    "from psycopg import connect",
    "import urllib.request",
    "from time import time",
    "data = open('policy.toml').read()",
    "from datetime import datetime\nstamp = datetime.now()",
    "import datetime\nd = datetime.date.today()",
    "from datetime import datetime\nstamp = datetime.utcnow()",
])
def test_the_checker_catches_io_and_clock_reads(snippet: str):
    assert violations(snippet, "snippet.py") != []


def test_the_checker_allows_pure_code():
    pure = "from datetime import date\nfrom decimal import Decimal\nimport tomllib\nx = date(2025, 1, 1)"
    assert violations(pure, "pure.py") == []

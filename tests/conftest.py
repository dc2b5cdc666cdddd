"""Fixtures for integration and end-to-end tests: the real Kafka broker and Postgres server.

``make test`` starts both (deploy/local/infra.sh); each test run gets its own database and
its own topic prefix, so runs never see each other's data, and removes them at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from forbear_shared.devstack import Stack

from tests.support.http import PORT_OFFSET
from tests.support.infra import TestInfra, start_test_infra, stop_test_infra
from tests.support.private_infra import PrivateInfra, Starting

#: the private Kafka and Postgres pair of fault tests, started as soon as a test that needs it
#: is collected: its start-up (over a minute) runs beside the tests before it
_private: Starting | None = None


@pytest.fixture(scope="session")
def infra() -> Iterator[TestInfra]:
    started = start_test_infra()
    yield started
    stop_test_infra(started)


@pytest.fixture(scope="session")
def stack(infra: TestInfra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    run_dir = Path(tmp_path_factory.mktemp("stack"))
    services = Stack(run_dir, infra.service_env(), port_offset=PORT_OFFSET)
    try:
        services.up()
        yield services
    finally:
        services.down()


@pytest.fixture(scope="session")
def private_pair() -> Iterator[PrivateInfra]:
    """A Kafka broker and a Postgres server of this run alone, for tests that stop, kill and
    restart them (never the shared pair)."""
    global _private
    if _private is None:
        _private = Starting(PrivateInfra.for_run(PORT_OFFSET))
    try:
        yield _private.wait()
    finally:
        _private.down()
        _private = None


def pytest_collection_finish(session: pytest.Session) -> None:
    global _private
    if _private is None and any("private_pair" in getattr(item, "fixturenames", ()) for item in session.items):
        _private = Starting(PrivateInfra.for_run(PORT_OFFSET))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A pair started for tests that never ran (a failure stopped the session first) is stopped too."""
    global _private
    if _private is not None:
        _private.down()
        _private = None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The order of the suite under tests/ (the services' own tests keep theirs, before it: some
    start stacks of their own on the ports the shared one takes). Tests marked ``session_start``
    run first: they need the shared stack's business date as a new installation has it (5 Jan
    2026), before the others move it on. The API fuzz runs last: it fills the shared stack with
    cases and moves its business date, which the other tests read."""
    here = Path(__file__).parent

    def order(item: pytest.Item) -> int:
        if here not in item.path.parents:
            return 0
        if item.get_closest_marker("session_start") is not None:
            return 1
        return 3 if item.path.name == "test_api_fuzz.py" else 2

    items.sort(key=order)

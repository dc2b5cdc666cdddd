"""HTTP helpers for tests: the services under test and tokens for each role."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from forbear_shared.devstack import API_PORTS, WORKER_METRICS_PORTS, replica_port

from tests.support.identity import TEST_ISSUER

#: the services under test listen 10000 ports above the ``make run`` ones (another offset lets
#: two test runs share a machine: FORBEAR_TEST_PORT_OFFSET)
PORT_OFFSET = int(os.environ.get("FORBEAR_TEST_PORT_OFFSET", "10000"))


@contextmanager
def serving_at(port_offset: int) -> Iterator[None]:
    """Point ``api_url``, ``client`` and ``worker_metrics_url`` (and so the journeys of
    tests/e2e/journey.py) at a stack started on another port offset, e.g. beside a private pair."""
    global PORT_OFFSET
    previous, PORT_OFFSET = PORT_OFFSET, port_offset
    try:
        yield
    finally:
        PORT_OFFSET = previous


def api_url(service: str, port_offset: int | None = None, replica: int = 1) -> str:
    """The API of ``service`` (its ``replica``-th replica) under the stack started at ``port_offset``
    (by default the one ``serving_at`` points at)."""
    offset = PORT_OFFSET if port_offset is None else port_offset
    return f"http://127.0.0.1:{replica_port(API_PORTS[service] + offset, replica)}"


def worker_metrics_url(service: str, port_offset: int | None = None, replica: int = 1) -> str:
    offset = PORT_OFFSET if port_offset is None else port_offset
    return f"http://127.0.0.1:{replica_port(WORKER_METRICS_PORTS[service] + offset, replica)}/metrics"


def token(role: str, subject: str = "tester", borrower_id: str | None = None) -> str:
    """An access token of the test issuer (trusted by the services under test only)."""
    return TEST_ISSUER.mint(subject, role, borrower_id)


def client(service: str, role: str = "agent", subject: str = "tester", borrower_id: str | None = None,
           *, port_offset: int | None = None, replica: int = 1) -> httpx.Client:
    return httpx.Client(
        base_url=api_url(service, port_offset, replica),
        headers={"Authorization": f"Bearer {token(role, subject, borrower_id)}"},
        timeout=30,
    )

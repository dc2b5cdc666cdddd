"""One short seeded run of the fault campaign (``make chaos`` runs longer ones).

Two journeys and forty core-banking payments (a fifth of them sent twice) flow while three
faults drawn by the seed strike (an API or a worker SIGKILLed and restarted, a worker
stopped and continued, Postgres stopped immediately and restarted); then close of business
runs past the second instalment's grace period. Nothing acknowledged may be lost, nothing
doubled, no process may die on its own, and the system must come to rest.
"""

from __future__ import annotations

import pytest

from tests.chaos.campaign import RunPlan, campaign
from tests.support.private_infra import PrivateInfra

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

SEED = 20261201


def test_a_short_seeded_fault_campaign_loses_nothing_and_doubles_nothing(private_pair: PrivateInfra) -> None:
    plan = RunPlan(seed=SEED, journeys=2, payments=40, faults=3,
                   kinds=("kill_api", "kill_worker", "pause_worker", "stop_postgres"),
                   window=60.0, traffic_deadline=300.0, quiescence_timeout=120.0)
    # on the suite's private pair (a database and topics of the run's own); the pair stays up
    [result] = campaign([plan], pair=private_pair)
    assert sum(result.faults.values()) == 3, result.line()
    assert result.journeys_active == 2, result.notes
    # forty payments for loans no agreement covers, and each journey's first instalment
    assert result.payments == 40 + 2, result.line()
    assert result.died == {}, result.line()
    assert result.quiescent, result.notes
    assert result.lost == [], result.lost
    assert result.doubled == [], result.doubled

"""Running more than one of each process: the replicas' ports and the partitions members get."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from forbear_shared import topics
from forbear_shared.devstack import API_PORTS, WORKER_METRICS_PORTS, processes
from kafka.coordinator.assignors.range import RangePartitionAssignor

#: every topic one of our workers consumes (their WorkerSpecs and evaluation's faust source)
CONSUMED = (topics.INTAKE_EVENTS, topics.EVALUATION_EVENTS, topics.AGREEMENT_EVENTS, topics.MONITORING_EVENTS,
            topics.CORE_LOANS, topics.CORE_PAYMENTS)


def test_further_replicas_are_named_and_listen_ten_ports_above_the_first_which_keeps_its_own() -> None:
    procs = {p.name: p for p in processes({}, 0, {"monitoring-worker": 3, "monitoring-api": 2})}
    assert procs["monitoring-worker"].ready_url == f"http://127.0.0.1:{WORKER_METRICS_PORTS['monitoring']}/metrics"
    assert procs["monitoring-worker-2"].env["FORBEAR_METRICS_PORT"] == "9114"
    assert procs["monitoring-worker-3"].env["FORBEAR_METRICS_PORT"] == "9124"
    assert procs["monitoring-api"].env["FORBEAR_HTTP_PORT"] == str(API_PORTS["monitoring"])
    assert procs["monitoring-api-2"].ready_url == "http://127.0.0.1:8114/readyz"
    assert "intake-worker-2" not in procs and "intake-worker" in procs
    ports = [p.env["FORBEAR_HTTP_PORT"] for p in procs.values() if p.name.endswith(("-api", "-api-2"))]
    ports += [p.env["FORBEAR_METRICS_PORT"] for p in procs.values() if "-worker" in p.name]
    assert len(ports) == len(set(ports))


def test_a_replica_of_an_unknown_process_or_beyond_nine_is_refused() -> None:
    with pytest.raises(ValueError, match="no such process"):
        processes({}, 0, {"ledger-worker": 2})
    with pytest.raises(ValueError, match="1 to 9"):
        processes({}, 0, {"intake-worker": 10})


def shares(partitions: int, members: int, topic: str) -> list[int]:
    """Partitions of ``topic`` each member gets from the workers' assignor (kafka-python's range)."""
    group = [SimpleNamespace(member_id=f"member-{i}", group_instance_id=None, metadata=SimpleNamespace(topics=[topic]))
             for i in range(members)]
    cluster = SimpleNamespace(partitions_for_topic=lambda _topic: set(range(partitions)))
    assignment = RangePartitionAssignor.assign(cluster, group)
    return [sum(len(ps) for _, ps in assignment[m.member_id].assignment) for m in group]


@pytest.mark.parametrize("members", [2, 3, 4, 6, 12])
def test_every_member_of_a_group_of_up_to_twelve_gets_an_equal_share_of_each_consumed_topic(members: int) -> None:
    for topic in CONSUMED:
        assert topic.partitions == 12
        assert shares(topic.partitions, members, topic.name) == [12 // members] * members


def test_down_stops_further_replicas_recorded_by_a_run_that_started_more(tmp_path) -> None:
    import subprocess
    import sys

    from forbear_shared.devstack import Stack

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / "monitoring-worker-2.pid").write_text(str(sleeper.pid))  # another run's replica
        stack = Stack(tmp_path, {})  # one of each
        assert stack.status()["monitoring-worker-2"] == sleeper.pid
        stack.down()
        assert sleeper.poll() is not None  # stopped by its recorded pid
        assert not (tmp_path / "monitoring-worker-2.pid").exists()
    finally:
        if sleeper.poll() is None:
            sleeper.kill()

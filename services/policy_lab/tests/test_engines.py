"""Same seed, same numbers; every engine (one process, a process pool, a Dask cluster of worker
processes) adds up to exactly the same tallies, because tallies are exact sums."""

from __future__ import annotations

from datetime import date

import pytest
from forbear_policy_lab import engine

AS_OF = date(2026, 3, 10)


def settings(policy_texts: tuple[str, str], seed: int = 1) -> engine.Settings:
    return engine.Settings(policy_texts, AS_OF, seed=seed, replications=2)


@pytest.fixture(scope="module")
def reference(policy_texts):
    return engine.run_local(engine.chunks_of(settings(policy_texts), portfolio_seed=7, size=24), jobs=1)


def test_the_same_seed_gives_the_same_numbers(policy_texts, reference):
    again = engine.run_local(engine.chunks_of(settings(policy_texts), portfolio_seed=7, size=24), jobs=1)
    assert again == reference
    assert reference[(0, 0)].borrowers == 24 and set(reference) == {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_another_behaviour_seed_draws_other_payments(policy_texts, reference):
    other = engine.run_local(engine.chunks_of(settings(policy_texts, seed=2), portfolio_seed=7, size=24), jobs=1)
    # the decisions are the portfolio's; what is paid is the draws'
    assert other[(0, 0)].approved == reference[(0, 0)].approved
    assert [other[k].paid for k in sorted(other)] != [reference[k].paid for k in sorted(reference)]


def test_a_process_pool_gives_the_numbers_of_one_process(policy_texts, reference):
    chunks = engine.chunks_of(settings(policy_texts), portfolio_seed=7, size=24)
    assert len(chunks) > 1
    assert engine.run_local(chunks, jobs=2) == reference


def test_a_dask_local_cluster_of_two_worker_processes_gives_the_same_numbers(policy_texts, reference):
    chunks = engine.chunks_of(settings(policy_texts), portfolio_seed=7, size=24)
    messages: list[str] = []
    assert engine.run_dask(chunks, workers=2, progress=messages.append) == reference
    assert messages == ["dask local cluster: 2 worker processes"]


def test_a_file_portfolio_gives_the_numbers_of_the_same_borrowers_generated(policy_texts, reference):
    from forbear_policy_lab import portfolio

    records = portfolio.generated_block(7, 0, 24, AS_OF)
    assert engine.run_local(engine.chunks_of(settings(policy_texts), records=records), jobs=1) == reference

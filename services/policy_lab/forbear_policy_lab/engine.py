"""Running a comparison: chunks of borrowers, each evaluated and lived under every policy.

A chunk is self-contained (the policies' TOML text, its borrowers or the generated block to
draw, the evaluation date, the seeds, the behaviour model) and returns one ``Tally`` per
(policy, replication); tallies add exactly, so every engine gives the same numbers:

* ``local``: ``concurrent.futures.ProcessPoolExecutor`` with one worker process per core
  (``jobs=1`` runs in this process);
* ``dask``: ``dask.distributed`` — a scheduler at ``address`` (a lender's cluster, for a whole
  book), or a ``LocalCluster`` of worker processes on this machine. Generated portfolios send
  only the block numbers: each worker draws its own borrowers.

Each borrower is evaluated once per policy (the decision does not depend on the replication);
its agreement is then lived once per replication, with that replication's draws.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from forbear_evaluation.domain.value_test import ValueTestAssumptions, assumptions_from_policy
from forbear_shared.domain.policy import Policy
from forbear_shared.policy_loader import policy_from_text

from . import portfolio
from .domain.behaviour import BehaviourModel, draws
from .domain.lifecycle import evaluate_case, live_agreement
from .domain.tally import Tally


@dataclass(frozen=True)
class Settings:
    """What every chunk of one comparison shares."""

    policies: tuple[str, ...]
    """The policies' TOML text, in the order given (the first is A, the champion)."""
    as_of: date
    seed: int
    replications: int
    behaviour: BehaviourModel = BehaviourModel()
    discount_rate: Decimal | None = None
    """Annual rate for present values; None: the first policy's ``evaluation.lender_value``."""
    arms: tuple[str, ...] = ()
    """For each policy, ``champion`` (the file's policy) or ``challenger`` (the challenger the
    file names, as it runs live); empty: every file's champion."""

    def policy(self, index: int) -> Policy:
        return _policy(self.policies[index], self.arms[index] if self.arms else "champion")


@dataclass(frozen=True)
class Chunk:
    settings: Settings
    records: tuple[dict[str, Any], ...] = ()
    generated: tuple[int, int, int, int, int] | None = None
    """(portfolio seed, block, portfolio size, start, stop): borrowers start..stop-1 of a generated block."""


CHUNK = 125
"""Borrowers per chunk at most: a quarter of a generated block, small enough to balance the cores."""

Tallies = dict[tuple[int, int], Tally]
"""(policy index, replication) -> tally."""


@lru_cache(maxsize=16)
def _policy(text: str, arm: str = "champion") -> Policy:
    policy = policy_from_text(text)
    if arm == "champion":
        return policy
    challenger = policy.challenger_policy
    if arm != "challenger" or challenger is None:
        raise ValueError(f"the policy {policy.version} has no arm {arm!r}")
    return challenger


@lru_cache(maxsize=2)
def _generated_block(seed: int, block: int, size: int, as_of: date) -> tuple[dict[str, Any], ...]:
    """``portfolio.generated_block``, drawn once per worker process for all its chunks of the block
    (a chunk is a quarter of one, and the pool hands a block's chunks out one after the other)."""
    return tuple(portfolio.generated_block(seed, block, size, as_of))


def book_assumptions(settings: Settings) -> tuple[ValueTestAssumptions, Decimal]:
    """Legal recovery and discounting for the whole comparison: the first policy's lender-value
    assumptions, the same for every policy (a challenger does not win by assuming a better court)."""
    first = settings.policy(0)
    legal = assumptions_from_policy(first.evaluation.lender_value, first.currency)
    rate = settings.discount_rate if settings.discount_rate is not None else legal.annual_discount_rate
    return replace(legal, annual_discount_rate=rate), rate


def run_chunk(chunk: Chunk) -> Tallies:
    """Evaluate and live every borrower of ``chunk`` under every policy, every replication."""
    settings = chunk.settings
    records: Sequence[dict[str, Any]] = chunk.records
    if chunk.generated is not None:
        seed, block, size, start, stop = chunk.generated
        records = _generated_block(seed, block, size, settings.as_of)[start:stop]
    legal, rate = book_assumptions(settings)
    tallies: Tallies = {}
    for index in range(len(settings.policies)):
        policy = settings.policy(index)
        per_rep = [Tally() for _ in range(settings.replications)]
        for record in records:
            evaluated = evaluate_case(portfolio.case_under(record, policy, settings.as_of), policy, settings.as_of)
            for replication, tally in enumerate(per_rep):
                tally.count_decision(evaluated, legal)
                if evaluated.offer is None:
                    continue
                rng = draws(settings.seed, replication, evaluated.borrower_id)
                life = live_agreement(evaluated, policy, settings.as_of, settings.behaviour, rng, rate)
                days = (life.referred_on - settings.as_of).days if life.referred_on else 0
                tally.count_life(life, legal, rate, days)
        for replication, tally in enumerate(per_rep):
            tallies[(index, replication)] = tally
    return tallies


def merge(parts: Iterable[Tallies]) -> Tallies:
    total: Tallies = {}
    for part in parts:
        for key, tally in part.items():
            total[key] = total[key].add(tally) if key in total else tally
    return total


def chunks_of(settings: Settings, *, records: list[dict[str, Any]] | None = None, portfolio_seed: int = 0,
              size: int = 0) -> list[Chunk]:
    """The comparison's work in chunks of at most ``CHUNK`` borrowers (fewer for a small portfolio,
    so that every core gets several): a file's records, or parts of a generated portfolio's blocks
    (each worker draws its own block and keeps its part)."""
    cores = os.cpu_count() or 1
    total = len(records) if records is not None else size
    chunk = max(1, min(CHUNK, -(-total // (4 * cores))))
    if records is not None:
        return [Chunk(settings, tuple(part)) for part in portfolio.iter_records(records, chunk)]
    chunks = []
    for block in range(portfolio.blocks(size)):
        in_block = min(portfolio.BLOCK, size - block * portfolio.BLOCK)
        chunks += [Chunk(settings, generated=(portfolio_seed, block, size, start, min(start + chunk, in_block)))
                   for start in range(0, in_block, chunk)]
    return chunks


def run_local(chunks: list[Chunk], jobs: int | None = None) -> Tallies:
    jobs = jobs or os.cpu_count() or 1
    if jobs == 1 or len(chunks) == 1:
        return merge(map(run_chunk, chunks))
    with ProcessPoolExecutor(max_workers=min(jobs, len(chunks))) as pool:
        return merge(pool.map(run_chunk, chunks))


def run_dask(chunks: list[Chunk], address: str | None = None, workers: int | None = None,
             progress: Callable[[str], None] | None = None) -> Tallies:
    """On a ``dask.distributed`` scheduler at ``address``, or on a local cluster of worker
    processes (one per core, one thread each: the rules are pure Python, threads would share the GIL)."""
    from dask.distributed import Client, LocalCluster

    if address is not None:
        with Client(address) as client:
            return merge(client.gather(client.map(run_chunk, chunks, pure=False)))
    with LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as cluster, Client(cluster) as client:
        if progress is not None:
            progress(f"dask local cluster: {len(cluster.workers)} worker processes")
        return merge(client.gather(client.map(run_chunk, chunks, pure=False)))

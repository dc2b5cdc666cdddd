"""Close of business: the only way the lender's business date moves, and the daily sweep.

Advancing from ``previous`` to ``target`` runs one close of business per day in between,
each in its own transaction (apply the payments already received, find the instalments
missed that day, escalate, move the date, announce it). A crash in the middle of a
catch-up leaves the date at the last day fully swept; the next advance resumes from there.
Each missed instalment is recorded once: ``missed_instalments`` has the (agreement,
instalment) primary key and the sweep only looks at instalments not yet marked.

Any API replica may be asked to advance the date, several at once: each day's transaction
takes the COB advisory lock and re-reads the date under it, so replicas take turns day by day
and a day already swept is never swept again; each swept day is recorded in
``close_of_business_days`` (its primary key refuses a second sweep of a day). A replica that
dies in the middle of a day leaves nothing of that day (its transaction rolls back and the
lock goes with its connection); another replica, or the next call, sweeps it.

The sweep is set-based: SQL finds the candidates (grace cutoff passed, not paid on time, not
yet marked) through a partial index, and only agreements whose ladder moves are loaded into
the domain.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from forbear_shared import business_date, metrics
from forbear_shared.auth import Principal
from forbear_shared.domain.arrears import ROLL_BACK_LIMIT, grace_cutoff_of
from forbear_shared.domain.money import Money
from forbear_shared.events.schemas.monitoring import (
    LENDER_KEY,
    AgreementNearBreach,
    AgreementNearBreachCleared,
    BusinessDateAdvanced,
    InstalmentMissed,
)
from forbear_shared.unit_of_work import UnitOfWork

from forbear_monitoring.adapters import ledger_rows
from forbear_monitoring.adapters import repository as repo
from forbear_monitoring.bootstrap import Monitoring
from forbear_monitoring.domain import early_warning
from forbear_monitoring.domain.close_of_business import days_to_sweep
from forbear_monitoring.domain.dual_tracking import referral_guard
from forbear_monitoring.domain.escalation import Stage
from forbear_monitoring.service_layer.payments import apply_pending
from forbear_monitoring.service_layer.promises import Judged, judge_promises
from forbear_monitoring.service_layer.review import Effects, Writes, pending_matters, review, state_of

log = logging.getLogger(__name__)

COB_LOCK = "select pg_advisory_xact_lock(hashtext('forbear-cob:' || current_schema()))"


@dataclass(frozen=True)
class AdvanceBusinessDate:
    #: advance to this date (catching up every day in between); None: the next day
    to: dt.date | None
    #: who closes business: a supervisor or the end-of-day pipeline
    who: Principal


@dataclass(frozen=True)
class AdvanceOutcome:
    previous: dt.date
    current: dt.date
    days_swept: int
    missed: int


def advance_business_date(cmd: AdvanceBusinessDate, uow: UnitOfWork[Monitoring]) -> AdvanceOutcome:
    """Run close of business for every day after the current business date up to ``cmd.to``.

    The one use case of several transactions, by design: ``uow`` checks the target against
    the current date, then every day is a unit of work of its own, so a crash in a catch-up
    leaves the date at the last day fully swept. Concurrent calls serialise on an advisory
    lock; a day is never swept twice because each day re-reads the date under the lock."""
    svc = uow.service
    with uow:
        previous = uow.business_date
    target = days_to_sweep(previous, cmd.to)
    days = 0
    missed = 0
    while True:
        with svc.unit_of_work() as day_uow:
            conn = day_uow.conn
            conn.execute(COB_LOCK)
            current = business_date.current(conn, svc.ctx.settings.initial_business_date)
            if current >= target:
                break
            day = current + dt.timedelta(days=1)
            effects = close_of_business(day_uow, day)
            repo.record_close_of_business(conn, day, current, effects.missed)
            business_date.set_current(conn, day, svc.name)
            day_uow.emit(type="business_date.advanced",
                         payload=BusinessDateAdvanced(previous=current, current=day, timezone=svc.policy.timezone),
                         case_id=LENDER_KEY, business_date=day)
        # after commit: metrics count what really happened
        effects.publish()
        metrics.COB_RUNS.inc()
        days += 1
        missed += effects.missed
    refresh_active_gauge(svc)
    if days:
        log.info("close of business done", extra={"days": days, "missed": missed, "business_date": str(target),
                                                  "by": f"{cmd.who.role}:{cmd.who.subject}"})
    return AdvanceOutcome(previous, target, days, missed)


def close_of_business(uow: UnitOfWork[Monitoring], day: dt.date) -> Effects:
    """One business day's sweep, in the open unit of work (which holds the COB lock)."""
    # the sweep's statements are index lookups over a few thousand rows; row estimates on a
    # large book can still cross the JIT threshold, and compiling then costs seconds
    uow.conn.execute("set local jit = off")
    # money received before the close counts before anything is declared missed
    while True:
        result = apply_pending(uow, limit=5000)
        if result.applied + result.unmatched == 0:
            break
    _fix_grace_cutoffs(uow, day)
    effects = Effects()
    effects.merge(_mark_missed(uow, day))
    effects.merge(_early_warning(uow, day))
    # promises judged before the ladder moves: a broken one moves it, an open one holds it
    judged = judge_promises(uow, day)
    effects.promises.update(judged.outcomes)
    effects.merge(_escalate(uow, day, judged))
    return effects


def _fix_grace_cutoffs(uow: UnitOfWork[Monitoring], day: dt.date) -> None:
    """Grace cutoffs left open at activation (their year's holidays were not published), fixed
    before the instalment can fall due. A year the calendar still does not know then fails
    this day's close of business with ``CalendarYearUnknown`` naming the year: the lender
    must publish it (two weeks ahead, ``ROLL_BACK_LIMIT``) rather than have it guessed."""
    rows = repo.unfixed_grace_cutoffs(uow.conn, day + ROLL_BACK_LIMIT)
    if rows:
        repo.set_grace_cutoffs(uow.conn, [
            {**r, "grace_cutoff": grace_cutoff_of(r["due_date"], uow.policy)} for r in rows
        ])


def _mark_missed(uow: UnitOfWork[Monitoring], day: dt.date) -> Effects:
    rows = repo.mark_missed(uow.conn, day)
    uow.emit_many([
        uow.event(type="instalment.missed",
                  payload=InstalmentMissed(agreement_id=r["agreement_id"], instalment=r["number"],
                                           due_date=r["due_date"], amount_outstanding=max(r["outstanding"], 0),
                                           detected_on=day),
                  case_id=r["case_id"], business_date=day)
        for r in rows
    ])
    effects = Effects()
    effects.missed = len(rows)
    return effects


def _early_warning(uow: UnitOfWork[Monitoring], day: dt.date) -> Effects:
    """Instalments near breach at their checkpoint (flagged once each), and open near breaches
    cleared by payment or superseded by a missed instalment; SQL finds the candidates, the domain
    decides, each outcome is recorded once (the near_breaches primary key and state)."""
    rule = uow.policy.early_warning
    effects = Effects()
    if not rule.enabled:
        return effects
    rows = repo.early_warning_candidates(uow.conn, day, rule.checkpoint_days_before_due)
    decided: list[tuple[dict[str, Any], early_warning.Decision]] = []
    for r in rows:
        watch = early_warning.InstalmentWatch(
            r["number"], r["due_date"], r["grace_cutoff"], Money.of(str(r["total"]), r["currency"]),
            Money.of(str(r["paid"]), r["currency"]), r["settled_on"],
            None if r["state"] is None else early_warning.WatchState(r["state"]), r["monitored"])
        decision = early_warning.assess(watch, as_of=day, rule=rule)
        if decision is not None:
            decided.append((r, decision))
    flagged = set(repo.flag_near_breaches(uow.conn, [
        {"agreement_id": r["agreement_id"], "number": d.number, "due_date": d.due_date, "checkpoint": d.checkpoint,
         "amount_due": d.amount_due.amount, "amount_paid": d.amount_paid.amount,
         "required_share": d.required_share, "flagged_on": day}
        for r, d in decided if d.verdict is early_warning.WatchState.NEAR_BREACH]))
    resolved: set[tuple[str, int]] = set()
    for state in (early_warning.WatchState.CLEARED, early_warning.WatchState.SUPERSEDED):
        resolved |= set(repo.resolve_near_breaches(uow.conn, state.value, day, [
            (r["agreement_id"], d.number) for r, d in decided if d.verdict is state]))
    events = []
    for r, d in decided:
        key = (r["agreement_id"], d.number)
        if key not in (flagged if d.verdict is early_warning.WatchState.NEAR_BREACH else resolved):
            continue  # recorded already (the primary key and state say so): never announced twice
        effects.early_warnings[d.verdict.value] += 1
        if d.verdict is early_warning.WatchState.NEAR_BREACH:
            events.append(uow.event(
                type="agreement.near_breach", case_id=r["case_id"], business_date=day,
                payload=AgreementNearBreach(agreement_id=key[0], instalment=d.number, due_date=d.due_date,
                                            checkpoint=d.checkpoint, amount_due=d.amount_due.amount,
                                            amount_paid=d.amount_paid.amount, required_share=d.required_share,
                                            business_date=day)))
        elif d.verdict is early_warning.WatchState.CLEARED:
            events.append(uow.event(
                type="agreement.near_breach_cleared", case_id=r["case_id"], business_date=day,
                payload=AgreementNearBreachCleared(agreement_id=key[0], instalment=d.number, due_date=d.due_date,
                                                   amount_due=d.amount_due.amount, amount_paid=d.amount_paid.amount,
                                                   required_share=d.required_share, business_date=day)))
    # a superseded near breach has no event of its own: the instalment.missed of the same sweep (or the
    # event that closed the agreement) says it
    uow.emit_many(events)
    return effects


def _escalate(uow: UnitOfWork[Monitoring], day: dt.date, judged: Judged) -> Effects:
    """Ladder moves for delinquent agreements; SQL computes DPD and missed counts, the domain
    decides (a promise to pay broken at this close, or still open, in ``judged``)."""
    svc = uow.service
    conn = uow.conn
    facts = repo.escalation_facts(conn, day)
    effects = Effects()
    if not facts:
        return effects
    blocks = pending_matters(repo.open_renegotiations(conn, [f["agreement_id"] for f in facts]))
    moving: dict[str, str | None] = {}
    for f in facts:
        state = state_of(f)
        block = referral_guard(f["agreement_id"], blocks.get(f["agreement_id"], [])).reason
        if f["oldest_unpaid"] is None:
            if state.stage is not Stage.CURRENT:
                moving[f["agreement_id"]] = block  # arrears paid: a cure
            continue
        # DPD: calendar days since the oldest unpaid instalment's grace cutoff
        dpd = max(0, (day - grace_cutoff_of(f["oldest_unpaid"], uow.policy)).days)
        outcome = svc.ladder.advance(state, as_of=day, dpd=dpd, missed_instalments=int(f["missed_outstanding"]),
                                     referral_block=block, promise_broken=f["agreement_id"] in judged.broken,
                                     promise_open=f["agreement_id"] in judged.open)
        held = outcome.referral_held is not None
        if outcome.steps or held != (f["referral_blocked_since"] is not None):
            moving[f["agreement_id"]] = block
    if not moving:
        return effects
    rows = repo.agreements(conn, list(moving))
    ledgers = ledger_rows.load_ledgers(conn, rows, svc.schedules)
    breached = repo.breached_agreements(conn, [r["borrower_id"] for r in rows.values()])
    writes = Writes(uow)  # one statement per table for the whole sweep, not one per row
    for agreement_id, block in moving.items():
        row = rows[agreement_id]
        borrower = row["borrower_id"]
        # the borrower's other broken agreements, those this sweep breached so far included
        broken = breached.get(borrower, 0) - (1 if row["breached"] else 0)
        moved = review(uow, row, ledgers[agreement_id], day, escalate=True, referral_block=block,
                       broken_agreements=broken, writes=writes, promise_broken=agreement_id in judged.broken,
                       promise_open=agreement_id in judged.open)
        effects.merge(moved)
        # served a breach notice and stayed there: marked breached (a referral closes it unmarked)
        if not row["breached"] and moved.transitions["breached"] and not moved.transitions["referred"]:
            breached[borrower] = breached.get(borrower, 0) + 1
    writes.flush()
    return effects


def refresh_active_gauge(svc: Monitoring) -> None:
    with svc.unit_of_work() as uow:
        counts = repo.active_by_level(uow.conn)
    for level in ("current", "reminder", "warning", "breach_notice"):
        metrics.ACTIVE_AGREEMENTS.labels(level).set(counts.get(level, 0))

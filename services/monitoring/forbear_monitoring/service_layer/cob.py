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

import psycopg
from forbear_shared import business_date, metrics
from forbear_shared.db import transaction
from forbear_shared.errors import Conflict
from forbear_shared.events.schemas.monitoring import LENDER_KEY, BusinessDateAdvanced, InstalmentMissed
from forbear_shared.service import ServiceContext
from forbear_shared.topics import MONITORING_EVENTS

from forbear_monitoring.adapters import ledger_rows
from forbear_monitoring.adapters import repository as repo
from forbear_monitoring.domain.dual_tracking import referral_guard
from forbear_monitoring.domain.escalation import Stage
from forbear_monitoring.service_layer.deps import Monitoring
from forbear_monitoring.service_layer.payments import apply_pending
from forbear_monitoring.service_layer.review import Effects, Writes, pending_matters, review, state_of

log = logging.getLogger(__name__)

COB_LOCK = "select pg_advisory_xact_lock(hashtext('forbear-cob:' || current_schema()))"


@dataclass(frozen=True)
class AdvanceOutcome:
    previous: dt.date
    current: dt.date
    days_swept: int
    missed: int


#: one call sweeps every day up to its target, one transaction a day: a year at most, so that a
#: mistyped year cannot hold the sweep (and the caller) for hours
MAX_ADVANCE_DAYS = 366


def current_business_date(ctx: ServiceContext) -> dt.date:
    with transaction(ctx.pool) as conn:
        return business_date.current(conn, ctx.settings.initial_business_date)


def advance_business_date(m: Monitoring, to: dt.date | None = None) -> AdvanceOutcome:
    """Run close of business for every day after the current business date up to ``to``
    (default: the next day). Concurrent calls serialise on an advisory lock; a day is never
    swept twice because each day re-reads the date under the lock."""
    ctx = m.ctx
    with transaction(ctx.pool) as conn:
        previous = business_date.current(conn, ctx.settings.initial_business_date)
    target = to or previous + dt.timedelta(days=1)
    if (target - previous).days > MAX_ADVANCE_DAYS:
        raise Conflict(  # like a date not after the current one: refused against the current state
            "advance_too_far",
            f"close of business catches up at most {MAX_ADVANCE_DAYS} days at a time: {target} is too far after {previous}",
        )
    if target <= previous:
        raise Conflict(
            "business_date_not_after_current",
            f"the business date can only move forward: {target} is not after {previous}",
        )
    days = 0
    missed = 0
    while True:
        with transaction(ctx.pool) as conn:
            conn.execute(COB_LOCK)
            current = business_date.current(conn, ctx.settings.initial_business_date)
            if current >= target:
                break
            day = current + dt.timedelta(days=1)
            effects, payment_counts = close_of_business(m, conn, day)
            conn.execute("insert into close_of_business_days (day, previous, instalments_missed) values (%s, %s, %s)",
                         (day, current, effects.missed))
            business_date.set_current(conn, day, ctx.name)
            ctx.emit(conn, type="business_date.advanced",
                     payload=BusinessDateAdvanced(previous=current, current=day, timezone=m.policy.timezone),
                     case_id=LENDER_KEY, topic=MONITORING_EVENTS.name, business_date=day)
        # after commit: metrics count what really happened
        effects.publish()
        for (source, outcome), n in payment_counts.items():
            metrics.PAYMENTS.labels(source, outcome).inc(n)
        metrics.COB_RUNS.inc()
        days += 1
        missed += effects.missed
    refresh_active_gauge(m)
    if days:
        log.info("close of business done", extra={"days": days, "missed": missed, "business_date": str(target)})
    return AdvanceOutcome(previous, target, days, missed)


def close_of_business(m: Monitoring, conn: psycopg.Connection, day: dt.date) -> tuple[Effects, Any]:
    """One business day's sweep, inside the caller's transaction (which holds the COB lock)."""
    # the sweep's statements are index lookups over a few thousand rows; row estimates on a
    # large book can still cross the JIT threshold, and compiling then costs seconds
    conn.execute("set local jit = off")
    # money received before the close counts before anything is declared missed
    counts: Any = {}
    while True:
        result, batch_counts = apply_pending(m, conn, limit=5000)
        for key, n in batch_counts.items():
            counts[key] = counts.get(key, 0) + n
        if result.applied + result.unmatched == 0:
            break
    effects = Effects()
    effects.merge(_mark_missed(m, conn, day))
    effects.merge(_escalate(m, conn, day))
    return effects, counts


def _mark_missed(m: Monitoring, conn: psycopg.Connection, day: dt.date) -> Effects:
    rows = conn.execute(
        """with candidates as (
               update instalments i set missed_on = %(day)s
               from agreements a
               where a.agreement_id = i.agreement_id and a.status = 'active'
                 and i.missed_on is null and not i.closed
                 and (i.settled_on is null or i.settled_on > i.grace_cutoff)
                 and i.grace_cutoff < %(day)s
               returning i.agreement_id, i.number, i.due_date, a.case_id,
                         i.total - i.fee_paid - i.interest_paid - i.principal_paid as outstanding
           ), recorded as (
               insert into missed_instalments (agreement_id, number, due_date, detected_on, amount_outstanding)
               select agreement_id, number, due_date, %(day)s, outstanding from candidates
               on conflict do nothing
               returning agreement_id, number
           )
           select c.* from candidates c join recorded r using (agreement_id, number)
           order by c.agreement_id, c.number""",
        {"day": day},
    ).fetchall()
    m.ctx.emit_many(conn, [
        m.ctx.event(type="instalment.missed",
                    payload=InstalmentMissed(agreement_id=r["agreement_id"], instalment=r["number"],
                                             due_date=r["due_date"], amount_outstanding=max(r["outstanding"], 0),
                                             detected_on=day),
                    case_id=r["case_id"], topic=MONITORING_EVENTS.name, business_date=day)
        for r in rows
    ])
    effects = Effects()
    effects.missed = len(rows)
    return effects


def _escalate(m: Monitoring, conn: psycopg.Connection, day: dt.date) -> Effects:
    """Ladder moves for delinquent agreements; SQL computes DPD and missed counts, the domain decides."""
    grace = m.policy.delinquency.grace_days
    facts = conn.execute(
        """with candidates as (
               select distinct agreement_id from instalments
               where settled_on is null and not closed and grace_cutoff < %(day)s
               union
               select agreement_id from agreements where status = 'active' and level <> 'current'
           )
           select a.agreement_id, a.level, a.level_since, a.remedy_deadline, a.referral_blocked_since,
                  f.oldest_unpaid, f.missed_outstanding
           from candidates c join agreements a using (agreement_id)
           cross join lateral (  -- per candidate through the primary key, never a scan of the whole ledger
               select count(*) as n,
                      min(i.due_date) filter (where i.due_date < %(day)s
                                              and (i.settled_on is null or i.settled_on > %(day)s)) as oldest_unpaid,
                      count(*) filter (where i.grace_cutoff < %(day)s
                                       and (i.settled_on is null or i.settled_on > %(day)s)) as missed_outstanding
               from instalments i where i.agreement_id = a.agreement_id
           ) f
           where a.status = 'active' and f.n > 0""",
        {"day": day},
    ).fetchall()
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
        dpd = max(0, (day - f["oldest_unpaid"]).days - grace)
        outcome = m.ladder.advance(state, as_of=day, dpd=dpd, missed_instalments=int(f["missed_outstanding"]),
                                   referral_block=block)
        held = outcome.referral_held is not None
        if outcome.steps or held != (f["referral_blocked_since"] is not None):
            moving[f["agreement_id"]] = block
    if not moving:
        return effects
    rows = repo.agreements(conn, list(moving))
    ledgers = ledger_rows.load_ledgers(conn, rows, m.schedules)
    writes = Writes(m)  # one statement per table for the whole sweep, not one per row
    for agreement_id, block in moving.items():
        effects.merge(review(m, conn, rows[agreement_id], ledgers[agreement_id], day, escalate=True,
                             referral_block=block, writes=writes))
    writes.flush(conn)
    return effects


def refresh_active_gauge(m: Monitoring) -> None:
    with transaction(m.ctx.pool) as conn:
        rows = conn.execute(
            "select level, count(*) as n from agreements where status = 'active' group by level"
        ).fetchall()
    counts = {r["level"]: r["n"] for r in rows}
    for level in ("current", "reminder", "warning", "breach_notice"):
        metrics.ACTIVE_AGREEMENTS.labels(level).set(counts.get(level, 0))

"""The projection: a batch of events in, the read model's rows out, set-based.

The inbox (``forbear_shared.inbox``) has already recorded every event of the batch in the same
transaction, so a redelivered event never reaches here twice. A case's row is written once per
batch: its events are folded into one ``CaseRow`` first, which merges with the stored row
column by column (``_CASE``). Each other kind of row is written by one ``insert … select …
from unnest(…)`` per *round* (``Batch.flush``): round k holds the k-th row of each key in the
batch, so rows of one key are applied in the events' order and no statement touches a row
twice. Every write is order-safe on its own (rules.py): the
newest-occurred event sets a case's queue and an agreement's level, an offer's terminal status
is never reopened, payments add up, a review is not undone by a late "received".

Facts that need other facts are recomputed at the end of the batch, only for what the batch
touched: a case's evidence state (its documents), an agreement's instalment settlements (its
allocations), and its month-end DPD from the earliest month end the batch can have changed
(from the first month end on or after a payment's day; every month end for an activation).
A business date reaching a month end adds that month end's DPD for the agreements on plan then,
and nothing else. A rebuild, batched differently, reaches the same rows (tests/integration).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from forbear_shared.events import DecodedEvent
from forbear_shared.unit_of_work import UnitOfWork
from psycopg.types.json import Jsonb

from forbear_console.readmodel.rules import line as timeline_line
from forbear_console.readmodel.rules import queue_after, written

#: events that are not about a case (their key is a loan id or the lender)
NOT_CASE_EVENTS = frozenset({"business_date.advanced", "loan.snapshot", "payment.received"})

#: a case's row, once per case per batch: the batch's events are folded into one row first
#: (``CaseRow``), and each column merges with the stored one by the column's own rule: the
#: newest-occurred queue and outcome win, counts and deadlines only grow, the first decision
#: date only shrinks, acceptance and approval are never undone. A column the batch did not
#: touch arrives as its default ('unknown' / -infinity / 0 / false / null), which every rule
#: leaves unchanged
_CASE = """
insert into rm_case (case_id, hardship_category, channel, dpd_at_first_contact, opened_on, queue, queue_at, queue_on,
                     last_event_at, submissions, first_decided_on, last_outcome, last_outcome_at, ever_approved,
                     offer_accepted, agreement_id, evidence_deadline, policy_version, policy_arm)
select c1, c2, c3, c4, c5, c6, coalesce(c7, '-infinity'), c8, c7, c9, c10, c11, coalesce(c12, '-infinity'), c13,
       c14, c15, c16, c17, c18
from unnest(%b::text[], %b::text[], %b::text[], %b::int[], %b::date[], %b::text[], %b::timestamptz[], %b::date[],
            %b::int[], %b::date[], %b::text[], %b::timestamptz[], %b::boolean[], %b::boolean[], %b::text[],
            %b::date[], %b::text[], %b::text[])
     as u(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18)
on conflict (case_id) do update set
    hardship_category = coalesce(excluded.hardship_category, rm_case.hardship_category),
    channel = coalesce(excluded.channel, rm_case.channel),
    dpd_at_first_contact = coalesce(excluded.dpd_at_first_contact, rm_case.dpd_at_first_contact),
    opened_on = coalesce(excluded.opened_on, rm_case.opened_on),
    queue = case when excluded.queue_at >= rm_case.queue_at then excluded.queue else rm_case.queue end,
    queue_on = case when excluded.queue_at >= rm_case.queue_at then excluded.queue_on else rm_case.queue_on end,
    queue_at = greatest(rm_case.queue_at, excluded.queue_at),
    last_event_at = greatest(rm_case.last_event_at, excluded.last_event_at),
    submissions = greatest(rm_case.submissions, excluded.submissions),
    first_decided_on = least(rm_case.first_decided_on, excluded.first_decided_on),
    last_outcome = case when excluded.last_outcome_at >= rm_case.last_outcome_at
                        then excluded.last_outcome else rm_case.last_outcome end,
    last_outcome_at = greatest(rm_case.last_outcome_at, excluded.last_outcome_at),
    ever_approved = rm_case.ever_approved or excluded.ever_approved,
    offer_accepted = rm_case.offer_accepted or excluded.offer_accepted,
    agreement_id = coalesce(excluded.agreement_id, rm_case.agreement_id),
    evidence_deadline = greatest(rm_case.evidence_deadline, excluded.evidence_deadline),
    policy_version = coalesce(excluded.policy_version, rm_case.policy_version),
    policy_arm = coalesce(excluded.policy_arm, rm_case.policy_arm)"""


@dataclass
class CaseRow:
    """What a batch says about one case, folded in the events' order by the rules of ``_CASE``
    (a queue or an outcome not set is null here, '-infinity' in the table)."""

    case_id: str
    hardship_category: str | None = None
    channel: str | None = None
    dpd_at_first_contact: int | None = None
    opened_on: dt.date | None = None
    queue: str = "unknown"
    queue_at: dt.datetime | None = None
    queue_on: dt.date | None = None
    submissions: int = 0
    first_decided_on: dt.date | None = None
    last_outcome: str | None = None
    last_outcome_at: dt.datetime | None = None
    ever_approved: bool = False
    offer_accepted: bool = False
    agreement_id: str | None = None
    evidence_deadline: dt.date | None = None
    policy_version: str | None = None
    policy_arm: str | None = None

    def under(self, version: str | None, arm: str | None) -> None:
        """The policy the case is decided under: its opening's stamp, then each decision's."""
        if version is not None:
            self.policy_version, self.policy_arm = version, arm

    def opened(self, hardship_category: str, channel: str, dpd: int, opened_on: Any) -> None:
        self.hardship_category, self.channel, self.dpd_at_first_contact = hardship_category, channel, dpd
        self.opened_on = _date(opened_on)

    def place(self, queue: str, at: dt.datetime, on: dt.date) -> None:
        # of a batch's events only the one that occurred last places the case; on a tie the later
        if self.queue_at is None or at >= self.queue_at:
            self.queue, self.queue_at, self.queue_on = queue, at, on

    def decided(self, on: Any, outcome: str, at: dt.datetime) -> None:
        day = _date(on)
        if day is not None and (self.first_decided_on is None or day < self.first_decided_on):
            self.first_decided_on = day
        if self.last_outcome_at is None or at >= self.last_outcome_at:
            self.last_outcome, self.last_outcome_at = outcome, at
        self.ever_approved = self.ever_approved or outcome == "approve"

    def accepted(self, agreement_id: str) -> None:
        self.offer_accepted, self.agreement_id = True, agreement_id

    def deadline(self, on: Any) -> None:
        day = _date(on)
        if day is not None and (self.evidence_deadline is None or day > self.evidence_deadline):
            self.evidence_deadline = day

    def row(self) -> tuple[Any, ...]:
        return (self.case_id, self.hardship_category, self.channel, self.dpd_at_first_contact, self.opened_on,
                self.queue, self.queue_at, self.queue_on, self.submissions, self.first_decided_on,
                self.last_outcome, self.last_outcome_at, self.ever_approved, self.offer_accepted,
                self.agreement_id, self.evidence_deadline, self.policy_version, self.policy_arm)


_TIMELINE = """
insert into rm_timeline (event_id, case_id, occurred_at, business_date, type, producer, summary, line)
values (%s, %s, %s, %s, %s, %s, %s, %s) on conflict (case_id, occurred_at, event_id) do nothing"""
_OFFER_MADE = """
insert into rm_offer (offer_id, case_id, rank, option, new_instalment, term_months, expires_on, made_on)
values (%s, %s, %s, %s, %s, %s, %s, %s)
on conflict (offer_id) do update set rank = excluded.rank, option = excluded.option,
    new_instalment = excluded.new_instalment, term_months = excluded.term_months,
    expires_on = excluded.expires_on, made_on = excluded.made_on"""
# a terminal status is never reopened, and the first terminal one stays
_OFFER_STATUS = """
insert into rm_offer (offer_id, case_id, status, status_on) values (%s, %s, %s, %s)
on conflict (offer_id) do update set status = excluded.status, status_on = excluded.status_on
where rm_offer.status = 'open'"""
_AGREEMENT_ACCEPTED = """
insert into rm_agreement (agreement_id, case_id, accepted_on) values (%s, %s, %s)
on conflict (agreement_id) do update set accepted_on = excluded.accepted_on"""
_SIGNED = """
insert into rm_agreement (agreement_id, case_id, borrower_signed_on, lender_signed_on) values (%s, %s, %s, %s)
on conflict (agreement_id) do update set
    borrower_signed_on = coalesce(rm_agreement.borrower_signed_on, excluded.borrower_signed_on),
    lender_signed_on = coalesce(rm_agreement.lender_signed_on, excluded.lender_signed_on)"""
_ACTIVATED = """
insert into rm_agreement (agreement_id, case_id, option, status, activated_on, supersedes_agreement_id)
values (%s, %s, %s, 'active', %s, %s)
on conflict (agreement_id) do update set option = excluded.option, activated_on = excluded.activated_on,
    supersedes_agreement_id = excluded.supersedes_agreement_id,
    status = case when rm_agreement.status = 'awaiting_signatures' then 'active' else rm_agreement.status end"""
_SUPERSEDED = """
insert into rm_agreement (agreement_id, case_id, status, closed_on) values (%s, %s, 'superseded', %s)
on conflict (agreement_id) do update set status = 'superseded',
    closed_on = coalesce(rm_agreement.closed_on, excluded.closed_on)"""
_INSTALMENT = """
insert into rm_instalment (agreement_id, number, due_date, total) values (%s, %s, %s, %s)
on conflict (agreement_id, number) do update set due_date = excluded.due_date, total = excluded.total"""
_PAYMENT = """
insert into rm_payment (reference, agreement_id, case_id, amount, source, received_on) values (%s, %s, %s, %s, %s, %s)
on conflict (reference) do nothing"""
_ALLOCATED = """
insert into rm_allocation (reference, instalment, agreement_id, amount, received_on) values (%s, %s, %s, %s, %s)
on conflict do nothing"""
#: what was paid of each instalment and the day the running total first covered it
_SETTLEMENTS = """
with running as (
    select a.agreement_id, a.instalment, a.received_on,
           sum(a.amount) over (partition by a.agreement_id, a.instalment
                               order by a.received_on, a.reference) as paid_so_far
    from rm_allocation a where a.agreement_id = any(%(ids)b)
), settled as (
    select r.agreement_id, r.instalment, max(r.paid_so_far) as paid,
           min(r.received_on) filter (where r.paid_so_far >= i.total) as settled_on
    from running r join rm_instalment i on i.agreement_id = r.agreement_id and i.number = r.instalment
    group by r.agreement_id, r.instalment
)
update rm_instalment i set paid = s.paid, settled_on = s.settled_on
from settled s where i.agreement_id = s.agreement_id and i.number = s.instalment
  and (i.paid, i.settled_on) is distinct from (s.paid, s.settled_on)"""
_MISSED = """
insert into rm_instalment (agreement_id, number, due_date, missed_on) values (%s, %s, %s, %s)
on conflict (agreement_id, number) do update set missed_on = least(rm_instalment.missed_on, excluded.missed_on),
    due_date = coalesce(rm_instalment.due_date, excluded.due_date)"""
_DELINQUENT = """
insert into rm_agreement (agreement_id, case_id, ever_delinquent) values (%s, %s, true)
on conflict (agreement_id) do update set ever_delinquent = true"""
_LEVEL = """
insert into rm_agreement (agreement_id, case_id, level, level_since, level_at, remedy_deadline, ever_delinquent,
                          first_breach_on)
values (%s, %s, %s, %s, %s, %s, %s, %s)
on conflict (agreement_id) do update set
    level = case when excluded.level_at >= rm_agreement.level_at then excluded.level else rm_agreement.level end,
    level_since = case when excluded.level_at >= rm_agreement.level_at then excluded.level_since
                       else rm_agreement.level_since end,
    remedy_deadline = case when excluded.level_at >= rm_agreement.level_at then excluded.remedy_deadline
                           else rm_agreement.remedy_deadline end,
    level_at = greatest(rm_agreement.level_at, excluded.level_at),
    ever_delinquent = rm_agreement.ever_delinquent or excluded.ever_delinquent,
    first_breach_on = least(rm_agreement.first_breach_on, excluded.first_breach_on)"""
_CLOSED = """
insert into rm_agreement (agreement_id, case_id, status, closed_on, referral_route, referred_on)
values (%s, %s, %s, %s, %s, %s)
on conflict (agreement_id) do update set status = excluded.status,
    closed_on = coalesce(rm_agreement.closed_on, excluded.closed_on),
    referral_route = coalesce(excluded.referral_route, rm_agreement.referral_route),
    referred_on = coalesce(excluded.referred_on, rm_agreement.referred_on)"""
_BLOCKED = """
insert into rm_agreement (agreement_id, case_id, referral_blocked_since) values (%s, %s, %s)
on conflict (agreement_id) do update set
    referral_blocked_since = coalesce(rm_agreement.referral_blocked_since, excluded.referral_blocked_since)"""
_NOTICE = """
insert into rm_notice (notice_id, agreement_id, level, on_date) values (%s, %s, %s, %s) on conflict do nothing"""
_REQUIRED = """
insert into rm_required_document (case_id, document_type) values (%s, %s) on conflict do nothing"""
_RECEIVED = """
insert into rm_document (document_id, case_id, document_type, received_on) values (%s, %s, %s, %s)
on conflict (document_id) do update set received_on = excluded.received_on"""
_REVIEWED = """
insert into rm_document (document_id, case_id, document_type, status, reviewed_on) values (%s, %s, %s, %s, %s)
on conflict (document_id) do update set status = excluded.status, reviewed_on = excluded.reviewed_on"""
_NEAR_BREACH = """
insert into rm_near_breach (agreement_id, instalment, case_id, due_date, checkpoint, amount_due, amount_paid,
                            required_share, flagged_on)
values (%s, %s, %s, %s, %s, %s, %s, %s, %s)
on conflict (agreement_id, instalment) do update set due_date = excluded.due_date, checkpoint = excluded.checkpoint,
    amount_due = excluded.amount_due, amount_paid = excluded.amount_paid, required_share = excluded.required_share,
    flagged_on = least(rm_near_breach.flagged_on, excluded.flagged_on)"""
_NEAR_BREACH_CLEARED = """
insert into rm_near_breach (agreement_id, instalment, case_id, cleared_on) values (%s, %s, %s, %s)
on conflict (agreement_id, instalment) do update set
    cleared_on = least(rm_near_breach.cleared_on, excluded.cleared_on)"""
_PROMISE_RECORDED = """
insert into rm_promise (promise_id, agreement_id, case_id, amount, due_date, channel, recorded_by, made_on)
values (%s, %s, %s, %s, %s, %s, %s, %s)
on conflict (promise_id) do update set amount = excluded.amount, due_date = excluded.due_date,
    channel = excluded.channel, recorded_by = excluded.recorded_by, made_on = excluded.made_on"""
_PROMISE_JUDGED = """
insert into rm_promise (promise_id, agreement_id, case_id, status, paid, judged_on) values (%s, %s, %s, %s, %s, %s)
on conflict (promise_id) do update set status = excluded.status, paid = excluded.paid, judged_on = excluded.judged_on"""
_APPEAL_LODGED = """
insert into rm_appeal (appeal_id, case_id, decision_id, lodged_on, deadline, lodged_by) values (%s, %s, %s, %s, %s, %s)
on conflict (appeal_id) do update set lodged_on = excluded.lodged_on, deadline = excluded.deadline,
    lodged_by = excluded.lodged_by"""
_APPEAL_DECIDED = """
insert into rm_appeal (appeal_id, case_id, decision_id, status, decided_on, outcome_decision_id)
values (%s, %s, %s, %s, %s, %s)
on conflict (appeal_id) do update set status = excluded.status, decided_on = excluded.decided_on,
    outcome_decision_id = excluded.outcome_decision_id"""
#: statements whose rows are keyed by their first two values (the rest by their first)
_KEY_OF_TWO = frozenset({_INSTALMENT, _ALLOCATED, _MISSED, _REQUIRED, _NEAR_BREACH, _NEAR_BREACH_CLEARED})

#: where a case gathering evidence stands, by intake's rule (forbear_intake.domain.case_status):
#: ready to submit when every required type has an accepted document, evidence to review when
#: a type still missing has one awaiting review, else awaiting evidence. A case whose state did
#: not change is not written again (most cases a batch touches: every case.opened): each write is
#: a new row version and index entries
_EVIDENCE_STATE = """
with s as (
    select c.case_id,
           exists (select 1 from rm_required_document r where r.case_id = c.case_id) as asked,
           not exists (select 1 from rm_required_document r where r.case_id = c.case_id and not exists (
               select 1 from rm_document d where d.case_id = r.case_id and d.document_type = r.document_type
                                              and d.status = 'accepted')) as complete,
           exists (select 1 from rm_document d where d.case_id = c.case_id and d.status = 'pending'
                   and not exists (select 1 from rm_document a where a.case_id = d.case_id
                                   and a.document_type = d.document_type and a.status = 'accepted')
                   and (not exists (select 1 from rm_required_document r where r.case_id = c.case_id)
                        or exists (select 1 from rm_required_document r where r.case_id = c.case_id
                                   and r.document_type = d.document_type))) as to_review
    from rm_case c where c.case_id = any(%b)
), state as (
    select case_id, case when asked and complete then 'ready_to_submit'
                         when to_review then 'evidence_to_review' else 'awaiting_evidence' end as evidence_state
    from s
)
update rm_case c set evidence_state = state.evidence_state
from state where c.case_id = state.case_id and c.evidence_state <> state.evidence_state"""

#: DPD of an agreement at a month end = days since its oldest due date not settled by then
#: (the same definition as monitoring's); one row per month end on plan, from ``since``
#: (null: from activation) to the business date or the agreement's close
_DPD_SINCE = """
with touched as (
    select * from unnest(%(ids)b::text[], %(since)b::date[]) as t(agreement_id, since)
), plan as (
    select a.agreement_id, greatest(a.activated_on, coalesce(t.since, a.activated_on)) as start,
           least(coalesce(a.closed_on, p.business_date), p.business_date) as stop
    from touched t join rm_agreement a on a.agreement_id = t.agreement_id cross join rm_progress p
    where a.activated_on is not null and p.business_date is not null
), ends as (
    select plan.agreement_id, (d + interval '1 month - 1 day')::date as month_end
    from plan, generate_series(date_trunc('month', plan.start), date_trunc('month', plan.stop), interval '1 month') d
    where (d + interval '1 month - 1 day')::date <= plan.stop
)
insert into rm_month_end_dpd (agreement_id, month_end, dpd)
select e.agreement_id, e.month_end, coalesce(e.month_end - min(i.due_date), 0)
from ends e left join rm_instalment i on i.agreement_id = e.agreement_id and i.due_date < e.month_end
                                     and (i.settled_on is null or i.settled_on > e.month_end)
group by e.agreement_id, e.month_end
on conflict (agreement_id, month_end) do update set dpd = excluded.dpd
where rm_month_end_dpd.dpd <> excluded.dpd"""
#: the month ends a business date just reached, for every agreement on plan on that day
_DPD_AT = """
insert into rm_month_end_dpd (agreement_id, month_end, dpd)
select a.agreement_id, m.month_end, coalesce(m.month_end - min(i.due_date), 0)
from rm_agreement a join unnest(%(ends)b::date[]) as m(month_end)
     on a.activated_on <= m.month_end and (a.closed_on is null or m.month_end <= a.closed_on)
left join rm_instalment i on i.agreement_id = a.agreement_id and i.due_date < m.month_end
                         and (i.settled_on is null or i.settled_on > m.month_end)
where a.activated_on is not null
group by a.agreement_id, m.month_end
on conflict (agreement_id, month_end) do update set dpd = excluded.dpd
where rm_month_end_dpd.dpd <> excluded.dpd"""
#: a closed agreement has no month end after its close
_DPD_AFTER_CLOSE = """
delete from rm_month_end_dpd d using rm_agreement a
where d.agreement_id = a.agreement_id and a.agreement_id = any(%b) and a.closed_on is not null
  and d.month_end > a.closed_on"""
#: a case whose offer expired is back to "offer expired" if none of its offers is open any more
_OFFERS_EXPIRED = """
update rm_case c set queue = 'offer_expired', queue_at = e.at, queue_on = e.on_date
from unnest(%b::text[], %b::timestamptz[], %b::date[]) as e(case_id, at, on_date)
where c.case_id = e.case_id and c.queue = 'offers_open' and c.queue_at <= e.at
  and not exists (select 1 from rm_offer o where o.case_id = e.case_id and o.status = 'open')"""

#: the read model's statements are short; compiling them (the planner misjudges unnest and
#: generate_series) took seconds a batch, for statements that then ran in milliseconds
NO_JIT = "set local jit = off"

_INSERT = re.compile(r"^\s*insert into (\w+) \(([^)]*)\)\s*values \(([^)]*)\)(.*)$", re.S)
#: (table, column) -> SQL type, read once from the schema (the statements' unnest casts)
_COLUMN_TYPES: dict[tuple[str, str], str] = {}
_SET_BASED: dict[str, str] = {}


def set_based(conn: psycopg.Connection, sql: str) -> str:
    """``insert … values (%s, …) rest`` as ``insert … select … from unnest(%s::type[], …) rest``:
    one statement for many rows, each parameter a column of them."""
    found = _SET_BASED.get(sql)
    if found is not None:
        return found
    if not _COLUMN_TYPES:
        for r in conn.execute("select c.relname as t, a.attname as c, format_type(a.atttypid, a.atttypmod) as type"
                              " from pg_attribute a join pg_class c on c.oid = a.attrelid"
                              " where c.relnamespace = current_schema()::regnamespace and c.relkind = 'r'"
                              " and a.attnum > 0 and not a.attisdropped"):
            _COLUMN_TYPES[(_field(r, "t", 0), _field(r, "c", 1))] = _field(r, "type", 2)
    match = _INSERT.match(sql)
    if match is None:
        raise ValueError(f"not an insert … values statement: {sql[:60]}")
    table, columns, values, rest = match.groups()
    names = [c.strip() for c in columns.split(",")]
    items = [v.strip() for v in values.split(",")]
    casts, selected = [], []
    for name, item in zip(names, items, strict=True):
        if item == "%s":
            casts.append(f"%b::{_COLUMN_TYPES[(table, name)]}[]")
            selected.append(f"u.c{len(casts)}")
        else:
            selected.append(item)
    found = (f"insert into {table} ({', '.join(names)}) select {', '.join(selected)} from unnest({', '.join(casts)})"
             f" as u({', '.join(f'c{i + 1}' for i in range(len(casts)))}){rest}")
    _SET_BASED[sql] = found
    return found


def _field(row: Any, name: str, index: int) -> Any:
    return row[name] if isinstance(row, dict) else row[index]


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(value)[:10]) if value else None


class Batch:
    """The statements of one batch, with their rows in the events' order."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        #: agreements whose settlements and month-end DPD must be computed again, from the
        #: month end of the date given (None: from activation)
        self.refresh: dict[str, dt.date | None] = {}
        #: agreements closed (completed, referred, superseded): no month end after the close
        self.closed: set[str] = set()
        #: cases whose evidence state must be computed again
        self.evidence: set[str] = set()
        #: cases with an expired offer: back to "offer expired" if none is open any more
        self.expired: dict[str, tuple[dt.datetime, dt.date]] = {}
        #: per case, what the batch says about it: one row of ``_CASE``
        self.cases: dict[str, CaseRow] = {}
        self.business_date: dt.date | None = None

    def add(self, sql: str, *row: Any) -> None:
        self.rows[sql].append(row)

    def case(self, case_id: str) -> CaseRow:
        row = self.cases.get(case_id)
        if row is None:
            row = self.cases[case_id] = CaseRow(case_id)
        return row

    def touch(self, agreement_id: str, since: dt.date | None) -> None:
        """Recompute ``agreement_id``'s derived facts from ``since`` (None: all of them)."""
        if agreement_id in self.refresh:
            before = self.refresh[agreement_id]
            since = None if before is None or since is None else min(before, since)
        self.refresh[agreement_id] = since

    def flush(self, cur: psycopg.Cursor[Any]) -> None:
        """The cases' rows, then every statement's rows, a round at a time (round k: the k-th
        row of each key)."""
        if self.cases:
            cur.execute(_CASE, [list(column) for column in zip(*(c.row() for c in self.cases.values()), strict=True)])
        for sql, rows in self.rows.items():
            width = 2 if sql in _KEY_OF_TWO else 1
            seen: Counter[tuple[Any, ...]] = Counter()
            rounds: list[list[tuple[Any, ...]]] = []
            for row in rows:
                key = row[:width]
                k = seen[key]
                seen[key] += 1
                if k == len(rounds):
                    rounds.append([])
                rounds[k].append(row)
            statement = set_based(cur.connection, sql)
            for chunk in rounds:
                cur.execute(statement, [list(column) for column in zip(*chunk, strict=True)])


def project(events: list[DecodedEvent], uow: UnitOfWork[Any]) -> None:
    """The read model's one use case (``WorkerSpec.projection``): a batch of events, in order,
    in the inbox's transaction."""
    with uow:
        apply(uow.conn, events)


def apply(conn: psycopg.Connection, events: list[DecodedEvent]) -> None:
    batch = Batch()
    for event in events:
        _one(batch, event)
    with conn.cursor() as cur:
        cur.execute(NO_JIT)
        batch.flush(cur)
        if batch.evidence:
            cur.execute(_EVIDENCE_STATE, (sorted(batch.evidence),))
        if batch.closed:
            cur.execute(_DPD_AFTER_CLOSE, (sorted(batch.closed),))
        if batch.refresh:
            ids = sorted(batch.refresh)
            cur.execute(_SETTLEMENTS, {"ids": ids})
        if batch.business_date is not None:
            cur.execute("select business_date from rm_progress")
            before = _value(cur.fetchone())
            cur.execute("update rm_progress set business_date = greatest(business_date, %s)", (batch.business_date,))
            if before is None:
                cur.execute("select min(activated_on) from rm_agreement")
                first = _value(cur.fetchone())
                ends = month_ends(first - dt.timedelta(days=1), batch.business_date) if first else []
            else:
                ends = month_ends(before, batch.business_date)
            if ends:
                # the month ends just reached, for every agreement on plan on them: before the
                # touched ones below, whose rows from their own dates are then written last
                cur.execute(_DPD_AT, {"ends": ends})
        if batch.refresh:
            ids = sorted(batch.refresh)
            cur.execute(_DPD_SINCE, {"ids": ids, "since": [batch.refresh[i] for i in ids]})
        if batch.expired:
            cases = sorted(batch.expired)
            cur.execute(_OFFERS_EXPIRED, (cases, [batch.expired[c][0] for c in cases],
                                          [batch.expired[c][1] for c in cases]))
        last = events[-1].envelope
        cur.execute("update rm_progress set last_event_id = %s, last_event_type = %s, last_occurred_at = %s,"
                    " last_projected_at = clock_timestamp(), events_projected = events_projected + %s",
                    (last.event_id, last.type, last.occurred_at, len(events)))


def _value(row: Any) -> Any:
    if row is None:
        return None
    return next(iter(row.values())) if isinstance(row, dict) else row[0]


def month_ends(before: dt.date, after: dt.date) -> list[dt.date]:
    """The last days of months in ``(before, after]``."""
    ends = []
    year, month = before.year, before.month
    while True:
        nxt = dt.date(year + month // 12, month % 12 + 1, 1)
        end = nxt - dt.timedelta(days=1)
        if end > after:
            return ends
        if end > before:
            ends.append(end)
        year, month = nxt.year, nxt.month


def _one(b: Batch, event: DecodedEvent) -> None:
    env = event.envelope
    t, case_id, at, on = env.type, env.case_id, env.occurred_at, env.business_date
    # the payload as it arrived, validated (decode upcasts an older version to the latest's
    # JSON): dumping the model again cost a third of this function, schedules most of all
    p = env.payload
    if t == "business_date.advanced":
        current = _date(p.get("current"))
        if current and (b.business_date is None or current > b.business_date):
            b.business_date = current
        return
    if t in NOT_CASE_EVENTS:
        return
    key, args = entry = timeline_line(t, p)
    b.add(_TIMELINE, env.event_id, case_id, at, on, t, env.producer, written(entry), Jsonb({"key": key, "args": args}))
    queue = queue_after(t, p)
    if t == "case.opened":
        b.case(case_id).opened(p["hardship_category"], p["channel"], p["dpd_at_first_contact"], p["opened_on"])
        b.case(case_id).under(env.policy_version, env.policy_arm)
        b.evidence.add(case_id)
    elif t == "evidence.requested":
        for document_type in p["missing_document_types"]:
            b.add(_REQUIRED, case_id, document_type)
        b.case(case_id).deadline(p["deadline"])
        b.evidence.add(case_id)
    elif t == "evidence.received":
        b.add(_RECEIVED, p["document_id"], case_id, p["document_type"], p["received_on"])
        b.evidence.add(case_id)
    elif t == "evidence.reviewed":
        b.add(_REVIEWED, p["document_id"], case_id, p["document_type"], p["outcome"], p["reviewed_on"])
        b.evidence.add(case_id)
    elif t == "case.submitted":
        row = b.case(case_id)
        row.submissions = max(row.submissions, p["submission"])
    elif t == "case.decided":
        b.case(case_id).decided(p["decided_on"], p["outcome"], at)
        b.case(case_id).under(p["policy_version"], env.policy_arm)
    elif t == "offer.made":
        b.add(_OFFER_MADE, p["offer_id"], case_id, p["rank"], p["option"], p["new_instalment"], p["term_months"],
              p["expires_on"], on)
    elif t == "offer.accepted":
        b.add(_OFFER_STATUS, p["offer_id"], case_id, "accepted", p["accepted_on"])
        b.case(case_id).accepted(p["agreement_id"])
        b.add(_AGREEMENT_ACCEPTED, p["agreement_id"], case_id, p["accepted_on"])
    elif t in ("offer.expired", "offer.withdrawn", "offer.countered"):
        status = {"offer.expired": "expired", "offer.withdrawn": "withdrawn", "offer.countered": "countered"}[t]
        b.add(_OFFER_STATUS, p["offer_id"], case_id, status,
              p.get("expired_on") or p.get("withdrawn_on") or p.get("countered_on"))
        if t == "offer.expired":
            b.expired[case_id] = (at, on)
    elif t == "agreement.signed":
        b.add(_SIGNED, p["agreement_id"], case_id, p["signed_on"] if p["party"] == "borrower" else None,
              p["signed_on"] if p["party"] == "lender" else None)
    elif t == "agreement.activated":
        b.add(_ACTIVATED, p["agreement_id"], case_id, p["option"], p["activated_on"], p.get("supersedes_agreement_id"))
        if p.get("supersedes_agreement_id"):
            b.add(_SUPERSEDED, p["supersedes_agreement_id"], case_id, p["activated_on"])
            b.closed.add(p["supersedes_agreement_id"])
        for i in p["schedule"]["instalments"]:
            b.add(_INSTALMENT, p["agreement_id"], i["number"], i["due_date"], i["total"])
        b.touch(p["agreement_id"], None)
        # the case row's agreement is the one in force
        b.case(case_id).place("agreement_active", at, on)
        b.case(case_id).accepted(p["agreement_id"])
        queue = None
    elif t == "payment.applied":
        b.add(_PAYMENT, p["reference"], p["agreement_id"], case_id, p["amount"], p["source"], p["received_on"])
        per_instalment: dict[int, Decimal] = defaultdict(Decimal)
        for line in p.get("allocation") or []:
            per_instalment[int(line["instalment"])] += Decimal(str(line["amount"]))
        for number, amount in sorted(per_instalment.items()):
            b.add(_ALLOCATED, p["reference"], number, p["agreement_id"], amount, p["received_on"])
        # a payment can only change what is settled on or after the day it was received
        b.touch(p["agreement_id"], _date(p["received_on"]))
    elif t == "instalment.missed":
        b.add(_MISSED, p["agreement_id"], p["instalment"], p["due_date"], p["detected_on"])
        b.add(_DELINQUENT, p["agreement_id"], case_id)
    elif t in ("agreement.escalated", "agreement.cured"):
        to_level = p.get("to_level", "current")
        breach = p["on"] if to_level == "breach_notice" else None
        b.add(_LEVEL, p["agreement_id"], case_id, to_level, p["on"], at, p.get("remedy_deadline"),
              to_level not in ("current", "completed"), breach)
    elif t == "agreement.completed":
        b.add(_CLOSED, p["agreement_id"], case_id, "completed", p["on"], None, None)
        b.add(_LEVEL, p["agreement_id"], case_id, "completed", p["on"], at, None, False, None)
        b.closed.add(p["agreement_id"])
    elif t == "agreement.referred":
        b.add(_CLOSED, p["agreement_id"], case_id, "referred", p["on"], p["route"], p["on"])
        b.add(_LEVEL, p["agreement_id"], case_id, "legal_referral", p["on"], at, None, True, None)
        b.closed.add(p["agreement_id"])
    elif t == "agreement.near_breach":
        b.add(_NEAR_BREACH, p["agreement_id"], p["instalment"], case_id, p["due_date"], p["checkpoint"],
              p["amount_due"], p["amount_paid"], p["required_share"], p["business_date"])
    elif t == "agreement.near_breach_cleared":
        b.add(_NEAR_BREACH_CLEARED, p["agreement_id"], p["instalment"], case_id, p["business_date"])
    elif t == "promise.recorded":
        b.add(_PROMISE_RECORDED, p["promise_id"], p["agreement_id"], case_id, p["amount"], p["due_date"], p["channel"],
              p["recorded_by"], p["made_on"])
    elif t in ("promise.kept", "promise.broken"):
        b.add(_PROMISE_JUDGED, p["promise_id"], p["agreement_id"], case_id, t.split(".")[1], p["paid"], p["on"])
    elif t == "appeal.lodged":
        b.add(_APPEAL_LODGED, p["appeal_id"], case_id, p["decision_id"], p["lodged_on"], p["deadline"], p["lodged_by"])
    elif t == "appeal.decided":
        b.add(_APPEAL_DECIDED, p["appeal_id"], case_id, p["decision_id"], p["outcome"], p["decided_on"],
              p.get("outcome_decision_id"))
    elif t == "referral.blocked":
        b.add(_BLOCKED, p["agreement_id"], case_id, p["on"])
    elif t == "notice.requested":
        b.add(_NOTICE, p["notice_id"], p["agreement_id"], p["level"], p["on"])
    if queue is not None:
        b.case(case_id).place(queue, at, on)


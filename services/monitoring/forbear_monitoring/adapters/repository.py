"""SQL of the monitoring service: agreements, the instalment ledger, payments, projections.

Thin on purpose: rows in, rows out, and the conversion between ledger rows and the shared
domain's ``LoanLedger``. Business rules live in ``domain/`` and ``forbear_shared.domain``.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import psycopg
from forbear_shared.domain.arrears import LoanLedger
from forbear_shared.domain.schedule import Schedule
from psycopg.rows import tuple_row

from forbear_monitoring.domain.renegotiation import EndReason, Renegotiation, RenegotiationState

Row = dict[str, Any]

LEDGER_LOCK = "select pg_advisory_xact_lock(hashtext('forbear-ledger:' || current_schema()))"
"""Every writer of the ledger (payments, COB, supersession) holds this for its transaction,
so an allocation and a sweep never interleave on the same instalments."""

NEXT_GENERATION = "update ledger_generation set generation = generation + 1 returning generation"

CLOSED = ("completed", "referred", "superseded")


def lock_ledger(conn: psycopg.Connection) -> int:
    """Take the ledger lock for this transaction and move the ledger generation on; return
    this transaction's generation (the one before it is what the ledger was when it began)."""
    conn.execute(LEDGER_LOCK)
    row = conn.execute(NEXT_GENERATION).fetchone()
    assert row is not None
    return int(row["generation"])


class LedgerCache:
    """Ledgers kept in memory between allocation batches, for the agreements payments arrive for.

    Valid only while nobody else wrote the ledger: every writer moves the ledger generation
    (``lock_ledger``). A batch ``begin``s with its own generation; the ledgers it ``keep``s
    become current only if the next batch finds the generation right after it (that batch
    committed and nobody wrote in between); any other generation empties the cache. So a
    rolled-back batch, a payment entered in another process or a supersession all lead to
    a fresh read. Calls are serialised by the ledger lock, which every caller holds.

    At most ``max_size`` ledgers are kept (``FORBEAR_LEDGER_CACHE_SIZE``), the least recently
    paid ones leaving first: memory stays bounded whatever the size of the book, and a book
    larger than the cache costs a read of the ledgers that fell out, not a wrong answer.
    """

    def __init__(self, max_size: int = 100_000) -> None:
        self.max_size = max_size
        self._ledgers: OrderedDict[str, LoanLedger] = OrderedDict()
        self._valid_at: int | None = None
        self._kept: tuple[int, dict[str, LoanLedger]] | None = None

    def __len__(self) -> int:
        return len(self._ledgers)

    def begin(self, generation: int) -> None:
        before = generation - 1
        ledgers = self._ledgers
        if self._kept is not None and self._kept[0] == before and self._valid_at == before - 1:
            for agreement_id, ledger in self._kept[1].items():
                ledgers[agreement_id] = ledger
                ledgers.move_to_end(agreement_id)
            while len(ledgers) > self.max_size:
                ledgers.popitem(last=False)
        elif self._valid_at != before:
            ledgers.clear()
        self._valid_at = before
        self._kept = (generation, {})  # committed without changes, the cache stays current

    def get(self, agreement_ids: Iterable[str]) -> dict[str, LoanLedger]:
        ledgers = self._ledgers
        return {a: ledgers[a] for a in agreement_ids if a in ledgers}

    def keep(self, generation: int, ledgers: dict[str, LoanLedger]) -> None:
        """The ledgers as this generation's transaction leaves them (used if it commits).
        Applied references are dropped: the payments table recognises repeats."""
        if self.max_size <= 0:
            return
        self._kept = (generation, {
            a: LoanLedger(ledger.schedule, ledger.positions, frozenset(), ledger.unapplied)
            for a, ledger in ledgers.items()
        })


class ScheduleCache:
    """Parsed schedules by agreement id. A signed schedule never changes, so caching is safe;
    at most ``max_size`` are kept, the least recently used leaving first."""

    def __init__(self, max_size: int = 200_000) -> None:
        self._schedules: OrderedDict[str, Schedule] = OrderedDict()
        self.max_size = max_size

    def __len__(self) -> int:
        return len(self._schedules)

    def get(self, agreement_id: str) -> Schedule | None:
        found = self._schedules.get(agreement_id)
        if found is not None:
            self._schedules.move_to_end(agreement_id)
        return found

    def put(self, agreement_id: str, schedule: Schedule) -> None:
        if self.max_size <= 0:
            return
        schedules = self._schedules
        schedules[agreement_id] = schedule
        schedules.move_to_end(agreement_id)
        while len(schedules) > self.max_size:
            schedules.popitem(last=False)


# -- agreements ---------------------------------------------------------------------------------


def insert_agreement(conn: psycopg.Connection, row: Row) -> bool:
    cur = conn.execute(
        """insert into agreements (agreement_id, case_id, borrower_id, loan_ids, option, document_sha256,
               activated_on, policy_version, currency, schedule, supersedes_agreement_id, level_since,
               signed_pdf_sha256, signed_pdf_href)
           values (%(agreement_id)s, %(case_id)s, %(borrower_id)s, %(loan_ids)s, %(option)s, %(document_sha256)s,
               %(activated_on)s, %(policy_version)s, %(currency)s, %(schedule)s, %(supersedes_agreement_id)s,
               %(activated_on)s, %(signed_pdf_sha256)s, %(signed_pdf_href)s)
           on conflict (agreement_id) do nothing returning agreement_id""",
        row,
    )
    return cur.fetchone() is not None


def insert_instalments(conn: psycopg.Connection, rows: Sequence[Row]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            """insert into instalments (agreement_id, number, due_date, grace_cutoff, kind, principal, interest,
                   fee, total, settled_on)
               values (%(agreement_id)s, %(number)s, %(due_date)s, %(grace_cutoff)s, %(kind)s, %(principal)s,
                   %(interest)s, %(fee)s, %(total)s, %(settled_on)s)""",
            rows,
        )


def insert_agreement_loans(conn: psycopg.Connection, agreement_id: str, loan_ids: Iterable[str], on: dt.date) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "insert into agreement_loans (loan_id, agreement_id, activated_on) values (%s, %s, %s) on conflict do nothing",
            [(loan, agreement_id, on) for loan in loan_ids],
        )


def agreement(conn: psycopg.Connection, agreement_id: str, *, for_update: bool = False) -> Row | None:
    sql = "select * from agreements where agreement_id = %s" + (" for update" if for_update else "")
    return conn.execute(sql, (agreement_id,)).fetchone()


_AGREEMENT_COLUMNS = (
    "agreement_id, case_id, borrower_id, loan_ids, option, document_sha256, activated_on, policy_version, currency, "
    "supersedes_agreement_id, status, level, level_since, remedy_deadline, breached, referral_blocked_since, "
    "unapplied, closed_on, superseded_by, signed_pdf_sha256, signed_pdf_href"
)


def agreements(conn: psycopg.Connection, agreement_ids: Sequence[str]) -> dict[str, Row]:
    """Agreement rows without their schedule (parsing it is the costly part; ``load_ledgers``
    reads it only for agreements whose schedule is not cached yet)."""
    rows = conn.execute(
        f"select {_AGREEMENT_COLUMNS} from agreements where agreement_id = any(%s)", (list(agreement_ids),)
    ).fetchall()
    return {r["agreement_id"]: r for r in rows}


def close_agreement(conn: psycopg.Connection, agreement_id: str, status: str, on: dt.date, **extra: Any) -> None:
    assert status in CLOSED
    sets = ", ".join(f"{k} = %({k})s" for k in extra)
    conn.execute(
        f"update agreements set status = %(status)s, closed_on = %(on)s{', ' + sets if sets else ''} "
        "where agreement_id = %(agreement_id)s",
        {"status": status, "on": on, "agreement_id": agreement_id, **extra},
    )
    conn.execute("update instalments set closed = true where agreement_id = %s", (agreement_id,))






def payment_agreements(
    conn: psycopg.Connection, *, loan_ids: Sequence[str], agreement_ids: Sequence[str]
) -> tuple[dict[str, str], dict[str, Row]]:
    """For payments by loan and by agreement: the latest agreement covering each loan
    (active or not) by loan id, and the rows of every agreement involved, in one statement."""
    rows = conn.execute(
        f"""with by_loan as (
                select distinct on (al.loan_id) al.loan_id, al.agreement_id
                from agreement_loans al join agreements a using (agreement_id)
                where al.loan_id = any(%b)
                order by al.loan_id, al.activated_on desc, a.created_at desc)
            select by_loan.loan_id, {_AGREEMENT_COLUMNS}
            from agreements
                left join by_loan using (agreement_id)
            where agreement_id in (select agreement_id from by_loan) or agreement_id = any(%b)""",
        (list(dict.fromkeys(loan_ids)), list(dict.fromkeys(agreement_ids))),
    ).fetchall()
    by_loan: dict[str, str] = {}
    agreements: dict[str, Row] = {}
    for r in rows:
        loan_id = r.pop("loan_id")
        if loan_id is not None:
            by_loan[loan_id] = r["agreement_id"]
        agreements[r["agreement_id"]] = r
    return by_loan, agreements


def breached_agreements(conn: psycopg.Connection, borrower_ids: Sequence[str]) -> dict[str, int]:
    """How many agreements of each borrower were ever breached (a breach notice was served)."""
    rows = conn.execute(
        "select borrower_id, count(*) as n from agreements where borrower_id = any(%s) and breached "
        "group by borrower_id",
        (list(dict.fromkeys(borrower_ids)),),
    ).fetchall()
    return {r["borrower_id"]: int(r["n"]) for r in rows}


# -- the ledger ---------------------------------------------------------------------------------

def changed_positions(agreement_id: str, before: LoanLedger, after: LoanLedger) -> list[Row]:
    return [
        {
            "agreement_id": agreement_id,
            "number": new.number,
            "fee_paid": new.fee_paid.amount,
            "penalty_charged": new.penalty_charged.amount,
            "penalty_paid": new.penalty_paid.amount,
            "interest_paid": new.interest_paid.amount,
            "principal_paid": new.principal_paid.amount,
            "penalty_accrued_through": new.penalty_accrued_through,
            "settled_on": new.settled_on,
        }
        for old, new in zip(before.positions, after.positions, strict=True)
        if old != new
    ]


def save_positions(conn: psycopg.Connection, rows: Sequence[Row]) -> None:
    """Every changed ledger row in one statement.

    The set-based statements here pass arrays as binary parameters (``%b``): a text array
    would quote every ``"`` of a JSON body character by character, on the client's CPU.
    """
    if not rows:
        return
    conn.execute(
        """update instalments i set fee_paid = u.fee_paid, penalty_charged = u.penalty_charged,
               penalty_paid = u.penalty_paid, interest_paid = u.interest_paid, principal_paid = u.principal_paid,
               penalty_accrued_through = u.penalty_accrued_through, settled_on = u.settled_on
           from unnest(%b::text[], %b::int[], %b::numeric[], %b::numeric[], %b::numeric[], %b::numeric[],
                       %b::numeric[], %b::date[], %b::date[])
                as u(agreement_id, number, fee_paid, penalty_charged, penalty_paid, interest_paid, principal_paid,
                     penalty_accrued_through, settled_on)
           where i.agreement_id = u.agreement_id and i.number = u.number""",
        [[r[k] for r in rows] for k in (
            "agreement_id", "number", "fee_paid", "penalty_charged", "penalty_paid", "interest_paid",
            "principal_paid", "penalty_accrued_through", "settled_on")],
    )


def set_unapplied(conn: psycopg.Connection, rows: Sequence[tuple[Decimal, str]]) -> None:
    if rows:
        conn.execute(
            """update agreements a set unapplied = u.unapplied
               from unnest(%b::numeric[], %b::text[]) as u(unapplied, agreement_id)
               where a.agreement_id = u.agreement_id""",
            ([r[0] for r in rows], [r[1] for r in rows]),
        )


# -- payments -----------------------------------------------------------------------------------


def known_references(conn: psycopg.Connection, references: Sequence[str]) -> set[str]:
    """Which of these payment references are already recorded."""
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute("select reference from payments where reference = any(%b)", (list(references),))
        return {r[0] for r in cur}


_PAYMENT_COLUMNS = ("reference", "loan_id", "agreement_id", "amount", "currency", "received_on", "source",
                    "entered_by", "entered_on", "backdated_days", "status", "unmatched_reason", "allocation",
                    "unallocated", "applied_on")


def insert_payments(conn: psycopg.Connection, rows: Sequence[Row]) -> None:
    """New payments as allocation left them (applied or unmatched), with one COPY, in the order
    given (``seq`` follows it). The caller holds the ledger lock and checked that no reference
    is recorded yet; ``allocation`` is JSON text (or None)."""
    if not rows:
        return
    columns = _PAYMENT_COLUMNS
    with conn.cursor().copy(f"copy payments ({', '.join(columns)}) from stdin") as copy:
        for r in rows:
            copy.write_row([r[k] for k in columns])


def payment(conn: psycopg.Connection, reference: str) -> Row | None:
    return conn.execute("select * from payments where reference = %s", (reference,)).fetchone()


def any_pending_payment(conn: psycopg.Connection) -> bool:
    row = conn.execute("select exists (select 1 from payments where status = 'pending') as found").fetchone()
    return bool(row and row["found"])


def pending_payments(conn: psycopg.Connection, limit: int) -> list[Row]:
    return conn.execute(
        "select * from payments where status = 'pending' order by seq limit %s", (limit,)
    ).fetchall()


def finish_payments(conn: psycopg.Connection, rows: Sequence[Row]) -> None:
    """Every finished payment in one statement; ``allocation`` is JSON text (or None)."""
    if rows:
        conn.execute(
            """update payments p set status = u.status, agreement_id = u.agreement_id,
                   unmatched_reason = u.unmatched_reason, allocation = u.allocation::jsonb,
                   unallocated = u.unallocated, applied_on = u.applied_on
               from unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::numeric[], %b::date[])
                    as u(reference, status, agreement_id, unmatched_reason, allocation, unallocated, applied_on)
               where p.reference = u.reference""",
            [[r[k] for r in rows] for k in (
                "reference", "status", "agreement_id", "unmatched_reason", "allocation", "unallocated",
                "applied_on")],
        )


def rematch_unmatched(conn: psycopg.Connection, loan_ids: Sequence[str], since: dt.date) -> int:
    """Payments parked for an unknown loan, received on or after an activation, go back to pending."""
    cur = conn.execute(
        """update payments set status = 'pending', unmatched_reason = null
           where status = 'unmatched' and unmatched_reason = 'unknown_loan' and loan_id = any(%s)
             and received_on >= %s""",
        (list(loan_ids), since),
    )
    return cur.rowcount


def payments_of(conn: psycopg.Connection, agreement_id: str) -> list[Row]:
    return conn.execute(
        "select * from payments where agreement_id = %s and status = 'applied' order by seq", (agreement_id,)
    ).fetchall()


# -- escalation records -------------------------------------------------------------------------






def notices_of(conn: psycopg.Connection, agreement_id: str) -> list[Row]:
    return conn.execute(
        "select * from notices where agreement_id = %s order by on_date, level", (agreement_id,)
    ).fetchall()


def steps_of(conn: psycopg.Connection, agreement_id: str) -> list[Row]:
    return conn.execute("select * from escalation_steps where agreement_id = %s order by id", (agreement_id,)).fetchall()


def missed_of(conn: psycopg.Connection, agreement_id: str) -> list[Row]:
    return conn.execute(
        "select * from missed_instalments where agreement_id = %s order by number", (agreement_id,)
    ).fetchall()


def add_referral(conn: psycopg.Connection, row: Row) -> None:
    conn.execute(
        """insert into referrals (referral_id, agreement_id, borrower_id, route, reasons, referred_on, dossier)
           values (%(referral_id)s, %(agreement_id)s, %(borrower_id)s, %(route)s, %(reasons)s, %(referred_on)s,
                   %(dossier)s)""",
        row,
    )


def referral_of(conn: psycopg.Connection, agreement_id: str) -> Row | None:
    return conn.execute("select * from referrals where agreement_id = %s", (agreement_id,)).fetchone()


# -- dossier projections ------------------------------------------------------------------------


def dossier_case_ids(conn: psycopg.Connection, agreement_id: str) -> list[str]:
    """The agreement's case, the cases of the agreements it replaced, and its renegotiation cases."""
    rows = conn.execute(
        """with recursive chain as (
               select agreement_id, case_id, supersedes_agreement_id from agreements where agreement_id = %s
               union all
               select a.agreement_id, a.case_id, a.supersedes_agreement_id
               from agreements a join chain c on a.agreement_id = c.supersedes_agreement_id
           )
           select case_id from chain
           union select r.case_id from renegotiations r join chain c using (agreement_id)""",
        (agreement_id,),
    ).fetchall()
    return [r["case_id"] for r in rows]


def contacts_of(conn: psycopg.Connection, case_ids: Sequence[str]) -> list[Row]:
    return conn.execute(
        "select * from contacts where case_id = any(%s) order by on_date, contact_id", (list(case_ids),)
    ).fetchall()


def evidence_of(conn: psycopg.Connection, case_ids: Sequence[str]) -> list[Row]:
    return conn.execute(
        "select * from evidence where case_id = any(%s) order by case_id, document_id", (list(case_ids),)
    ).fetchall()


# -- the dual-tracking guard's facts ------------------------------------------------------------


def open_renegotiations(conn: psycopg.Connection, agreement_ids: Sequence[str]) -> list[Row]:
    return conn.execute(
        """select r.case_id, r.agreement_id, r.state, r.appeal_id,
                  (select string_agg(o.offer_id, ',' order by o.offer_id) from offers o
                    where o.case_id = r.case_id and o.state in ('open', 'accepted')) as offer_ids
           from renegotiations r
           where r.agreement_id = any(%s) and r.state not in ('ended', 'over_limit')""",
        (list(agreement_ids),),
    ).fetchall()


# -- the renegotiation projection --------------------------------------------------------------


def _renegotiation(row: Row) -> Renegotiation:
    reason = row["ended_reason"]
    return Renegotiation(row["case_id"], row["agreement_id"], row["requested_on"], RenegotiationState(row["state"]),
                         row["ended_on"], None if reason is None else EndReason(reason), row["appeal_id"])


def lock_renegotiation(conn: psycopg.Connection, case_id: str) -> Renegotiation | None:
    row = conn.execute("select * from renegotiations where case_id = %s for update", (case_id,)).fetchone()
    return None if row is None else _renegotiation(row)


def lock_renegotiations_of(conn: psycopg.Connection, agreement_id: str) -> list[Renegotiation]:
    rows = conn.execute("select * from renegotiations where agreement_id = %s order by case_id for update",
                        (agreement_id,)).fetchall()
    return [_renegotiation(r) for r in rows]


def earlier_requests(conn: psycopg.Connection, agreement_id: str, *, other_than: str) -> list[dt.date]:
    """When the other renegotiations of this agreement that counted against the limit were asked for."""
    rows = conn.execute(
        "select requested_on from renegotiations where agreement_id = %s and case_id <> %s and state <> 'over_limit'",
        (agreement_id, other_than),
    ).fetchall()
    return [r["requested_on"] for r in rows]


def insert_renegotiation(conn: psycopg.Connection, r: Renegotiation) -> None:
    conn.execute(
        "insert into renegotiations (case_id, agreement_id, requested_on, state, ended_on, ended_reason) "
        "values (%s, %s, %s, %s, %s, %s) on conflict (case_id) do nothing",
        (r.case_id, r.agreement_id, r.requested_on, r.state.value, r.ended_on,
         None if r.ended_reason is None else r.ended_reason.value),
    )


def save_renegotiations(conn: psycopg.Connection, changed: Sequence[Renegotiation]) -> None:
    if not changed:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "update renegotiations set state = %s, ended_on = %s, ended_reason = %s, appeal_id = %s "
            "where case_id = %s",
            [(r.state.value, r.ended_on, None if r.ended_reason is None else r.ended_reason.value, r.appeal_id,
              r.case_id) for r in changed],
        )


def insert_offer(conn: psycopg.Connection, offer_id: str, case_id: str, expires_on: dt.date) -> None:
    conn.execute(
        "insert into offers (offer_id, case_id, expires_on, state) values (%s, %s, %s, 'open') "
        "on conflict (offer_id) do nothing",
        (offer_id, case_id, expires_on),
    )


def set_offer_state(conn: psycopg.Connection, offer_id: str, state: str, *, only_from: str | None = None) -> None:
    conn.execute(
        "update offers set state = %s where offer_id = %s and (%s::text is null or state = %s)",
        (state, offer_id, only_from, only_from),
    )


def offers_left(conn: psycopg.Connection, case_id: str) -> int:
    """Offers of the case still open or accepted."""
    row = conn.execute(
        "select count(*) as n from offers where case_id = %s and state in ('open', 'accepted')", (case_id,)
    ).fetchone()
    assert row is not None
    return int(row["n"])


# -- the dossier's projections of intake's facts ---------------------------------------------------


def upsert_evidence(conn: psycopg.Connection, case_id: str, rows: Sequence[tuple[str, str, str, str | None]]) -> None:
    """The evidence of a case as submitted: ``(document_id, document_type, status, sha256)``."""
    with conn.cursor() as cur:
        cur.executemany(
            "insert into evidence (case_id, document_id, document_type, status, sha256) values (%s, %s, %s, %s, %s) "
            "on conflict (case_id, document_id) do update set document_type = excluded.document_type, "
            "status = excluded.status, sha256 = excluded.sha256",
            [(case_id, *r) for r in rows],
        )


def review_evidence(conn: psycopg.Connection, case_id: str, document_id: str, document_type: str, status: str) -> None:
    conn.execute(
        "insert into evidence (case_id, document_id, document_type, status) values (%s, %s, %s, %s) "
        "on conflict (case_id, document_id) do update set status = excluded.status",
        (case_id, document_id, document_type, status),
    )


def insert_contact(conn: psycopg.Connection, row: Row) -> None:
    conn.execute(
        "insert into contacts (contact_id, case_id, party, channel, direction, outcome, on_date) "
        "values (%(contact_id)s, %(case_id)s, %(party)s, %(channel)s, %(direction)s, %(outcome)s, %(on_date)s) "
        "on conflict (contact_id) do nothing",
        row,
    )


def manual_entry_facts(conn: psycopg.Connection, agreement_id: str, reference: str) -> tuple[Row | None, Row | None]:
    """What a manual entry decides on: the agreement, and the payment already recorded under
    the slip's reference (if any)."""
    found = agreement(conn, agreement_id)
    return found, payment(conn, reference)


# -- close of business ----------------------------------------------------------------------------


def unfixed_grace_cutoffs(conn: psycopg.Connection, through: dt.date) -> list[Row]:
    """Instalments due by ``through`` whose grace cutoff is not fixed yet (their year's holidays
    were unpublished at activation)."""
    return conn.execute(
        "select agreement_id, number, due_date from instalments "
        "where grace_cutoff is null and not closed and due_date <= %s order by agreement_id, number",
        (through,),
    ).fetchall()


def set_grace_cutoffs(conn: psycopg.Connection, rows: Sequence[Row]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "update instalments set grace_cutoff = %(grace_cutoff)s "
            "where agreement_id = %(agreement_id)s and number = %(number)s and grace_cutoff is null",
            rows,
        )


def mark_missed(conn: psycopg.Connection, day: dt.date) -> list[Row]:
    """Mark the instalments missed on ``day`` (grace cutoff passed, not paid on time, not yet
    marked), each once; the rows newly recorded, in agreement and instalment order."""
    return conn.execute(
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


def escalation_facts(conn: psycopg.Connection, day: dt.date) -> list[Row]:
    """Delinquent (or not current) active agreements: their ladder state, oldest unpaid due
    date and missed instalments outstanding on ``day``, per candidate through the primary key."""
    return conn.execute(
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


def record_close_of_business(conn: psycopg.Connection, day: dt.date, previous: dt.date, missed: int) -> None:
    """The primary key refuses a second sweep of a day."""
    conn.execute("insert into close_of_business_days (day, previous, instalments_missed) values (%s, %s, %s)",
                 (day, previous, missed))


def active_by_level(conn: psycopg.Connection) -> dict[str, int]:
    rows = conn.execute("select level, count(*) as n from agreements where status = 'active' group by level").fetchall()
    return {r["level"]: r["n"] for r in rows}


# -- escalation records, a sweep's worth at a time ------------------------------------------------


def add_steps(conn: psycopg.Connection, steps: Sequence[tuple[str, str, str, dt.date, str]]) -> None:
    """``(agreement_id, from_level, to_level, on, reason)`` rows, in the order given."""
    if steps:
        conn.execute(
            """insert into escalation_steps (agreement_id, from_level, to_level, on_date, reason)
               select agreement_id, from_level, to_level, on_date, reason
               from unnest(%b::text[], %b::text[], %b::text[], %b::date[], %b::text[])
                    with ordinality as s(agreement_id, from_level, to_level, on_date, reason, ord)
               order by ord""",
            [list(c) for c in zip(*steps, strict=True)],
        )


def add_notices(conn: psycopg.Connection, n: Sequence[Row]) -> None:
    if n:
        conn.execute(
            """insert into notices (notice_id, agreement_id, level, on_date, days_past_due, amount_overdue,
                                    remedy_deadline)
               select * from unnest(%b::uuid[], %b::text[], %b::text[], %b::date[], %b::int[],
                                    %b::numeric[], %b::date[])""",
            ([r["notice_id"] for r in n], [r["agreement_id"] for r in n], [r["level"] for r in n],
             [r["on_date"] for r in n], [r["days_past_due"] for r in n], [r["amount_overdue"] for r in n],
             [r["remedy_deadline"] for r in n]),
        )


def set_levels(conn: psycopg.Connection, levels: Sequence[tuple[str, str, dt.date, dt.date | None, bool]]) -> None:
    """``(agreement_id, level, since, remedy_deadline, breached)``; once breached, always breached."""
    if levels:
        conn.execute(
            """update agreements a set level = u.level, level_since = u.since, remedy_deadline = u.deadline,
                                      breached = a.breached or u.breached
               from unnest(%b::text[], %b::text[], %b::date[], %b::date[], %b::bool[])
                    as u(agreement_id, level, since, deadline, breached)
               where a.agreement_id = u.agreement_id""",
            [list(c) for c in zip(*levels, strict=True)],
        )


def set_referrals_blocked(conn: psycopg.Connection, blocked: Sequence[tuple[str, dt.date | None]]) -> None:
    """``(agreement_id, blocked since)``: when a held referral's blocking episode began (None: over)."""
    if blocked:
        conn.execute(
            """update agreements a set referral_blocked_since = u.since
               from unnest(%b::text[], %b::date[]) as u(agreement_id, since)
               where a.agreement_id = u.agreement_id""",
            [list(c) for c in zip(*blocked, strict=True)],
        )


# -- early warning (near breach) ---------------------------------------------------------------


def early_warning_candidates(conn: psycopg.Connection, day: dt.date, checkpoint_days: int) -> list[Row]:
    """Instalments whose early warning may change on ``day``: unpaid ones of monitored agreements,
    never flagged, whose checkpoint has come and whose grace has not passed; and every near breach
    still open. With what the rule reads of each, in agreement and instalment order."""
    columns = """i.agreement_id, a.case_id, a.currency, i.number, i.due_date, i.grace_cutoff, i.total, i.settled_on,
                 i.fee_paid + i.interest_paid + i.principal_paid as paid,
                 a.status = 'active' and not i.closed as monitored"""
    return conn.execute(
        f"""select {columns}, null::text as state
            from instalments i join agreements a using (agreement_id)
            where i.settled_on is null and i.missed_on is null and not i.closed and a.status = 'active'
              and i.due_date <= %(day)s::date + %(days)s and i.grace_cutoff >= %(day)s
              and not exists (select 1 from near_breaches n
                              where n.agreement_id = i.agreement_id and n.number = i.number)
            union all
            select {columns}, n.state
            from near_breaches n join instalments i using (agreement_id, number) join agreements a using (agreement_id)
            where n.state = 'near_breach'
            order by agreement_id, number""",
        {"day": day, "days": checkpoint_days},
    ).fetchall()


def flag_near_breaches(conn: psycopg.Connection, rows: Sequence[Row]) -> list[tuple[str, int]]:
    """Record near breaches, each instalment once; the ``(agreement_id, number)`` newly recorded."""
    if not rows:
        return []
    keys = ("agreement_id", "number", "due_date", "checkpoint", "amount_due", "amount_paid", "required_share",
            "flagged_on")
    recorded = conn.execute(
        """insert into near_breaches (agreement_id, number, due_date, checkpoint, amount_due, amount_paid,
                                      required_share, flagged_on)
           select * from unnest(%b::text[], %b::int[], %b::date[], %b::date[], %b::numeric[], %b::numeric[],
                                %b::numeric[], %b::date[])
           on conflict do nothing
           returning agreement_id, number""",
        [[r[k] for r in rows] for k in keys],
    ).fetchall()
    return [(r["agreement_id"], r["number"]) for r in recorded]


def resolve_near_breaches(conn: psycopg.Connection, state: str, on: dt.date,
                          keys: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """Close open near breaches as ``state`` (cleared or superseded); those that were still open."""
    if not keys:
        return []
    resolved = conn.execute(
        """update near_breaches n set state = %b, resolved_on = %b
           from unnest(%b::text[], %b::int[]) as k(agreement_id, number)
           where n.agreement_id = k.agreement_id and n.number = k.number and n.state = 'near_breach'
           returning n.agreement_id, n.number""",
        (state, on, [k[0] for k in keys], [k[1] for k in keys]),
    ).fetchall()
    return [(r["agreement_id"], r["number"]) for r in resolved]


def near_breaches_of(conn: psycopg.Connection, agreement_id: str) -> list[Row]:
    return conn.execute(
        "select * from near_breaches where agreement_id = %s order by number", (agreement_id,)
    ).fetchall()


# -- promises to pay ----------------------------------------------------------------------------


def open_promise_count(conn: psycopg.Connection, agreement_id: str) -> int:
    row = conn.execute(
        "select count(*) as n from promises where agreement_id = %s and status = 'open'", (agreement_id,)
    ).fetchone()
    return int(row["n"]) if row else 0


def insert_promise(conn: psycopg.Connection, row: Row) -> Row:
    written = conn.execute(
        """insert into promises (promise_id, agreement_id, case_id, amount, currency, made_on, due_date, channel,
                                 recorded_by, recorded_subject)
           values (%(promise_id)s, %(agreement_id)s, %(case_id)s, %(amount)s, %(currency)s, %(made_on)s,
                   %(due_date)s, %(channel)s, %(recorded_by)s, %(recorded_subject)s)
           returning *""",
        row,
    ).fetchone()
    assert written is not None
    return written


def promises_of(conn: psycopg.Connection, agreement_id: str) -> list[Row]:
    return conn.execute(
        """select promise_id, agreement_id, amount, currency, made_on, due_date, channel, recorded_by, status,
                  paid, judged_on
           from promises where agreement_id = %s order by made_on, promise_id""",
        (agreement_id,),
    ).fetchall()


def open_promises_with_payments(conn: psycopg.Connection, through: dt.date) -> list[Row]:
    """Every open promise made on or before ``through``, with (received on, amount) of the
    applied payments of its agreement received from the day it was made through its date and
    ``through``; the domain decides what they add up to."""
    return conn.execute(
        """select p.promise_id, p.agreement_id, p.case_id, p.amount, p.currency, p.made_on, p.due_date,
                  coalesce(array_agg(pay.received_on order by pay.seq) filter (where pay.seq is not null), '{}')
                      as received_on,
                  coalesce(array_agg(pay.amount order by pay.seq) filter (where pay.seq is not null), '{}')
                      as amounts
           from promises p
           left join payments pay on pay.agreement_id = p.agreement_id and pay.status = 'applied'
                and pay.received_on between p.made_on and least(p.due_date, %(through)s)
           where p.status = 'open' and p.made_on <= %(through)s
           group by p.promise_id
           order by p.agreement_id, p.promise_id""",
        {"through": through},
    ).fetchall()


def judge_promises(conn: psycopg.Connection, rows: Sequence[tuple[str, str, Decimal, dt.date]]) -> set[str]:
    """Record each (promise, status, paid, judged on) if the promise is still open; the ids recorded."""
    if not rows:
        return set()
    cur = conn.execute(
        """update promises p set status = u.status, paid = u.paid, judged_on = u.judged_on
           from unnest(%s::text[], %s::text[], %s::numeric[], %s::date[]) as u(promise_id, status, paid, judged_on)
           where p.promise_id = u.promise_id and p.status = 'open'
           returning p.promise_id""",
        [[r[i] for r in rows] for i in range(4)],
    )
    return {r["promise_id"] for r in cur.fetchall()}

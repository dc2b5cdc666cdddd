"""The KPIs of the product brief (§2): one definition, read from the read model in SQL.

The console's ``/kpis`` and the ``forbear_kpi_*`` gauges that Grafana draws are both made by
``compute`` (README, "KPIs": each KPI once, with its SQL and its metric). The SQL aggregates
the read model's rows into a few small groups; the pure functions below finish each KPI from
those groups, so that each definition can be read and tested on its own:

* **funnel** — cases opened → submitted → decided → approved → offer accepted → agreement
  signed by both (activated) → completed;
* **cure rate** — of the agreements that ever became delinquent (an instalment missed or an
  escalation), the share that came back to current (cured, or completed) rather than staying
  in arrears or being referred;
* **breach rate by months on plan** — of the agreements still unbroken at the start of their
  m-th month on plan, the share whose breach notice was served during that month;
* **DPD roll rates** — at consecutive month ends of the business calendar, the share of
  agreements in a DPD bucket that were in a worse bucket a month later (DPD of an agreement
  = days since its oldest due date not settled by then);
* **agreements near breach** — active agreements with an instalment flagged near breach at its
  checkpoint (early warning) and neither cleared nor missed since;
* **time to first decision** — days of business date between a case's opening and its first
  decision, as a histogram with median and 90th percentile.

``by_policy`` computes every one of them again for each policy version the cases were decided
under (the champion and a live challenger, ``[challenger]`` in the policy file), and
``compare`` puts the challenger's rates beside the champion's: the difference B − A with its
95 % interval (Newcombe's hybrid score interval for a difference of independent proportions).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg import sql

from forbear_console.readmodel.queries import OPEN_NEAR_BREACH

DPD_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
FIRST_DECISION_BINS = (0, 1, 2, 3, 5, 7, 10, 14, 21, 30)
#: the longest plan the breach curve draws (months)
BREACH_HORIZON_MONTHS = 36
FUNNEL_STAGES = ("opened", "submitted", "decided", "approved", "offer accepted", "signed (active)", "completed")


def rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def bucket(dpd: int) -> str:
    if dpd <= 0:
        return "current"
    if dpd <= 30:
        return "1-30"
    if dpd <= 60:
        return "31-60"
    if dpd <= 90:
        return "61-90"
    return "90+"


# -- the pure finishing formulas ----------------------------------------------------------------


def breach_rows(spans: Iterable[tuple[int, int | None, int]]) -> list[dict[str, Any]]:
    """From ``(months observed, month of breach or None, number of agreements)``: month m
    (1-based) exposes the agreements on plan that long and unbroken at its start."""
    spans = [(observed, broke, n) for observed, broke, n in spans]
    if not spans:
        return []
    horizon = min(max(observed for observed, _, _ in spans), BREACH_HORIZON_MONTHS)
    rows = []
    for month in range(1, horizon + 1):
        exposed = sum(n for observed, broke, n in spans if observed >= month and (broke is None or broke >= month))
        breached = sum(n for _observed, broke, n in spans if broke == month)
        rows.append({"month": month, "exposed": exposed, "breached": breached, "rate": rate(breached, exposed)})
    return rows


def roll_rows(moves: dict[tuple[str, str], int]) -> list[dict[str, Any]]:
    """From counts of (bucket at a month end, bucket a month later): per delinquent bucket, how
    many were observed there and how many were worse a month later."""
    rows = []
    for index, source in enumerate(DPD_BUCKETS[:-1]):
        total = sum(n for (frm, _to), n in moves.items() if frm == source)
        worse = sum(n for (frm, to), n in moves.items() if frm == source and DPD_BUCKETS.index(to) > index)
        cured = sum(n for (frm, to), n in moves.items() if frm == source and to == "current" and index > 0)
        rows.append({"from": source, "to": DPD_BUCKETS[index + 1], "observed": total, "rolled": worse,
                     "rate": rate(worse, total), "cured": cured})
    return rows


def first_decision_summary(days_counts: dict[int, int]) -> dict[str, Any]:
    """From how many cases took each number of days: histogram, median and 90th percentile
    (the value at position ⌊q·n⌋ of the sorted days)."""
    days = sorted(d for d, n in days_counts.items() for _ in range(n))
    bins = []
    for low, high in zip(FIRST_DECISION_BINS, (*FIRST_DECISION_BINS[1:], None), strict=True):
        label = f"{low}" if high == low + 1 else (f"{low}-{high - 1}" if high else f"{low}+")
        bins.append({"label": label,
                     "count": sum(n for d, n in days_counts.items() if d >= low and (high is None or d < high))})

    def pct(q: float) -> int | None:
        return days[min(int(q * len(days)), len(days) - 1)] if days else None

    return {"decided": len(days), "median_days": pct(0.5), "p90_days": pct(0.9), "histogram": bins}


def cure_summary(delinquent: int, cured: int, referred: int) -> dict[str, Any]:
    return {"delinquent": delinquent, "cured": cured, "still_delinquent": delinquent - cured - referred,
            "referred": referred, "rate": rate(cured, delinquent)}


#: the rates the Policies page compares between arms: name -> (numerator, denominator) in ``proportions``
COMPARED_RATES = ("approval", "offer_acceptance", "cure", "legal_referral", "promise_kept", "appeal_overturn")
Z95 = 1.959963984540054  # the standard normal's 97.5th percentile


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion k/n (n > 0)."""
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return centre - half, centre + half


def difference(a: tuple[int, int], b: tuple[int, int], z: float = Z95) -> dict[str, float] | None:
    """b's rate minus a's with its interval: Newcombe (1998), method 10, from each arm's Wilson
    interval; None when an arm has no denominator yet."""
    (ka, na), (kb, nb) = a, b
    if not na or not nb:
        return None
    pa, pb = ka / na, kb / nb
    (la, ua), (lb, ub) = wilson(ka, na, z), wilson(kb, nb, z)
    d = pb - pa
    return {"difference": round(d, 4), "low": round(d - math.sqrt((pb - lb) ** 2 + (ua - pa) ** 2), 4),
            "high": round(d + math.sqrt((ub - pb) ** 2 + (pa - la) ** 2), 4)}


def compare(arms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each compared rate of every other arm against the first (the champion): B − A and its interval."""
    if len(arms) < 2:
        return []
    champion = arms[0]
    rows = []
    for other in arms[1:]:
        for name in COMPARED_RATES:
            a, b = champion["kpis"]["proportions"][name], other["kpis"]["proportions"][name]
            rows.append({"kpi": name, "a": champion["policy_version"], "b": other["policy_version"],
                         "a_rate": rate(*a), "b_rate": rate(*b), "interval": difference(tuple(a), tuple(b))})
    return rows


# -- the SQL --------------------------------------------------------------------------------------

_CASES = """
select count(*) filter (where opened_on is not null) as opened,
       count(*) filter (where submissions > 0) as submitted,
       count(*) filter (where first_decided_on is not null) as decided,
       count(*) filter (where ever_approved) as approved,
       count(*) filter (where offer_accepted) as accepted,
       count(*) filter (where last_outcome is not null) as with_outcome,
       count(*) filter (where last_outcome = 'approve') as last_approved
from rm_case"""
_BY = "select {col} as key, count(*) as n from rm_case where {col} is not null and opened_on is not null group by 1"
_AGREEMENTS = """
select count(*) filter (where activated_on is not null) as activated,
       count(*) filter (where status = 'active') as active,
       count(*) filter (where status = 'completed') as completed,
       count(*) filter (where status = 'referred') as referred,
       count(*) filter (where ever_delinquent) as delinquent,
       count(*) filter (where ever_delinquent and status <> 'referred'
                        and (status = 'completed' or level = 'current')) as cured,
       count(*) filter (where ever_delinquent and status = 'referred') as delinquent_referred
from rm_agreement"""
#: agreements with an open early warning (flagged, not cleared, not missed, still active)
_NEAR_BREACH = f"select count(distinct n.agreement_id) as n {OPEN_NEAR_BREACH}"
#: promises to pay judged: kept / (kept + broken) is the promise-kept rate
_PROMISES = """
select count(*) filter (where made_on is not null) as recorded,
       count(*) filter (where status = 'kept') as kept,
       count(*) filter (where status = 'broken') as broken
from rm_promise"""
#: appeals of a decline and their outcomes (README: appeals and their outcomes)
_APPEALS = """
select count(*) filter (where lodged_on is not null) as lodged,
       count(*) filter (where status = 'pending' and lodged_on is not null) as pending,
       count(*) filter (where status = 'upheld') as upheld,
       count(*) filter (where status = 'overturned') as overturned
from rm_appeal"""
_LEVELS = "select level as key, count(*) as n from rm_agreement where status = 'active' group by 1"
_ROUTES = "select referral_route as key, count(*) as n from rm_agreement where referral_route is not null group by 1"
_OFFERS = "select status as key, count(*) as n from rm_offer group by 1"
_NOTICES = "select level as key, count(*) as n from rm_notice group by 1"
_MONTHS = """((extract(year from {e}) - extract(year from {s})) * 12 + extract(month from {e}) - extract(month from {s})
             - case when extract(day from {e}) < extract(day from {s}) then 1 else 0 end)::int"""
_BREACH = f"""
with a as (
    select activated_on as s, first_breach_on as b,
           greatest(coalesce(first_breach_on, closed_on, p.business_date, activated_on), activated_on) as e
    from rm_agreement, rm_progress p where activated_on is not null
)
select {_MONTHS.format(s='s', e='e')} + 1 as observed,
       case when b is null then null else {_MONTHS.format(s='s', e='b')} + 1 end as broke, count(*) as n
from a group by 1, 2"""
_BUCKET = """case when {d} <= 0 then 'current' when {d} <= 30 then '1-30' when {d} <= 60 then '31-60'
                  when {d} <= 90 then '61-90' else '90+' end"""
_ROLLS = f"""
select {_BUCKET.format(d='b.dpd')} as before, {_BUCKET.format(d='n.dpd')} as after, count(*) as n
from rm_month_end_dpd b
join rm_month_end_dpd n on n.agreement_id = b.agreement_id
 and n.month_end = (date_trunc('month', b.month_end) + interval '2 month - 1 day')::date
group by 1, 2"""
_FIRST_DECISION = """
select greatest(first_decided_on - opened_on, 0) as days, count(*) as n from rm_case
where opened_on is not null and first_decided_on is not null group by 1"""


def _pairs(conn: psycopg.Connection, sql: str) -> dict[str, int]:
    return {str(r["key"]): int(r["n"]) for r in conn.execute(sql)}


def compute(conn: psycopg.Connection) -> dict[str, Any]:
    """Every KPI the console shows, from the read model (a connection bound to its schema)."""
    c = conn.execute(_CASES).fetchone()
    a = conn.execute(_AGREEMENTS).fetchone()
    assert c is not None and a is not None
    near = conn.execute(_NEAR_BREACH).fetchone()
    promised = conn.execute(_PROMISES).fetchone()
    appealed = conn.execute(_APPEALS).fetchone()
    assert appealed is not None
    assert promised is not None
    progress = conn.execute("select business_date from rm_progress").fetchone()
    as_of: dt.date | None = progress["business_date"] if progress else None
    offers = _pairs(conn, _OFFERS)
    settled_offers = sum(n for status, n in offers.items() if status != "open")
    spans = [(int(r["observed"]), r["broke"], int(r["n"])) for r in conn.execute(_BREACH)]
    moves = {(r["before"], r["after"]): int(r["n"]) for r in conn.execute(_ROLLS)}
    days = {int(r["days"]): int(r["n"]) for r in conn.execute(_FIRST_DECISION)}
    counts = [c["opened"], c["submitted"], c["decided"], c["approved"], c["accepted"], a["activated"], a["completed"]]
    return {
        "as_of": as_of.isoformat() if as_of else None,
        "unavailable": [],
        "cases_opened": c["opened"],
        "cases_by_hardship": _pairs(conn, _BY.format(col="hardship_category")),
        "cases_by_channel": _pairs(conn, _BY.format(col="channel")),
        "cases_by_status": _pairs(conn, _BY.format(col="queue")),
        "funnel": [{"stage": stage, "count": int(n)} for stage, n in zip(FUNNEL_STAGES, counts, strict=True)],
        "approval_rate": rate(c["last_approved"], c["with_outcome"]),
        "offer_acceptance_rate": rate(offers.get("accepted", 0), settled_offers),
        "active_agreements": a["active"],
        "active_by_level": _pairs(conn, _LEVELS),
        "agreements_near_breach": int(near["n"]) if near else 0,
        "promises": {"recorded": promised["recorded"], "kept": promised["kept"], "broken": promised["broken"]},
        "promise_kept_rate": rate(promised["kept"], promised["kept"] + promised["broken"]),
        "appeals": {k: appealed[k] for k in ("lodged", "pending", "upheld", "overturned")},
        "appeal_overturn_rate": rate(appealed["overturned"], appealed["upheld"] + appealed["overturned"]),
        "cure": cure_summary(a["delinquent"], a["cured"], a["delinquent_referred"]),
        "breach_by_months_on_plan": breach_rows(spans),
        "legal_referral_rate": rate(a["referred"], a["activated"]),
        "referrals_by_route": _pairs(conn, _ROUTES),
        "roll_rates": roll_rows(moves),
        "notices_by_level": _pairs(conn, _NOTICES),
        "time_to_first_decision": first_decision_summary(days),
        # the counts behind each compared rate, [numerator, denominator]: the Policies page's intervals
        "proportions": {
            "approval": [c["last_approved"], c["with_outcome"]],
            "offer_acceptance": [offers.get("accepted", 0), settled_offers],
            "cure": [a["cured"], a["delinquent"]],
            "legal_referral": [a["referred"], a["activated"]],
            "promise_kept": [promised["kept"], promised["kept"] + promised["broken"]],
            "appeal_overturn": [appealed["overturned"], appealed["upheld"] + appealed["overturned"]],
        },
    }


#: the read model's tables the KPIs read, each narrowed to one policy version's cases: rm_case by
#: its column, the others by their case or their agreement (rm_progress, the business date, is whole)
_NARROWED = {
    "rm_case": "select * from {s}.rm_case where policy_version = {v}",
    **{t: f"select * from {{s}}.{t} where case_id in (select case_id from {{s}}.rm_case where policy_version = {{v}})"
       for t in ("rm_agreement", "rm_offer", "rm_near_breach", "rm_promise", "rm_appeal")},
    **{t: f"select * from {{s}}.{t} where agreement_id in (select agreement_id from {{s}}.rm_agreement "
          f"where case_id in (select case_id from {{s}}.rm_case where policy_version = {{v}}))"
       for t in ("rm_instalment", "rm_month_end_dpd", "rm_notice")},
}


def by_policy(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every KPI of ``compute`` for each policy version the cases are decided under, the
    champion's first (then by version): the same SQL, over temporary views of the same names
    that hold only that version's rows. The views live in this transaction only (a savepoint
    rolled back), so nothing else sees them."""
    schema = conn.execute("select current_schema() as s").fetchone()
    assert schema is not None
    arms = conn.execute("select policy_version, coalesce(max(policy_arm), 'champion') as arm, count(*) as cases"
                        " from rm_case where policy_version is not null and opened_on is not null"
                        " group by 1 order by (coalesce(max(policy_arm), 'champion') <> 'champion'), 1").fetchall()
    if len(arms) < 2:
        return []  # one policy: the whole book's KPIs are its KPIs
    result = []
    for arm in arms:
        with conn.transaction(force_rollback=True):
            for table, select in _NARROWED.items():
                conn.execute(sql.SQL("create temporary view {t} as " + select).format(
                    t=sql.Identifier(table), s=sql.Identifier(schema["s"]), v=sql.Literal(arm["policy_version"])))
            result.append({"policy_version": arm["policy_version"], "arm": arm["arm"], "cases": int(arm["cases"]),
                           "kpis": compute(conn)})
    return result


def report(conn: psycopg.Connection) -> dict[str, Any]:
    """What ``/kpis`` serves and the gauges export: the whole book's KPIs, the same for each
    policy version when a challenger runs (``policies``), and the challenger against the
    champion (``policy_comparison``)."""
    policies = by_policy(conn)
    return {**compute(conn), "policies": policies, "policy_comparison": compare(policies)}

"""The KPIs of the product brief (§2), computed from the four services' list APIs.

The console owns no data: it reads the lists the services publish (with the operator's own
token) and aggregates them here. The aggregation is pure (plain dicts in, plain dicts out) so
that each definition can be read and tested on its own:

* **funnel** — cases opened → submitted → decided → approved → offer accepted → agreement
  active (signed by both) → completed;
* **cure rate** — of the agreements that ever became delinquent (an instalment missed), the
  share that came back to current (cured, or completed after a cure) rather than staying in
  arrears or being referred;
* **breach rate by months on plan** — of the agreements still unbroken at the start of their
  m-th month on plan, the share whose breach notice was served during that month;
* **DPD roll rates** — at consecutive month ends of the business calendar, the share of
  agreements in a DPD bucket that moved to a worse bucket a month later (DPD of an agreement
  = days since its oldest unsettled due date);
* **time to first decision** — days of business date between a case's opening and its first
  decision, as a histogram with median and 90th percentile.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

Record = dict[str, Any]
Fetch = Callable[..., Awaitable[Any]]

DPD_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
FIRST_DECISION_BINS = (0, 1, 2, 3, 5, 7, 10, 14, 21, 30)
#: statuses of an intake case that mean "submitted at least once"
_AFTER_DECISION = {"approved", "offer_accepted", "agreement_active", "completed", "legal_referral", "declined",
                   "needs_supervisor"}
#: bounds on how much one KPI computation reads (the lists are paged by the services)
MAX_ITEMS = 5000
MAX_DETAILS = 1000
CONCURRENCY = 16


class SourceUnavailable(Exception):
    """A service's list did not answer 200; the KPIs say which instead of guessing."""


def _items(answer: Any) -> list[Record]:
    if isinstance(answer, list):
        return answer
    if isinstance(answer, dict):
        for key in ("items", "agreements", "cases", "offers", "referrals", "reviews", "decisions"):
            if isinstance(answer.get(key), list):
                return answer[key]  # type: ignore[no-any-return]
    return []


def _date(value: Any) -> dt.date | None:
    if not value:
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


# -- the definitions --------------------------------------------------------------------------


def funnel(cases: list[Record], offers: list[Record], agreements: list[Record],
           monitored: list[Record]) -> list[dict[str, Any]]:
    statuses = Counter(c.get("status") for c in cases)
    submitted = sum(1 for c in cases if (c.get("submissions") or 0) > 0 or c.get("status") in _AFTER_DECISION
                    or c.get("status") == "under_evaluation")
    decided = sum(1 for c in cases if c.get("last_outcome") or c.get("status") in _AFTER_DECISION)
    approved = sum(1 for c in cases if c.get("last_outcome") == "approve"
                   or c.get("status") in {"approved", "offer_accepted", "agreement_active", "completed",
                                          "legal_referral"})
    accepted_cases = {o.get("case_id") for o in offers if o.get("status") == "accepted"}
    accepted_cases |= {a.get("case_id") for a in agreements}
    active = sum(1 for a in agreements if a.get("status") in {"active", "superseded"})
    completed = sum(1 for m in monitored if m.get("status") == "completed")
    del statuses
    return [
        {"stage": "opened", "count": len(cases)},
        {"stage": "submitted", "count": submitted},
        {"stage": "decided", "count": decided},
        {"stage": "approved", "count": approved},
        {"stage": "offer accepted", "count": len(accepted_cases - {None})},
        {"stage": "signed (active)", "count": active},
        {"stage": "completed", "count": completed},
    ]


def _missed_numbers(agreement: Record) -> set[int]:
    missed = agreement.get("missed_instalments")
    if isinstance(missed, list):
        return {m if isinstance(m, int) else int(m.get("number") or m.get("instalment") or 0) for m in missed}
    return {int(i.get("number", 0)) for i in _instalments(agreement) if _missed(i)}


def _instalments(agreement: Record) -> list[Record]:
    schedule = agreement.get("schedule")
    if isinstance(schedule, dict):
        schedule = schedule.get("instalments")
    return [i for i in (schedule or agreement.get("instalments") or []) if isinstance(i, dict)]


def _missed(instalment: Record) -> bool:
    return bool(instalment.get("missed_detected_on") or instalment.get("missed_on")
                or instalment.get("status") in {"missed", "paid_late"})


def cure_rate(monitored: list[Record]) -> dict[str, Any]:
    delinquent = cured = referred = still = 0
    for agreement in monitored:
        ever = bool(_missed_numbers(agreement)) or any(
            s.get("from_level") not in (None, "current") for s in agreement.get("escalation") or [])
        if not ever:
            continue
        delinquent += 1
        level = agreement.get("level")
        status = agreement.get("status")
        if status == "referred" or level == "legal_referral":
            referred += 1
        elif status == "completed" or level == "current":
            cured += 1
        else:
            still += 1
    return {"delinquent": delinquent, "cured": cured, "still_delinquent": still, "referred": referred,
            "rate": _rate(cured, delinquent)}


def _breach_date(agreement: Record) -> dt.date | None:
    dates = [_date(n.get("on") or n.get("on_date")) for n in agreement.get("notices") or []
             if n.get("level") == "breach_notice"]
    dates += [_date(s.get("on") or s.get("on_date")) for s in agreement.get("escalation") or []
              if s.get("to_level") == "breach_notice"]
    found = [d for d in dates if d]
    if found:
        return min(found)
    if agreement.get("breached") or agreement.get("level") in {"breach_notice", "legal_referral"}:
        return _date(agreement.get("level_since") or agreement.get("breached_on"))
    return None


def _months_between(start: dt.date, end: dt.date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


def breach_by_months_on_plan(monitored: list[Record], as_of: dt.date | None) -> list[dict[str, Any]]:
    """Month m (1-based): exposed = unbroken at the start of month m and on plan that long."""
    spans: list[tuple[int, int | None]] = []  # (months observed, month of breach)
    for agreement in monitored:
        start = _date(agreement.get("activated_on"))
        if start is None:
            continue
        breach = _breach_date(agreement)
        end = breach or _date(agreement.get("closed_on")) or as_of or start
        observed = _months_between(start, max(end, start)) + 1
        spans.append((observed, (_months_between(start, breach) + 1) if breach else None))
    if not spans:
        return []
    horizon = min(max(observed for observed, _ in spans), 36)
    rows = []
    for month in range(1, horizon + 1):
        exposed = sum(1 for observed, broke in spans if observed >= month and (broke is None or broke >= month))
        breached = sum(1 for _observed, broke in spans if broke == month)
        rows.append({"month": month, "exposed": exposed, "breached": breached, "rate": _rate(breached, exposed)})
    return rows


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


def _settled_on(instalment: Record) -> dt.date | None:
    return _date(instalment.get("settled_on") or instalment.get("paid_on"))


def dpd_on(agreement: Record, day: dt.date) -> int | None:
    """DPD on ``day`` from the schedule: days since the oldest due date not settled by then."""
    instalments = _instalments(agreement)
    if not instalments:
        return None
    oldest: dt.date | None = None
    for instalment in instalments:
        due = _date(instalment.get("due_date"))
        if due is None or due >= day:
            continue
        settled = _settled_on(instalment)
        paid_without_date = settled is None and instalment.get("status") == "paid"
        if paid_without_date or (settled is not None and settled <= day):
            continue
        oldest = due if oldest is None or due < oldest else oldest
    return (day - oldest).days if oldest else 0


def _month_ends(start: dt.date, end: dt.date) -> list[dt.date]:
    ends = []
    year, month = start.year, start.month
    while True:
        nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
        last = nxt - dt.timedelta(days=1)
        if last > end:
            return ends
        ends.append(last)
        year, month = nxt.year, nxt.month


def roll_rates(monitored: list[Record], as_of: dt.date | None) -> list[dict[str, Any]]:
    """From each delinquent bucket: how many were there at a month end, how many were worse a month later."""
    moves: Counter[tuple[str, str]] = Counter()
    for agreement in monitored:
        start = _date(agreement.get("activated_on"))
        if start is None or as_of is None:
            continue
        stop = _date(agreement.get("closed_on")) or as_of
        ends = _month_ends(start, min(stop, as_of))
        for before, after in zip(ends, ends[1:], strict=False):
            b, a = dpd_on(agreement, before), dpd_on(agreement, after)
            if b is None or a is None:
                continue
            moves[(bucket(b), bucket(a))] += 1
    rows = []
    for index, source in enumerate(DPD_BUCKETS[:-1]):
        total = sum(n for (frm, _to), n in moves.items() if frm == source)
        worse = sum(n for (frm, to), n in moves.items() if frm == source and DPD_BUCKETS.index(to) > index)
        cured = sum(n for (frm, to), n in moves.items() if frm == source and to == "current" and index > 0)
        rows.append({"from": source, "to": DPD_BUCKETS[index + 1], "observed": total, "rolled": worse,
                     "rate": _rate(worse, total), "cured": cured})
    return rows


def time_to_first_decision(cases: list[Record], first_decisions: dict[str, dt.date]) -> dict[str, Any]:
    days = []
    for case in cases:
        opened = _date(case.get("opened_on"))
        decided = first_decisions.get(case.get("case_id", ""))
        if opened and decided:
            days.append(max((decided - opened).days, 0))
    days.sort()
    bins = []
    for low, high in zip(FIRST_DECISION_BINS, (*FIRST_DECISION_BINS[1:], None), strict=True):
        label = f"{low}" if high == low + 1 else (f"{low}-{high - 1}" if high else f"{low}+")
        bins.append({"label": label,
                     "count": sum(1 for d in days if d >= low and (high is None or d < high))})

    def pct(q: float) -> int | None:
        return days[min(int(q * len(days)), len(days) - 1)] if days else None

    return {"decided": len(days), "median_days": pct(0.5), "p90_days": pct(0.9), "histogram": bins}


def counts_by(records: Iterable[Record], field: str) -> dict[str, int]:
    return dict(Counter(str(r.get(field)) for r in records if r.get(field) is not None))


# -- reading the lists --------------------------------------------------------------------------


async def _all_pages(fetch: Fetch, service: str, path: str, page: int = 500) -> list[Record]:
    items: list[Record] = []
    while len(items) < MAX_ITEMS:
        answer = await fetch(service, path, {"limit": str(page), "offset": str(len(items))})
        batch = _items(answer)
        items.extend(batch)
        total = answer.get("total") if isinstance(answer, dict) else None
        if len(batch) < page or (total is not None and len(items) >= total):
            break
    return items


async def _details(fetch: Fetch, service: str, template: str, ids: list[str]) -> list[Any]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(ident: str) -> Any:
        async with gate:
            try:
                return await fetch(service, template.format(ident))
            except SourceUnavailable:
                return None

    return await asyncio.gather(*(one(i) for i in ids[:MAX_DETAILS]))


async def gather(fetch: Fetch) -> dict[str, Any]:
    """Read every list the KPIs need; a missing list is named in ``unavailable``."""
    unavailable: list[str] = []

    async def listing(service: str, path: str) -> list[Record]:
        try:
            return await _all_pages(fetch, service, path)
        except SourceUnavailable as exc:
            unavailable.append(str(exc))
            return []

    cases, offers, agreements, monitored, referrals = await asyncio.gather(
        listing("intake", "/cases"), listing("agreement", "/offers"), listing("agreement", "/agreements"),
        listing("monitoring", "/agreements"), listing("monitoring", "/referrals"),
    )
    try:
        as_of = _date((await fetch("monitoring", "/business-date")).get("business_date"))
    except SourceUnavailable as exc:
        unavailable.append(str(exc))
        as_of = None
    # the schedule with settled / missed instalments and the notices are on each agreement's page
    details = await _details(fetch, "monitoring", "/agreements/{}", [str(m.get("agreement_id")) for m in monitored])
    # details stop at MAX_DETAILS; the rest keep their list row
    padded = [*details, *[None] * (len(monitored) - len(details))]
    monitored = [d if isinstance(d, dict) else m for m, d in zip(monitored, padded, strict=True)]
    decided_cases = [str(c["case_id"]) for c in cases if c.get("last_outcome") or c.get("status") in _AFTER_DECISION]
    first: dict[str, dt.date] = {}
    answers = await _details(fetch, "evaluation", "/cases/{}/decisions", decided_cases)
    for case_id, answer in zip(decided_cases[:MAX_DETAILS], answers, strict=True):
        dates = [_date(d.get("decided_on")) for d in _items(answer)]
        dates = [d for d in dates if d]
        if dates:
            first[case_id] = min(dates)
    return {"cases": cases, "offers": offers, "agreements": agreements, "monitored": monitored,
            "referrals": referrals, "as_of": as_of, "first_decisions": first, "unavailable": unavailable}


def aggregate(data: dict[str, Any]) -> dict[str, Any]:
    cases, offers, agreements = data["cases"], data["offers"], data["agreements"]
    monitored, referrals, as_of = data["monitored"], data["referrals"], data["as_of"]
    decided = [c for c in cases if c.get("last_outcome")]
    offer_outcomes = counts_by(offers, "status")
    settled_offers = sum(n for s, n in offer_outcomes.items() if s != "open")
    active = [m for m in monitored if m.get("status") == "active"]
    return {
        "as_of": as_of.isoformat() if as_of else None,
        "unavailable": data["unavailable"],
        "cases_opened": len(cases),
        "cases_by_hardship": counts_by(cases, "hardship_category"),
        "cases_by_channel": counts_by(cases, "channel"),
        "cases_by_status": counts_by(cases, "status"),
        "funnel": funnel(cases, offers, agreements, monitored),
        "approval_rate": _rate(sum(1 for c in decided if c.get("last_outcome") == "approve"), len(decided)),
        "offer_acceptance_rate": _rate(offer_outcomes.get("accepted", 0), settled_offers),
        "active_agreements": len(active),
        "active_by_level": counts_by(active, "level"),
        "cure": cure_rate(monitored),
        "breach_by_months_on_plan": breach_by_months_on_plan(monitored, as_of),
        "legal_referral_rate": _rate(len(referrals), len(monitored)),
        "referrals_by_route": counts_by(referrals, "route"),
        "roll_rates": roll_rates(monitored, as_of),
        "notices_by_level": dict(Counter(n.get("level") for m in monitored for n in m.get("notices") or [])),
        "time_to_first_decision": time_to_first_decision(cases, data["first_decisions"]),
    }


_cache: dict[str, tuple[float, dict[str, Any]]] = {}


async def compute(fetch: Fetch, *, cache_seconds: float = 5.0) -> dict[str, Any]:
    """The KPIs, reused for ``cache_seconds`` (every staff member sees the same lender-wide figures)."""
    hit = _cache.get("kpis")
    if hit and time.monotonic() - hit[0] < cache_seconds:
        return hit[1]
    result = aggregate(await gather(fetch))
    if not result["unavailable"]:
        _cache["kpis"] = (time.monotonic(), result)
    return result

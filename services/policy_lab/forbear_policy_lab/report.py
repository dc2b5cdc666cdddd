"""The comparison, side by side: per policy the mean ± 95 % half-width over replications, and
B - A (each policy against the first) with its interval over the paired replications.

``text`` prints it; ``html`` writes one self-contained page (inline CSS and SVG charts, no
script, nothing fetched).
"""

from __future__ import annotations

import html as _html
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .domain.stats import Interval, interval
from .domain.tally import Tally
from .engine import Tallies

#: (key, label, kind): kind "share" prints as %, "money" in the currency, "count" as is
METRICS: tuple[tuple[str, str, str], ...] = (
    ("approval_rate", "approved", "share"),
    ("supervisor_rate", "routed to a supervisor", "share"),
    ("decline_rate", "declined", "share"),
    ("agreement_rate", "agreements (approved + supervisor)", "share"),
    ("mean_relief", "mean instalment relief", "money"),
    ("mean_relief_share", "mean instalment relief, share", "share"),
    ("burden", "borrower burden (payment / disposable income)", "share"),
    ("delinquency_rate", "agreements ever delinquent", "share"),
    ("cure_rate", "cure rate (of delinquent)", "share"),
    ("breach_rate", "breach rate (breach notice served)", "share"),
    ("referral_rate", "legal referral rate", "share"),
    ("completion_rate", "completed", "share"),
    ("recovered", "recovered (plan payments + legal)", "money"),
    ("recovered_npv", "recovered, present value", "money"),
    ("recovered_share", "recovered / owed at evaluation", "share"),
)


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    kind: str
    per_policy: tuple[Interval | None, ...]
    differences: tuple[Interval | None, ...]
    """Policy k - policy 0, for k >= 1."""


@dataclass(frozen=True)
class Comparison:
    names: tuple[str, ...]
    versions: tuple[str, ...]
    borrowers: int
    replications: int
    rows: tuple[Row, ...]
    currency: str
    totals: tuple[Tally, ...]
    """Each policy's tallies summed over replications (for the charts' counts)."""


def _series(tallies: Tallies, policy: int, replications: int, key: str) -> list[Decimal | None]:
    return [tallies[(policy, r)].metrics().get(key, Decimal(0)) for r in range(replications)]


def compare(tallies: Tallies, names: Sequence[str], versions: Sequence[str], replications: int,
            currency: str) -> Comparison:
    policies = len(names)
    reasons = sorted({code for (p, r), t in tallies.items() for code in t.decline_reasons})
    specs = list(METRICS[:3]) + [(f"declined:{c}", f"  declined: {c}", "share") for c in reasons] + list(METRICS[3:])
    rows = []
    for key, label, kind in specs:
        series = [_series(tallies, p, replications, key) for p in range(policies)]
        per = tuple(interval([v for v in s if v is not None]) for s in series)
        diffs = []
        for p in range(1, policies):
            pairs = [b - a for a, b in zip(series[0], series[p], strict=True) if a is not None and b is not None]
            diffs.append(interval(pairs))
        rows.append(Row(key, label, kind, per, tuple(diffs)))
    totals = []
    for p in range(policies):
        total = Tally()
        for r in range(replications):
            total = total.add(tallies[(p, r)])
        totals.append(total)
    borrowers = tallies[(0, 0)].borrowers
    return Comparison(tuple(names), tuple(versions), borrowers, replications, tuple(rows), currency, tuple(totals))


def _fmt(value: float | None, kind: str, signed: bool = False) -> str:
    if value is None:
        return "-"
    sign = "+" if signed else ""
    if kind == "share":
        return f"{value * 100:{sign}.1f} %"
    return f"{value:{sign},.0f}"


def cell(it: Interval | None, kind: str, signed: bool = False) -> str:
    if it is None:
        return "-"
    if it.half_width is None:
        return _fmt(it.mean, kind, signed)
    width = f"{it.half_width * 100:.1f}" if kind == "share" else f"{it.half_width:,.0f}"
    return f"{_fmt(it.mean, kind, signed)} ± {width}"


def text(c: Comparison) -> str:
    heads = [f"{chr(65 + i)}: {name}" for i, name in enumerate(c.names)]
    heads += [f"{chr(65 + i)} - A" for i in range(1, len(c.names))]
    width = max(len(r.label) for r in c.rows) + 2
    cells = [[cell(it, r.kind) for it in r.per_policy] + [cell(it, r.kind, True) for it in r.differences]
             for r in c.rows]
    col = max(16, *(len(h) + 2 for h in heads), *(len(x) + 2 for row in cells for x in row))
    lines = [
        f"{c.borrowers:,} borrowers, {c.replications} replications; mean ± 95 % half-width over replications "
        f"(t x s / sqrt(R)); money in {c.currency}",
        *(f"  {chr(65 + i)}: {name} (policy {version})" for i, (name, version) in enumerate(zip(c.names, c.versions, strict=True))),
        "",
        f"{'':<{width}}" + "".join(f"{h:>{col}}" for h in heads),
    ]
    for row, texts in zip(c.rows, cells, strict=True):
        lines.append(f"{row.label:<{width}}" + "".join(f"{x:>{col}}" for x in texts))
    return "\n".join(lines)


# -- HTML ------------------------------------------------------------------------------------

COLOURS = ("#2f6690", "#d1495b", "#3a7d44", "#edae49", "#6a4c93")


def _bars(title: str, rows: Sequence[Row], names: Sequence[str], kind: str) -> str:
    """Grouped horizontal bars, one group per figure, one bar per policy, with the interval as a whisker."""
    values = [[(it.mean if it else 0.0, it.half_width if it and it.half_width else 0.0) for it in r.per_policy]
              for r in rows]
    top = max([m + h for group in values for m, h in group] + [1e-9])
    bar, gap, label_w, plot_w = 14, 10, 320, 420
    height = 30 + len(rows) * (len(names) * bar + gap) + 20 * ((len(names) + 2) // 3)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + plot_w + 110}" height="{height}" '
             f'role="img" aria-label="{_html.escape(title)}">',
             f'<text x="0" y="16" font-weight="bold">{_html.escape(title)}</text>']
    y = 30
    for row, group in zip(rows, values, strict=True):
        parts.append(f'<text x="0" y="{y + bar * len(names) / 2 + 4:.0f}">{_html.escape(row.label.strip())}</text>')
        for p, (mean, half) in enumerate(group):
            w = plot_w * max(mean, 0) / top
            parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar - 2}" fill="{COLOURS[p % 5]}"/>')
            if half:
                lo, hi = label_w + plot_w * max(mean - half, 0) / top, label_w + plot_w * (mean + half) / top
                mid = y + (bar - 2) / 2
                parts.append(f'<line x1="{lo:.1f}" x2="{hi:.1f}" y1="{mid:.1f}" y2="{mid:.1f}" stroke="#000"/>')
            parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + bar - 4}" font-size="11">'
                         f'{_html.escape(_fmt(mean, kind))}</text>')
            y += bar
        y += gap
    for p, name in enumerate(names):
        x, yy = (p % 3) * 230, y + 14 + (p // 3) * 20
        parts.append(f'<rect x="{x}" y="{yy - 10}" width="12" height="12" fill="{COLOURS[p % 5]}"/>'
                     f'<text x="{x + 16}" y="{yy}">{chr(65 + p)}: {_html.escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def html(c: Comparison) -> str:
    rows = {r.key: r for r in c.rows}
    outcome_rows = [r for r in c.rows if r.key.startswith("declined:") or r.key in (
        "approval_rate", "supervisor_rate", "decline_rate")]
    life_rows = [rows[k] for k in ("delinquency_rate", "cure_rate", "breach_rate", "referral_rate", "completion_rate")]
    relief_rows = [rows[k] for k in ("mean_relief_share", "burden", "recovered_share")]
    money_rows = [rows[k] for k in ("recovered", "recovered_npv")]
    heads = "".join(f"<th>{chr(65 + i)}: {_html.escape(n)}<br><small>{_html.escape(v)}</small></th>"
                    for i, (n, v) in enumerate(zip(c.names, c.versions, strict=True)))
    heads += "".join(f"<th>{chr(65 + i)} - A</th>" for i in range(1, len(c.names)))
    body = "".join(
        f"<tr><td>{_html.escape(r.label.strip())}</td>"
        + "".join(f"<td>{_html.escape(cell(it, r.kind))}</td>" for it in r.per_policy)
        + "".join(f"<td>{_html.escape(cell(it, r.kind, True))}</td>" for it in r.differences)
        + "</tr>"
        for r in c.rows)
    charts = "".join(f"<figure>{svg}</figure>" for svg in (
        _bars("Decisions (share of borrowers)", outcome_rows, c.names, "share"),
        _bars("Under the agreement (share of agreements; cure: of delinquent)", life_rows, c.names, "share"),
        _bars("Relief, burden and recovery", relief_rows, c.names, "share"),
        _bars(f"Recovered ({c.currency})", money_rows, c.names, "money"),
    ))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Policy lab: {' vs '.join(map(_html.escape, c.names))}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: right; }}
td:first-child, th:first-child {{ text-align: left; }}
figure {{ margin: 1.5em 0; }} svg text {{ font: 12px system-ui, sans-serif; }}
</style></head><body>
<h1>Policy lab</h1>
<p>{c.borrowers:,} borrowers, {c.replications} replications. Each figure is the mean over replications
± the 95 % half-width (t × s / √R); B − A is computed per replication on the same borrowers and the
same behaviour draws. Money in {c.currency}. Whiskers on the bars are the intervals.</p>
<table><thead><tr><th></th>{heads}</tr></thead><tbody>{body}</tbody></table>
{charts}
</body></html>
"""

"""Writes the policy file reference (shared/POLICY.md) from the policy model itself.

``python -m forbear_shared.policy_catalogue > shared/POLICY.md``; a test keeps it current. Every
field of ``forbear_shared.domain.policy.Policy``: its TOML key, its unit, its limits, its
default (none: the file must give it) and what it is for (the field's docstring).
"""

from __future__ import annotations

import sys
import types
import typing
from datetime import date, time
from decimal import Decimal
from enum import Enum
from typing import Any

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .domain.policy import Policy

CROSS_FIELD_RULES = (
    "`currency` is one of `loans.currencies`.",
    "`delinquency.dpd_buckets` start at DPD 1, are contiguous and ordered, and only the last is open-ended "
    "(no `max_dpd`); `max_dpd` >= `min_dpd`; `penalty_day_count` is ACT/360 or ACT/365.",
    "`allocation.order` lists fees, penalty_interest, interest and principal exactly once each.",
    "`restructuring.rate_step` > 0; `principal_deferral_max_share` is 0 when `principal_deferral_allowed` is false.",
    "`schedules.frequencies` and `schedules.methods` each list at least one value, each once.",
    "`reamortisation.min_remaining_instalments` <= `max_remaining_instalments`; "
    "`reageing.max_per_12_months` <= `max_per_5_years`.",
    "`evaluation.early_contact_bands` are in increasing `max_dpd` order and only the last is open-ended.",
    "`escalation`: `reminder_dpd` < `warning_dpd` < `breach_notice_dpd`.",
    "`legal.mediation_max_amount` < `legal.asset_preservation_min_amount`.",
    "`contact.earliest` < `contact.latest`; at least one of `contact.allowed_parties`.",
    "`representatives.allowed_kinds` names at least one kind.",
    "`early_warning.min_paid_share` > 0 when early warning is enabled.",
    "`calendar.weekend`: ISO weekdays 1-7, each once; a day is not both in `closed_days` and "
    "`extra_working_days`; `published_years` needs `holidays = \"CN\"`.",
)


def _limits(info: FieldInfo) -> str:
    parts = []
    for m in info.metadata:
        if isinstance(m, Ge):
            parts.append(f">= {m.ge}")
        elif isinstance(m, Gt):
            parts.append(f"> {m.gt}")
        elif isinstance(m, Le):
            parts.append(f"<= {m.le}")
        elif isinstance(m, Lt):
            parts.append(f"< {m.lt}")
        elif isinstance(m, MinLen):
            parts.append(f"at least {m.min_length} item(s)" if m.min_length != 1 else "not empty")
        elif isinstance(m, MaxLen):
            parts.append(f"at most {m.max_length} long")
        elif getattr(m, "decimal_places", None) is not None:
            parts.append(f"at most {m.decimal_places} decimal places")
        elif getattr(m, "pattern", None) is not None:
            parts.append(f"matches `{m.pattern}`")
    return ", ".join(parts)


def _unit(name: str, annotation: Any, info: FieldInfo) -> str:
    if typing.get_origin(annotation) is typing.Annotated:
        return _unit(name, typing.get_args(annotation)[0], info)
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _unit(name, args[0], info) + " or none"
    if origin is tuple:
        return f"list of {_unit(name, args[0], info)}" if args else "list"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "one of " + ", ".join(f'"{e.value}"' for e in annotation)
    if annotation is Decimal:
        if any(getattr(m, "decimal_places", None) == 2 for m in info.metadata):
            return "money in the policy currency, a string (\"50.00\")"
        if "rate" in name and "share" not in name:
            return "annual rate as a fraction, a string (\"0.08\" = 8 % a year)"
        return "fraction, a string (\"0.31\" = 31 %)"
    if annotation is bool:
        return "true / false"
    if annotation is int:
        for suffix, unit in (("_days", "days"), ("_dpd", "days past due"), ("_months", "months"),
                             ("_minutes", "minutes"), ("_seconds", "seconds"), ("_years", "years")):
            if name.endswith(suffix) or name == suffix[1:]:
                return f"whole {unit}"
        return "whole number"
    if annotation is time:
        return "local time, HH:MM:SS"
    if annotation is date:
        return "ISO date"
    if annotation is str:
        return "text"
    if origin is dict:
        return f"table of the section's own keys (``[{name}]``'s units and limits)"
    return getattr(annotation, "__name__", str(annotation))


def _default(info: FieldInfo) -> str:
    if info.default is PydanticUndefined and info.default_factory is None:
        return "required"
    value = info.default_factory() if info.default_factory is not None else info.default  # type: ignore[call-arg]
    if isinstance(value, BaseModel):
        return "section optional"
    if isinstance(value, tuple):
        return "[" + ", ".join(f'"{v.value}"' if isinstance(v, Enum) else str(v) for v in value) + "]"
    if isinstance(value, Enum):
        return f'"{value.value}"'
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Decimal):
        return f'"{value}"'
    return str(value)


def _rows(model: type[BaseModel], prefix: str) -> list[tuple[str, str, str, str, str]]:
    rows: list[tuple[str, str, str, str, str]] = []
    nested: list[tuple[type[BaseModel], str]] = []
    for name, info in model.model_fields.items():
        if info.exclude:
            continue  # attached by the loader, never in the file
        annotation = info.annotation
        key = f"{prefix}{info.alias or name}"
        args = [a for a in typing.get_args(annotation) if isinstance(a, type)]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            nested.append((annotation, f"{key}."))
            continue
        optional = [a for a in args if a is not type(None)]
        if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(optional) == 1 \
                and issubclass(optional[0], BaseModel):
            rows.append((key, f"optional table ({optional[0].__name__}, fields below)", "", "none",
                         " ".join((info.description or "").split())))
            nested.append((optional[0], f"{key}."))
            continue
        if typing.get_origin(annotation) is tuple and args and issubclass(args[0], BaseModel):
            rows.append((key, f"list of tables ({args[0].__name__}, fields below)", "", _default(info),
                         (info.description or "").replace("\n", " ")))
            nested.append((args[0], f"{key}[]."))
            continue
        rows.append((key, _unit(name, annotation, info), _limits(info), _default(info),
                     " ".join((info.description or "").split())))
    for sub, sub_prefix in nested:
        rows.extend(_rows(sub, sub_prefix))
    return rows


def render() -> str:
    lines = [
        "# The policy file (generated)",
        "",
        "Every field of a lender's policy file (`shared/forbear_shared/policies/demo-lender.toml` is the demo",
        "lender's): its key (`section.field`; `[]` a table of a list), unit, limits, default, and what it is for.",
        "Regenerate with `python -m forbear_shared.policy_catalogue > shared/POLICY.md` (a test keeps it current).",
        "Money and rates are strings: TOML floats are refused (`write decimals as strings`). Unknown keys are",
        "refused. A file that breaks a rule is refused with the field named, e.g.",
        "`evaluation.affordable_share_of_disposable_income: Input should be less than or equal to 1`.",
        "",
        "| key | unit | limits | default | what it is for |",
        "|---|---|---|---|---|",
    ]
    for key, unit, limits, default, doc in _rows(Policy, ""):
        lines.append(f"| `{key}` | {unit} | {limits} | {default} | {doc.replace('|', '/')} |")
    lines += ["", "## Rules across fields", ""]
    lines += [f"- {rule}" for rule in CROSS_FIELD_RULES]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())

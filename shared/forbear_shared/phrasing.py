"""A sentence as data: a message catalogue's key and its arguments, typed, so that each page
writes it in its reader's language and formats (``common/i18n.js``'s ``phrase``).

An argument is plain text or a number, or one of these, which the page writes for its language:
an amount (``money``), a date (``date``), a share (``share``: "0.3" is 30 %), a code of a
catalogue group (``code``: the group's word for it), several codes (``codes``), or an optional
part with a key of its own (``part``). The console's timeline lines and evaluation's reasons
are written this way; the English text of each stays beside it for logs and older readers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Args = Mapping[str, Any]


def money(value: object, currency: object = None) -> dict[str, str] | None:
    if value is None:
        return None
    return {"money": str(value), "currency": str(currency)} if currency else {"money": str(value)}


def date(value: object) -> dict[str, str] | None:
    return {"date": str(value)} if value is not None else None


def share(value: object) -> dict[str, str] | None:
    return {"share": str(value)} if value is not None else None


def code(group: str, value: object) -> dict[str, str] | None:
    return {"code": group, "value": str(value)} if value is not None else None


def codes(group: str, values: Iterable[object] | None, limit: int = 0) -> dict[str, Any]:
    listed = [str(v) for v in values or []]
    return {"codes": group, "values": listed[:limit] if limit else listed, "more": bool(limit) and len(listed) > limit}


def part(present: object, key: str, **args: Any) -> dict[str, Any] | str:
    """An optional part of a sentence: its own catalogue key, or nothing."""
    return {"line": key, "args": args} if present else ""

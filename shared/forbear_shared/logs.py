"""Structured JSON logs carrying case_id / event_id / correlation_id from context.

Personal data (names, national ids, phone numbers) is never passed to a logger; the
``redact`` filter below is a second line of defence for digit runs that look like them.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

case_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("case_id", default=None)
event_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("event_id", default=None)
correlation_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)

_LONG_DIGITS = re.compile(r"\d{7,}[\dXx]?")
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def redact(text: str) -> str:
    """Mask long digit runs (phone numbers, national ids, account numbers)."""
    return _LONG_DIGITS.sub(lambda m: "*" * (len(m.group()) - 4) + m.group()[-4:], text)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        for key, var in (("case_id", case_id_var), ("event_id", event_id_var), ("correlation_id", correlation_id_var)):
            value = var.get()
            if value:
                out[key] = value
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = redact(str(value)) if isinstance(value, str) else value
        if record.exc_info:
            out["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(out, default=str)


def configure(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("kafka", "aiokafka", "uvicorn.access", "psycopg.pool"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@contextmanager
def event_context(*, case_id: str | None, event_id: str | None, correlation_id: str | None) -> Iterator[None]:
    tokens = (
        case_id_var.set(case_id),
        event_id_var.set(event_id),
        correlation_id_var.set(correlation_id),
    )
    try:
        yield
    finally:
        case_id_var.reset(tokens[0])
        event_id_var.reset(tokens[1])
        correlation_id_var.reset(tokens[2])

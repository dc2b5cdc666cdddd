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
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

case_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("case_id", default=None)
event_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("event_id", default=None)
correlation_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)

_LONG_DIGITS = re.compile(r"\d{7,}[\dXx]?")
#: uvicorn adds ``color_message`` (the message with terminal colours) to its records
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "color_message"}


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


#: loggers that install handlers of their own (uvicorn's dictConfig): theirs are dropped and
#: their records propagate to the root's one redacting JSON handler
_TAKEN_OVER = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def configure(service: str, level: str = "INFO") -> None:
    """Every record of the process, uvicorn's, libraries' and ``warnings`` included, leaves
    through one handler with the redacting JSON formatter; so do uncaught exceptions."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _TAKEN_OVER:
        taken = logging.getLogger(name)
        taken.handlers.clear()
        taken.propagate = True
    for noisy in ("kafka", "aiokafka", "uvicorn.access", "psycopg.pool"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # kafka-python's network loop warns when one of its steps took over 0.1 s of wall time; in a
    # worker that is the time another thread held the GIL decoding and applying a batch, not a
    # fault (the consumer-lag metrics say whether the worker keeps up), and it came many times a
    # second under load
    logging.getLogger("kafka.net.selector").setLevel(logging.ERROR)
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


def _log_uncaught(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    logging.getLogger("uncaught").critical("uncaught exception", exc_info=(kind, value, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    logging.getLogger("uncaught").critical(
        "uncaught exception in a thread", exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        extra={"thread": args.thread.name if args.thread else None},
    )


def dict_config(service: str, level: str = "INFO") -> dict[str, Any]:
    """The same set-up as ``configure`` as a ``logging.config.dictConfig`` (uvicorn's ``log_config``),
    so that uvicorn's first lines, before the app is built, are redacted JSON too."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter, "service": service}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            **{name: {"handlers": [], "propagate": True} for name in _TAKEN_OVER},
            "uvicorn.access": {"handlers": [], "propagate": True, "level": "WARNING"},
        },
    }


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

"""Apps that fail on purpose, served by ``forbear_shared.serve`` in the log-redaction tests."""

from __future__ import annotations

import warnings

from fastapi import FastAPI
from forbear_shared import logs
from forbear_shared.http import configure_http

PHONE = "13812345678"


def create_app() -> FastAPI:
    """An app whose route fails with a phone number in the exception (and warns with one)."""
    logs.configure("faulty")
    app = FastAPI()

    @app.get("/fail")
    def fail() -> None:
        warnings.warn(f"borrower phone {PHONE} looks odd", stacklevel=1)
        raise RuntimeError(f"could not reach the borrower at {PHONE}")

    configure_http(app, service="faulty", authz=None)
    return app


def create_broken_app() -> FastAPI:
    """A factory that fails before any app exists, while uvicorn is loading it."""
    raise RuntimeError(f"configuration names the borrower at {PHONE}")

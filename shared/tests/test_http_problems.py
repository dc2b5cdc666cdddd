"""The last-resort handler: an unexpected error is a 500 problem with an error id, logged with it."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.testclient import TestClient
from forbear_shared.http import PROBLEM_MEDIA_TYPE, configure_http


def test_an_unexpected_error_is_a_500_problem_with_an_error_id_logged_with_its_traceback(caplog) -> None:
    app = FastAPI()

    @app.post("/boom")
    def boom(body: dict) -> None:
        raise RuntimeError(f"could not reach borrower at {body['phone']}")

    configure_http(app, service="test", authz=None)
    with caplog.at_level(logging.ERROR), TestClient(app) as client:
        response = client.post("/boom", json={"phone": "13812345678"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    body = response.json()
    assert body["reason"] == "internal_error" and body["error_id"] in body["detail"]
    assert "13812345678" not in response.text and "RuntimeError" not in response.text
    [record] = [r for r in caplog.records if getattr(r, "error_id", None) == body["error_id"]]
    assert record.exc_info is not None and record.__dict__["route"] == "/boom"

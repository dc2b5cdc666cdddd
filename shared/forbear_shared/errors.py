"""The one mapping from domain refusals to HTTP: 404 unknown, 409 refused, 422 invalid."""

from __future__ import annotations


class ForbearError(Exception):
    status_code = 409

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class NotFound(ForbearError):
    status_code = 404

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"{what}_not_found", f"no {what} {ident}")


class Conflict(ForbearError):
    """A request that is valid in form but impossible in the current state."""

    status_code = 409


class Unprocessable(ForbearError):
    status_code = 422


class Forbidden(ForbearError):
    status_code = 403

"""The one error type of onecloud.

Domain code raises these; the API maps them to HTTP once (``chalicelib.handlers.edge``), so every bad
input yields the same JSON shape ``{"detail": ...}`` with a 4xx status.
"""

from __future__ import annotations

from typing import Any


class OnecloudError(Exception):
    """Base error: carries the HTTP status it stands for and an optional structured payload."""

    status: int = 400

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail, **self.extra}


class BadRequest(OnecloudError):
    status = 400


class NotAuthenticated(OnecloudError):
    status = 401


class PermissionDenied(OnecloudError):
    status = 403


class NotFound(OnecloudError):
    status = 404


class Conflict(OnecloudError):
    status = 409


class Ambiguous(BadRequest):
    """A name that several records answer to (a nickname used by two labs): the caller must say which."""

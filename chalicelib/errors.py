"""The one error type of onecloud.

Domain code raises these; the API maps them to HTTP once (``chalicelib.handlers.edge``), so every bad
input yields the same JSON shape ``{"detail": ...}`` with a 4xx status. The body also carries Alyx's
shape, so lab scripts that read DRF's errors keep working: ``status_code``, and for a message about one
field (``"<field>: <message>"``) that field's list of messages, ``{"<field>": ["<message>"]}``.
"""

from __future__ import annotations

import re
from typing import Any

_FIELD_MESSAGE = re.compile(r"\A([A-Za-z_]\w*): (.+)\Z", re.S)


class OnecloudError(Exception):
    """Base error: carries the HTTP status it stands for and an optional structured payload."""

    status: int = 400

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"detail": self.detail, "status_code": self.status}
        about_field = _FIELD_MESSAGE.match(self.detail) if self.status == 400 else None
        if about_field and about_field.group(1) not in out:
            out[about_field.group(1)] = [about_field.group(2)]
        return {**out, **self.extra}


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

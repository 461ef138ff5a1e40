"""The fields of the REST resources: what each accepts, how input is checked and normalised.

One description per field serves validation (every bad input is a 400 naming the field) and the OpenAPI
document (``GET /api/schema``), so the two cannot drift apart.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import BadRequest
from chalicelib.qc import QC, qc_value

KINDS = ("string", "integer", "number", "boolean", "date", "datetime", "uuid", "json", "list", "qc")
_OPENAPI_TYPES = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "uuid": {"type": "string", "format": "uuid"},
    "json": {"type": "object", "additionalProperties": True},
    "list": {"type": "array", "items": {"type": "string"}},
    "qc": {"type": "string", "enum": list(QC)},
}


@dataclass(frozen=True)
class Field:
    name: str
    kind: str = "string"
    required: bool = False
    read_only: bool = False
    null: bool = True
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    minimum: float | None = None
    description: str = ""
    relation: str | None = None  # the resource a name (or names, for a list) must exist in

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind

    def openapi(self) -> dict[str, Any]:
        schema: dict[str, Any] = dict(_OPENAPI_TYPES[self.kind])
        if self.choices:
            schema["enum"] = list(self.choices)
        if self.pattern:
            schema["pattern"] = self.pattern
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.read_only:
            schema["readOnly"] = True
        if self.null and not self.required:
            schema["nullable"] = True
        if self.description:
            schema["description"] = self.description
        return schema

    def clean(self, value: Any) -> Any:
        """The value as stored, or a 400 naming this field."""
        if value is None or (value == "" and self.kind not in ("string", "json")):
            if self.required or not self.null:
                raise BadRequest(f"{self.name}: this field may not be null")
            return None
        cleaned = _CLEANERS[self.kind](self, value)
        if self.choices and cleaned not in self.choices:
            raise BadRequest(f"{self.name}: {cleaned!r} is not one of {', '.join(self.choices)}")
        if self.pattern and isinstance(cleaned, str) and not re.fullmatch(self.pattern, cleaned):
            raise BadRequest(f"{self.name}: {cleaned!r} does not match {self.pattern}")
        if self.minimum is not None and cleaned < self.minimum:
            raise BadRequest(f"{self.name}: must be at least {self.minimum}")
        return cleaned


def _wrong(field: Field, value: Any, expected: str) -> BadRequest:
    return BadRequest(f"{field.name}: expected {expected}, got {json.dumps(value, default=str)[:80]}")


def _string(field: Field, value: Any) -> str:
    if not isinstance(value, str):
        raise _wrong(field, value, "a string")
    return value


def _integer(field: Field, value: Any) -> int:
    if isinstance(value, bool):
        raise _wrong(field, value, "an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        return int(value)
    raise _wrong(field, value, "an integer")


def _number(field: Field, value: Any) -> float:
    if isinstance(value, bool):
        raise _wrong(field, value, "a number")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise _wrong(field, value, "a number")


def _boolean(field: Field, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _wrong(field, value, "true or false")


def _date(field: Field, value: Any) -> str:
    if isinstance(value, str):
        try:
            return parse_datetime(value).date().isoformat()
        except ValueError:
            pass
    raise _wrong(field, value, "a date YYYY-MM-DD")


def parse_datetime(value: str) -> datetime.datetime:
    """ISO 8601, naive (Alyx stores local time): a timezone suffix is dropped, a date means midnight."""
    moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.replace(tzinfo=None)


def _datetime(field: Field, value: Any) -> str:
    if isinstance(value, str):
        try:
            return parse_datetime(value).isoformat()
        except ValueError:
            pass
    raise _wrong(field, value, "an ISO 8601 datetime")


def _uuid(field: Field, value: Any) -> str:
    if isinstance(value, str):
        candidate = value.rstrip("/")[-36:]
        try:
            return str(uuid.UUID(candidate))
        except ValueError:
            pass
    raise _wrong(field, value, "a uuid")


class FormText(str):
    """A value from a form-encoded body: a JSON field reads it as JSON text, as DRF's does (a string in
    a JSON body stays the string it is)."""


def _json(field: Field, value: Any) -> Any:
    if isinstance(value, FormText):
        try:
            return json.loads(value)
        except ValueError:
            return str(value)
    return value


def _list(field: Field, value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return list(value)
    raise _wrong(field, value, "a list of names")


_CLEANERS = {
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "date": _date,
    "datetime": _datetime,
    "uuid": _uuid,
    "json": _json,
    "list": _list,
    "qc": lambda field, value: qc_value(value, field.name),
}


def parse_payload(fields: Iterable[Field], data: Any, *, partial: bool) -> dict[str, Any]:
    """Validate a request body against ``fields``.

    Unknown fields are refused; read-only fields are ignored (clients send back what they read); with
    ``partial`` (PATCH) required fields may be absent.
    """
    if not isinstance(data, Mapping):
        raise BadRequest("the request body must be a JSON object")
    by_name = {field.name: field for field in fields}
    unknown = sorted(set(data) - set(by_name))
    if unknown:
        raise BadRequest(f"unknown field{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
    cleaned: dict[str, Any] = {}
    for field in by_name.values():
        if field.read_only:
            continue
        if field.name in data:
            cleaned[field.name] = field.clean(data[field.name])
        elif field.required and not partial:
            raise BadRequest(f"{field.name}: this field is required")
    return cleaned

"""The fields of the REST resources: what each accepts, how input is checked and normalised.

One description per field serves validation (every bad input is a 400 naming the field) and the OpenAPI
document (``GET /api/schema``), so the two cannot drift apart.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.errors import BadRequest
from chalicelib.qc import QC, qc_value

KINDS = ("string", "text", "integer", "number", "boolean", "date", "datetime", "uuid", "json", "list", "qc")

# What a value may be: DynamoDB's limits, made 400s that name the field before anything is written.
NAME_LENGTH = 255  # characters of a string (a name, a label); keys and indexed values are strings
TEXT_LENGTH = 100_000  # characters of a text (a narrative, a log, a description) or of a JSON value
MAX_DEPTH = 32  # nesting of a JSON body (and so of a JSON field)
MAX_ITEMS = 1000  # names in a list field
INTEGERS = (-(2**63), 2**63 - 1)
LARGEST, SMALLEST = 9.9e125, 1e-130  # magnitudes DynamoDB numbers can hold (and 0)

_OPENAPI_TYPES = {
    "string": {"type": "string", "maxLength": NAME_LENGTH},
    "text": {"type": "string", "maxLength": TEXT_LENGTH},
    "integer": {"type": "integer", "minimum": INTEGERS[0], "maximum": INTEGERS[1]},
    "number": {"type": "number", "minimum": -LARGEST, "maximum": LARGEST},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "uuid": {"type": "string", "format": "uuid"},
    "json": {"description": "any JSON value"},
    "list": {
        "type": "array",
        "maxItems": MAX_ITEMS,
        "items": {"type": "string", "minLength": 1, "maxLength": NAME_LENGTH},
    },
    "qc": {"type": "string", "enum": list(QC)},
}


@dataclass(frozen=True)
class Field:
    """One field of a resource. ``null`` None means: as the model's attribute says (``bound_to``);
    ``blank`` False refuses the empty string (keys and indexed values: DynamoDB cannot store them), as
    does a ``relation`` (an empty name names nothing)."""

    name: str
    kind: str = "string"
    required: bool = False
    read_only: bool = False
    null: bool | None = None
    blank: bool = True
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    minimum: float | None = None
    max_length: int | None = None
    description: str = ""
    relation: str | None = None  # the resource a name (or names, for a list) must exist in

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind

    @property
    def nullable(self) -> bool:
        return self.null is not False and not self.required

    @property
    def longest(self) -> int:
        return self.max_length or (TEXT_LENGTH if self.kind in ("text", "json") else NAME_LENGTH)

    def bound_to(self, model: type) -> Field:
        """This field as the model stores it: null refused where the attribute cannot hold None, blank
        refused where the attribute is a key of the table or of one of its indexes."""
        attribute = model.get_attributes().get(self.name)
        if attribute is None:
            return self if self.null is not None else replace(self, null=True)
        schema = model._get_schema()
        keys = {k["AttributeName"] for k in schema["key_schema"]} | {
            k["AttributeName"] for index in schema["global_secondary_indexes"] for k in index["key_schema"]
        }
        null = self.null if self.null is not None else bool(attribute.null)
        # a required value that cannot be null cannot be blank either, as DRF's CharField (allow_blank
        # False) refuses it: "" names no subject, no session, no kind
        blank = self.blank and attribute.attr_name not in keys and not (self.required and not null)
        return replace(self, null=null, blank=blank)

    def openapi(self) -> dict[str, Any]:
        schema: dict[str, Any] = dict(_OPENAPI_TYPES[self.kind])
        if self.kind in ("string", "text"):
            schema["maxLength"] = self.longest
            if not self.blank or self.relation:
                schema["minLength"] = 1
        if self.choices:
            schema["enum"] = list(self.choices)
        if self.pattern:
            schema["pattern"] = self.pattern
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.read_only:
            schema["readOnly"] = True
        if self.nullable:
            schema["nullable"] = True
        if self.description:
            schema["description"] = self.description
        return schema

    def clean(self, value: Any) -> Any:
        """The value as stored, or a 400 naming this field and what it accepts."""
        empty = value == "" and (self.kind not in ("string", "text", "json") or self.relation)
        if value == "" and not self.blank and not empty:
            raise BadRequest(f"{self.name}: may not be blank")
        if value is None or empty:
            if not self.nullable:
                raise BadRequest(f"{self.name}: this field may not be " + ("blank" if empty else "null"))
            return None
        cleaned = _CLEANERS[self.kind](self, value)
        if isinstance(cleaned, str) and len(cleaned) > self.longest:
            raise BadRequest(f"{self.name}: {len(cleaned)} characters, at most {self.longest}")
        if self.choices and cleaned not in self.choices:
            raise BadRequest(f"{self.name}: {cleaned!r} is not one of {', '.join(self.choices)}")
        if self.pattern and isinstance(cleaned, str) and not re.fullmatch(self.pattern, cleaned):
            raise BadRequest(f"{self.name}: {cleaned[:80]!r} does not match {self.pattern}")
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
    number: int | None = None
    if isinstance(value, bool):
        raise _wrong(field, value, "an integer")
    if isinstance(value, int):
        number = value
    elif (isinstance(value, float) and value.is_integer()) or (
        isinstance(value, str) and re.fullmatch(r"[+-]?\d{1,20}", value.strip())
    ):
        number = int(value)
    if number is None:
        raise _wrong(field, value, "an integer")
    if not INTEGERS[0] <= number <= INTEGERS[1]:
        raise BadRequest(f"{field.name}: {str(value)[:40]} is out of range ({INTEGERS[0]} to {INTEGERS[1]})")
    return number


def _number(field: Field, value: Any) -> float:
    number: float | None = None
    if isinstance(value, bool):
        raise _wrong(field, value, "a number")
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
    elif isinstance(value, str) and len(value) <= 100:
        with contextlib.suppress(ValueError):
            number = float(value)
    if number is None:
        raise _wrong(field, value, "a number")
    if not math.isfinite(number) or abs(number) > LARGEST or 0 < abs(number) < SMALLEST:
        raise BadRequest(
            f"{field.name}: {str(value)[:40]} cannot be stored: a number is 0 or between "
            f"{SMALLEST:g} and {LARGEST:g} in magnitude"
        )
    return number


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
    """Any JSON value; a form's text is read as JSON, as DRF's JSONField reads it (a string in a JSON
    body stays the string it is)."""
    if isinstance(value, FormText):
        try:
            value = parse_json(value, what=field.name)
        except BadRequest:
            value = str(value)
    if len(json.dumps(value, ensure_ascii=False)) > field.longest:
        raise BadRequest(f"{field.name}: the JSON is over {field.longest} characters")
    return value


def _list(field: Field, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value] if value else []
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise _wrong(field, value, "a list of names")
    if len(value) > MAX_ITEMS:
        raise BadRequest(f"{field.name}: {len(value)} names, at most {MAX_ITEMS}")
    for item in value:
        if not item or len(item) > NAME_LENGTH:
            raise BadRequest(f"{field.name}: each name has 1 to {NAME_LENGTH} characters")
    return list(dict.fromkeys(value))


def _not_a_number(text: str) -> float:
    raise ValueError(f"{text} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text[:40]} is too large for a number")
    return number


def depth(value: Any) -> int:
    """How deeply ``value`` nests (a scalar is 0, ``{}`` or ``[]`` 1), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def parse_json(text: str | bytes, *, what: str = "the request body") -> Any:
    """JSON as onecloud accepts it: no NaN or Infinity (they are not JSON), no number too large for a
    float, at most ``MAX_DEPTH`` levels deep. Anything else is a 400 naming ``what`` and the reason."""
    try:
        value = json.loads(text, parse_constant=_not_a_number, parse_float=_finite)
    except RecursionError:
        raise BadRequest(f"{what}: JSON nested more than {MAX_DEPTH} levels") from None
    except ValueError as error:
        raise BadRequest(f"{what} is not valid JSON: {error}") from None
    if depth(value) > MAX_DEPTH:
        raise BadRequest(f"{what}: JSON nested more than {MAX_DEPTH} levels")
    return value


_CLEANERS = {
    "string": _string,
    "text": _string,
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

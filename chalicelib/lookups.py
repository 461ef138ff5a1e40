"""Alyx's ``django=`` query filter, parsed without evaluating anything.

Alyx endpoints accept ``?django=lookup,value[,lookup,value...]`` and the ONE client relies on it
(``django=pk__in,('a', 'b')``, ``django=~qc__gte,40``, ``django=subject__nickname,KS023``).  Alyx feeds the
bracketed values to ``eval``: anyone who can send a query string can run code on the server.  Here values
are read with :func:`ast.literal_eval`, which only builds Python literals, and everything else is a plain
string, so the worst a query can do is match nothing.

A filter becomes a list of :class:`Lookup` values that a handler applies to the rows it loaded (each a
``dict`` of plain Python values, as the API shows them).  Lookups are ANDed, as Alyx chains ``filter()``
calls.  Every bad input raises :class:`DjangoFilterError`, a ``BadRequest`` whose message names what is
wrong (the field, the lookup, the value or the malformed text), so the client gets a 400 it can act on.

Relation hops are collapsed: onecloud shows a related object by its name or id, so
``subject__nickname``, ``lab__name``, ``users__username`` and ``session__id`` all filter on the field
itself (``subject``, ``lab``, ``users``, ``session``).  A row value that is a list (``projects``,
``users``, ``tags``) matches when any of its elements does, as a Django to-many relation does.
"""

from __future__ import annotations

import ast
import datetime
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import BadRequest

__all__ = [
    "DATE_PART_OPERATORS",
    "OPERATORS",
    "RELATION_HOPS",
    "DjangoFilterError",
    "Lookup",
    "json_lookups",
    "matches_all",
    "parse_django",
    "split_top_level",
]


class DjangoFilterError(BadRequest):
    """A ``django=`` filter that cannot be applied; the message names the part at fault."""


RELATION_HOPS = frozenset({"name", "nickname", "username", "id", "pk"})
"""The last hop of a relation (``subject__nickname``): onecloud rows hold the related name or id itself."""

_STRING_OPERATORS = frozenset(
    {"iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith"}
)
_ORDER_OPERATORS = frozenset({"gt", "gte", "lt", "lte"})
OPERATORS = frozenset({"exact", "in", "range", "isnull", "date"} | _STRING_OPERATORS | _ORDER_OPERATORS)
"""Every lookup onecloud evaluates; anything else (``has_key``, ``regex``, ``year``...) is a 400."""

DATE_PART_OPERATORS = frozenset({"exact", "in", "range", "isnull"} | _ORDER_OPERATORS)
"""The lookups that may follow ``__date``: those that make sense on a calendar date."""

_QUOTES = "'\""
_CLOSER = {"[": "]", "(": ")", "{": "}"}
_SCALAR_TYPES = (str, bool, int, float, type(None))
_PREFIX = "django filter: "

# Dates and naive datetimes as onecloud stores them (Alyx runs with USE_TZ=False), with "T" or " ".
# Anchored with \A...\Z and ASCII digits only, so that fromisoformat never sees its looser forms
# ("20240101", week dates) and such strings stay plain strings.
_ISO_DATE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z", re.ASCII)
_ISO_DATETIME = re.compile(r"\A\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?\Z", re.ASCII)
_UUID = re.compile(r"\A[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\Z", re.ASCII | re.I)
_NUMBER = re.compile(r"\A[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z", re.ASCII)
_TRUE = frozenset({"true", "t", "1"})
_FALSE = frozenset({"false", "f", "0"})


# --------------------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------------------


def _shown(thing: Any, limit: int = 120) -> str:
    """How an error quotes user input: a long ``pk__in`` list is cut, not echoed whole to logs."""
    shown = repr(thing)
    return shown if len(shown) <= limit else shown[:limit] + "..."


def split_top_level(text: str) -> list[str]:
    """Split on the commas that separate items, not those inside brackets or quoted strings.

    ONE formats list values with ``repr`` (``id__in,['a', 'b']``) and a quoted value may hold a comma
    (``narrative__icontains,'a, b'``), so a plain ``str.split(',')`` would cut values in pieces.  A quote
    opens a string inside brackets or at the start of an item; elsewhere (``O'Brien``) it is an ordinary
    character.  Unbalanced or mismatched brackets and unclosed quotes are a 400.  Items are returned
    unstripped; ``''`` splits to ``['']``, like ``str.split``.
    """
    items: list[str] = []
    current: list[str] = []
    closers: list[str] = []
    quote: str | None = None
    escaped = False
    started = False  # the current item has a non-blank character
    for position, char in enumerate(text):
        if quote is not None:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
            current.append(char)
            continue
        if char in _QUOTES and (closers or not started):
            quote = char
        elif char in _CLOSER:
            closers.append(_CLOSER[char])
        elif char in _CLOSER.values():
            if not closers or char != closers[-1]:
                raise DjangoFilterError(
                    f"{_PREFIX}unbalanced {char!r} at position {position} in {_shown(text)}"
                )
            closers.pop()
        elif char == "," and not closers:
            items.append("".join(current))
            current = []
            started = False
            continue
        current.append(char)
        started = started or not char.isspace()
    if quote is not None:
        raise DjangoFilterError(f"{_PREFIX}unclosed quote {quote} in {_shown(text)}")
    if closers:
        raise DjangoFilterError(f"{_PREFIX}unclosed bracket, expected {closers[-1]!r}, in {_shown(text)}")
    items.append("".join(current))
    return items


def parse_django(text: str, *, key_field: str, fields: Collection[str]) -> list[Lookup]:
    """Parse ``lookup,value[,lookup,value...]`` into lookups on a resource's fields.

    ``pk`` stands for ``key_field`` (``id`` for most resources, ``name`` for some), which is always
    allowed; any other field must be in ``fields``, so a client cannot probe attributes the resource does
    not show.  An empty (or blank) filter has no lookups.
    """
    if not text.strip():
        return []
    items = split_top_level(text)
    for number, item in enumerate(items, start=1):
        if not item.strip():
            raise DjangoFilterError(f"{_PREFIX}item {number} of {_shown(text)} is empty (a stray comma?)")
    if len(items) % 2:
        raise DjangoFilterError(
            f"{_PREFIX}expected lookup,value pairs but got {len(items)} items in {_shown(text)}"
        )
    allowed = frozenset(fields) | {key_field}
    return [
        _parse_pair(key.strip(), value.strip(), key_field=key_field, allowed=allowed)
        for key, value in zip(items[::2], items[1::2], strict=True)
    ]


def json_lookups(text: str, field: str) -> list[Lookup]:
    """Alyx's filter inside a JSON field (``extended_qc=behavior__gte,0.5,video,True``): the same
    ``key[__lookup],value`` pairs as ``django=``, on the document's top-level keys."""
    items = split_top_level(text)
    keys = [item.strip().removeprefix("~").split("__")[0] for item in items[::2]]
    if not text.strip() or len(items) % 2:
        raise DjangoFilterError(f"{field}: expected key,value pairs, got {_shown(text)}")
    return parse_django(text, key_field="pk", fields=keys)


def _parse_pair(key: str, text: str, *, key_field: str, allowed: frozenset[str]) -> Lookup:
    field, operator, negate, date_part = _parse_key(key, key_field=key_field, allowed=allowed)
    value = _check_value(key, operator, date_part, _parse_value(key, text))
    return Lookup(field=field, operator=operator, value=value, negate=negate, date_part=date_part)


def _parse_key(key: str, *, key_field: str, allowed: frozenset[str]) -> tuple[str, str, bool, bool]:
    """Split ``[~]field[__hop][__date][__operator]`` into (field, operator, negate, date_part).

    The lookup chain is checked before the field so that an unsupported lookup is named even on a field
    the resource does not have (``json__has_key`` answers "unsupported lookup 'has_key'").
    """
    negate = key.startswith("~")
    name, *chain = key.removeprefix("~").split("__")
    if not name or "" in chain:
        raise DjangoFilterError(f"{_PREFIX}malformed lookup {key!r}")
    if chain and chain[0] in RELATION_HOPS:
        chain = chain[1:]
    date_part = len(chain) > 1 and chain[0] == "date"
    if date_part:
        chain = chain[1:]
    if len(chain) > 1 or (chain and chain[0] not in OPERATORS):
        raise DjangoFilterError(f"{_PREFIX}unsupported lookup {'__'.join(chain)!r} in {key!r}")
    operator = chain[0] if chain else "exact"
    if date_part and operator not in DATE_PART_OPERATORS:
        raise DjangoFilterError(f"{_PREFIX}unsupported lookup {operator!r} after '__date' in {key!r}")
    field = key_field if name == "pk" else name
    if field not in allowed:
        raise DjangoFilterError(
            f"{_PREFIX}unknown field {name!r} in {key!r} (fields: {', '.join(sorted(allowed))})"
        )
    return field, operator, negate, date_part


def _parse_value(key: str, text: str) -> Any:
    """Read a value as a Python literal, never as code.

    Text that starts like a literal (a quote or a bracket) must be one, otherwise the client meant a
    literal and got it wrong, and a silent "matches nothing" would hide that: it is a 400.  Bare text is
    a number, ``None``, ``True`` or ``False`` when it reads as one, and otherwise the plain string it is
    (``KS023``, ``2024-01-01``, an unquoted uuid, ``__import__('os')...``).
    """
    if text[0] in _QUOTES or text[0] in _CLOSER:
        try:
            value = ast.literal_eval(text)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as error:
            raise DjangoFilterError(
                f"{_PREFIX}value {_shown(text)} for {key!r} is not a Python literal"
            ) from error
        if isinstance(value, list | tuple) and all(isinstance(item, _SCALAR_TYPES) for item in value):
            return value
        if isinstance(value, _SCALAR_TYPES):
            return value
        raise DjangoFilterError(
            f"{_PREFIX}value {_shown(text)} for {key!r} must be None, a bool, a number, a string, "
            "or a list or tuple of those"
        )
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return text
    return value if isinstance(value, bool | int | float | type(None)) else text


def _check_value(key: str, operator: str, date_part: bool, value: Any) -> Any:
    """Check that the value suits the lookup and bring it to one form (``in`` takes a tuple).

    Done at parse time so that a wrong value is a 400 naming the lookup, rather than a query that
    silently matches nothing.
    """

    def wrong(expected: str) -> DjangoFilterError:
        return DjangoFilterError(f"{_PREFIX}{key!r} needs {expected}, got {_shown(value)}")

    if operator == "isnull":
        flag = _as_bool(value)
        if flag is None:
            raise wrong("True or False")
        return flag
    if operator in ("in", "range"):
        items = tuple(value) if isinstance(value, list | tuple) else (value,)
        if operator == "range" and (len(items) != 2 or None in items):
            raise wrong("a list of two values [low, high]")
        if date_part and not all(_is_date(item) for item in items):
            raise wrong("dates 'YYYY-MM-DD'")
        return items
    if isinstance(value, list | tuple):
        raise wrong("a single value (lists go with __in or __range)")
    if (date_part or operator == "date") and not _is_date(value):
        raise wrong("a date 'YYYY-MM-DD'")
    if value is None and operator not in ("exact", "iexact"):
        raise wrong("a value other than None")
    return value


# --------------------------------------------------------------------------------------------------------
# Coercions: a query-string value meets a row value of whatever type the field has.
# --------------------------------------------------------------------------------------------------------


def _as_bool(value: Any) -> bool | None:
    """Django's BooleanField reading: True/False, 1/0 and 'true'/'false'/'t'/'f'/'1'/'0' in any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return None


def _as_number(value: Any) -> float | int | None:
    """A number, or a string that spells one (``number,001`` against a row's int 1)."""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        return float(value)
    return None


def _as_temporal(value: Any) -> datetime.date | None:
    """A date or naive datetime from an ISO string (or a date/datetime object); None if it is neither.

    onecloud stores naive datetimes, as Alyx does; an aware datetime object (a PynamoDB
    ``UTCDateTimeAttribute``) is taken as naive UTC, since comparing aware with naive raises.
    """
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.UTC).replace(tzinfo=None)
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str):
        return None
    try:
        if _ISO_DATE.match(value):
            return datetime.date.fromisoformat(value)
        if _ISO_DATETIME.match(value):
            return datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return None


def _as_date(value: Any) -> datetime.date | None:
    """The calendar date of a date or datetime: what ``__date`` compares."""
    moment = _as_temporal(value)
    if isinstance(moment, datetime.datetime):
        return moment.date()
    return moment


def _is_date(value: Any) -> bool:
    return isinstance(value, str) and bool(_ISO_DATE.match(value)) and _as_temporal(value) is not None


def _temporal_pair(row: Any, value: Any) -> tuple[datetime.date, datetime.date] | None:
    """Both as dates or both as datetimes, the value taking the row field's type, as Django casts it.

    A date value against a datetime row is that day's midnight; a datetime value against a date row is
    its date.
    """
    row_moment, moment = _as_temporal(row), _as_temporal(value)
    if row_moment is None or moment is None:
        return None
    row_has_time = isinstance(row_moment, datetime.datetime)
    if row_has_time and not isinstance(moment, datetime.datetime):
        moment = datetime.datetime.combine(moment, datetime.time())
    elif not row_has_time and isinstance(moment, datetime.datetime):
        moment = moment.date()
    return row_moment, moment


def _text(value: Any) -> str | None:
    """What string lookups see: strings and numbers as text; None (and anything else) never matches."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    return None


def _elements(row_value: Any) -> list[Any]:
    """The values a lookup is tried on: each element of a to-many field, else the value itself."""
    if isinstance(row_value, list | tuple | set | frozenset):
        return list(row_value)
    return [row_value]


# --------------------------------------------------------------------------------------------------------
# Comparisons of one row value (one element of a list) with a lookup value
# --------------------------------------------------------------------------------------------------------


def _equals(row: Any, value: Any, date_part: bool) -> bool:
    """Equality across the types a query string and a row may use for the same field."""
    if row is None or value is None:
        return False
    if date_part:
        return _as_date(row) is not None and _as_date(row) == _as_date(value)
    if isinstance(row, bool) or isinstance(value, bool):
        flags = _as_bool(row), _as_bool(value)
        return None not in flags and flags[0] == flags[1]
    if isinstance(row, int | float) or isinstance(value, int | float):
        numbers = _as_number(row), _as_number(value)
        return None not in numbers and numbers[0] == numbers[1]
    if isinstance(row, str) and isinstance(value, str) and _UUID.match(row) and _UUID.match(value):
        return row.replace("-", "").lower() == value.replace("-", "").lower()
    moments = _temporal_pair(row, value)
    if moments is not None:
        return moments[0] == moments[1]
    return bool(row == value)


def _ordered(row: Any, value: Any, date_part: bool) -> tuple[Any, Any] | None:
    """The row and lookup values in a form that compares with < and >, or None if they do not compare.

    Numbers compare numerically (a numeric string counts), dates and datetimes as dates and datetimes,
    other strings as strings, which is what a database does with a text column.
    """
    if row is None:
        return None
    if date_part:
        dates = _as_date(row), _as_date(value)
        return None if None in dates else dates
    if isinstance(row, bool | int | float) or isinstance(value, bool | int | float):
        numbers = _as_number(row), _as_number(value)
        return None if None in numbers else numbers
    moments = _temporal_pair(row, value)
    if moments is not None:
        return moments
    if isinstance(row, str) and isinstance(value, str):
        return row, value
    return None


def _compare(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any, bool], bool]:
    def compare(row: Any, value: Any, date_part: bool) -> bool:
        pair = _ordered(row, value, date_part)
        return pair is not None and test(*pair)

    return compare


def _string_test(test: Callable[[str, str], bool], fold: bool) -> Callable[[Any, Any, bool], bool]:
    def compare(row: Any, value: Any, date_part: bool) -> bool:
        text, pattern = _text(row), _text(value)
        if text is None or pattern is None:
            return False
        if fold:
            text, pattern = text.casefold(), pattern.casefold()
        return test(text, pattern)

    return compare


def _in(row: Any, values: Any, date_part: bool) -> bool:
    # None in an __in list matches nothing, as in Django (SQL's NULL IN (...) is never true).  A scalar is
    # a one-element list, so a hand-built Lookup("id", "in", "abc") does not iterate over characters.
    candidates = values if isinstance(values, list | tuple) else (values,)
    return any(_equals(row, value, date_part) for value in candidates)


def _range(row: Any, bounds: tuple[Any, Any], date_part: bool) -> bool:
    low, high = _ordered(row, bounds[0], date_part), _ordered(row, bounds[1], date_part)
    return low is not None and high is not None and low[1] <= low[0] <= high[1]


def _exact_date(row: Any, value: Any, date_part: bool) -> bool:
    return _equals(row, value, True)


_ELEMENT_TESTS: dict[str, Callable[[Any, Any, bool], bool]] = {
    "exact": _equals,
    "date": _exact_date,
    "in": _in,
    "range": _range,
    "iexact": _string_test(str.__eq__, fold=True),
    "contains": _string_test(str.__contains__, fold=False),
    "icontains": _string_test(str.__contains__, fold=True),
    "startswith": _string_test(str.startswith, fold=False),
    "istartswith": _string_test(str.startswith, fold=True),
    "endswith": _string_test(str.endswith, fold=False),
    "iendswith": _string_test(str.endswith, fold=True),
    "gt": _compare(lambda row, value: row > value),
    "gte": _compare(lambda row, value: row >= value),
    "lt": _compare(lambda row, value: row < value),
    "lte": _compare(lambda row, value: row <= value),
}


def _is_null(row_value: Any) -> bool:
    """Null in Django's sense: no value, or a to-many field with no related rows."""
    return row_value is None or (isinstance(row_value, list | tuple | set | frozenset) and not row_value)


@dataclass(frozen=True)
class Lookup:
    """One ``field[__date]__operator = value`` condition, optionally negated with ``~``.

    ``date_part`` marks ``__date`` before another lookup (``start_time__date__gte``); ``__date`` alone is
    the operator ``"date"``.  ``in`` and ``range`` values are tuples, so lookups are hashable.
    """

    field: str
    operator: str
    value: Any
    negate: bool = False
    date_part: bool = False

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            raise ValueError(f"unknown lookup operator {self.operator!r}")

    def matches(self, row: Mapping[str, Any]) -> bool:
        """Whether the row passes; a field missing from the row counts as None."""
        return self._holds(row.get(self.field)) != self.negate

    def _holds(self, row_value: Any) -> bool:
        if self.operator == "isnull":
            return _is_null(row_value) == bool(self.value)
        if self.value is None:  # exact/iexact None is IS NULL, as in Django
            return _is_null(row_value)
        test = _ELEMENT_TESTS[self.operator]
        return any(test(element, self.value, self.date_part) for element in _elements(row_value))


def matches_all(lookups: Iterable[Lookup], row: Mapping[str, Any]) -> bool:
    """Whether the row passes every lookup: a ``django=`` filter ANDs its lookups, as Alyx does."""
    return all(lookup.matches(row) for lookup in lookups)

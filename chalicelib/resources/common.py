"""Building blocks the resource declarations share: list filters and the ``name`` key field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.fields import Field
from chalicelib.rest import Param

NAME = r"[\w.-]+"


def lab_from(attribute: str, model: Any) -> Callable[[Any], None]:
    """A ``place`` hook: the record belongs to the lab of the record its ``attribute`` names (a rule to
    its line's lab, a channel to its trajectory's), wherever a write moves it."""

    def place(record: Any) -> None:
        key = getattr(record, attribute, None)
        if key:
            record.lab = model.get(key).lab

    return place


def name_field(pattern: str = NAME, description: str = "unique name") -> Field:
    return Field("name", required=True, null=False, pattern=pattern, description=description)


def _value(item: Any, attribute: str) -> Any:
    return item.attribute_values.get(attribute)


def exact(name: str, attribute: str | None = None, description: str = "") -> Param:
    attribute = attribute or name

    def test(item: Any, value: str) -> bool:
        found = _value(item, attribute)
        if isinstance(found, list):
            return value in found
        if isinstance(found, bool):
            return str(found).lower() == value.lower()
        if isinstance(found, int | float):
            try:
                return float(found) == float(value)
            except ValueError:
                return False
        return found is not None and str(found) == value

    return Param(name, test, description or f"{attribute} equals")


def iexact(name: str, attribute: str | None = None) -> Param:
    attribute = attribute or name
    return Param(
        name,
        lambda item, value: str(_value(item, attribute) or "").lower() == value.lower(),
        f"{attribute} equals, ignoring case",
    )


def subject() -> Param:
    """``subject=``: the subject's nickname (any case) or its uuid."""

    def test(item: Any, value: str) -> bool:
        nickname = str(_value(item, "subject") or "")
        return nickname.lower() == value.lower() or _value(item, "subject_id") == value.lower()

    return Param("subject", test, "the subject's nickname (any case) or id")


def icontains(name: str, attribute: str | None = None) -> Param:
    attribute = attribute or name

    def test(item: Any, value: str) -> bool:
        found = _value(item, attribute)
        texts = found if isinstance(found, list) else [found or ""]
        return any(value.lower() in str(text).lower() for text in texts)

    return Param(name, test, f"{attribute} contains, ignoring case")


def any_of(name: str, attribute: str | None = None) -> Param:
    """``users=a,b``: the record's list holds any of the names."""
    attribute = attribute or name

    def test(item: Any, value: str) -> bool:
        found = _value(item, attribute) or []
        wanted = {v for v in value.split(",") if v}
        return bool(wanted & set(found if isinstance(found, list) else [found]))

    return Param(name, test, f"{attribute} includes any of the comma-separated names")


def custom(name: str, test: Callable[[Any, str], bool], description: str) -> Param:
    return Param(name, test, description)

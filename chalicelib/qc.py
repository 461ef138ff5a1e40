"""Quality control levels, named as ONE and Alyx name them."""

from __future__ import annotations

from typing import Any

from chalicelib.errors import BadRequest

QC = {"NOT_SET": 0, "PASS": 10, "WARNING": 30, "FAIL": 40, "CRITICAL": 50}
QC_NAMES = {value: name for name, value in QC.items()}


def qc_value(value: Any, field: str = "qc") -> int:
    """A QC given as a name ('PASS') or a number (10)."""
    if isinstance(value, str) and value.upper() in QC:
        return QC[value.upper()]
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number not in QC_NAMES:
        raise BadRequest(
            f"{field}: {value!r} is not one of {', '.join(QC)} (or {', '.join(map(str, QC_NAMES))})"
        )
    return number


def qc_name(value: Any) -> str:
    return QC_NAMES.get(int(value or 0), "NOT_SET")

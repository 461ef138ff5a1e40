"""The Allen brain-region table (CCF 2017), as Alyx loads it from its ``experiments.brainregion`` fixture,
shipped with the code (``chalicelib/standard/brain_regions.json``): reference data every deployment has,
read from memory instead of a table.

Channels name a region by its Allen id; the atlas filters (``atlas_acronym``, ``atlas_name``,
``atlas_id``) match a region and its whole subtree, as Alyx's tree search does.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from chalicelib.errors import BadRequest, NotFound

TABLE = Path(__file__).parent / "standard" / "brain_regions.json"


@dataclass(frozen=True)
class BrainRegion:
    id: int
    acronym: str
    name: str
    parent: int | None
    level: int | None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "acronym": self.acronym,
            "name": self.name,
            "parent": self.parent,
            "level": self.level,
            "ontology": None,
            "description": None,
        }


@cache
def regions() -> dict[int, BrainRegion]:
    rows = json.loads(TABLE.read_text())["regions"]
    return {row[0]: BrainRegion(*row) for row in rows}


@cache
def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = defaultdict(list)
    for region in regions().values():
        if region.parent is not None:
            children[region.parent].append(region.id)
    return children


def region(key: str | int) -> BrainRegion:
    """A region by its Allen id or its acronym (as Alyx's ``ancestors``/``descendants`` filters take)."""
    text = str(key).strip()
    if text.lstrip("-").isdigit():
        found = regions().get(int(text))
    else:
        found = next((r for r in regions().values() if r.acronym.lower() == text.lower()), None)
    if found is None:
        raise NotFound(f"brain region {text!r} does not exist")
    return found


def descendants(region_id: int) -> list[int]:
    """The region and every region below it."""
    found, stack = [], [region_id]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(_children().get(current, []))
    return found


def ancestors(region_id: int) -> list[int]:
    """The region and every region above it, up to the root."""
    found, current = [], regions().get(region_id)
    while current is not None:
        found.append(current.id)
        current = regions().get(current.parent) if current.parent is not None else None
    return found


def atlas_regions(how: str, value: str) -> set[int]:
    """The regions an atlas filter names, with their subtrees: ``atlas_name`` (name contains, ignoring
    case), ``atlas_acronym`` (acronym, ignoring case) or ``atlas_id``."""
    if how == "atlas_id":
        try:
            matched = [int(float(value))]
        except ValueError:
            raise BadRequest(f"atlas_id: {value!r} is not an Allen region id") from None
    elif how == "atlas_acronym":
        matched = [r.id for r in regions().values() if r.acronym.lower() == value.lower()]
    else:
        matched = [r.id for r in regions().values() if value.lower() in r.name.lower()]
    return {found for region_id in matched if region_id in regions() for found in descendants(region_id)}

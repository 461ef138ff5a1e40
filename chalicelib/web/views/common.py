"""What several pages share: which labs a page shows by default, and reading a lab's colony at once."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from chalicelib import husbandry, water
from chalicelib.models import Lab, Subject
from chalicelib.web.pages import Web


def labs_shown(web: Web) -> list[str]:
    """The user's own labs; every lab for a superuser or a public user with no lab of their own."""
    if web.user.labs:
        return sorted(web.user.labs)
    return sorted(lab.name for lab in Lab.scan(attributes_to_get=["name"]))


def is_alive(subject: Subject, day: datetime.date) -> bool:
    return not subject.death_date or subject.death_date > day.isoformat()


@dataclass(frozen=True)
class Row:
    """A subject with its water figures for the day, its Weight % and how that reads."""

    subject: Subject
    req: water.WaterRequirement
    pct: float | None
    band: str


def colony(lab: str, day: datetime.date) -> list[Row]:
    """Every subject of ``lab`` with its figures: the subjects query, the lab and four husbandry queries."""
    subjects = list(Subject.by_lab.query(lab))
    figures = husbandry.lab_figures(lab, subjects, day)
    return [Row(s, figures[s.id].requirement, figures[s.id].percentage, figures[s.id].band) for s in subjects]

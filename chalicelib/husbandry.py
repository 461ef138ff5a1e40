"""Husbandry records of a subject, gathered for the water rules in ``chalicelib.water``."""

from __future__ import annotations

import datetime

from chalicelib import water
from chalicelib.fields import parse_datetime
from chalicelib.models import Lab, Subject, Surgery, WaterAdministration, WaterRestriction, Weighing


def _moment(text: str) -> datetime.datetime:
    return parse_datetime(text)


def requirement_of(subject: Subject, on: datetime.date | None = None) -> water.WaterRequirement:
    """Four index queries (weighings, water, restrictions, surgeries of the subject) and the lab's rule."""
    day = on or datetime.date.today()
    weighings = [
        water.Weighing(_moment(w.date_time), float(w.weight)) for w in Weighing.by_subject.query(subject.id)
    ]
    given = [
        water.WaterGiven(_moment(w.date_time), float(w.water_administered or 0), bool(w.adlib))
        for w in WaterAdministration.by_subject.query(subject.id)
    ]
    restrictions = [
        water.Restriction(
            _moment(r.start_time), _moment(r.end_time) if r.end_time else None, float(r.reference_weight or 0)
        )
        for r in WaterRestriction.by_subject.query(subject.id)
    ]
    implants = [(_moment(s.start_time), s.implant_weight) for s in Surgery.by_subject.query(subject.id)]
    try:
        lab = Lab.get(subject.lab)
        rule = water.LabRule(float(lab.reference_weight_pct or 0), float(lab.zscore_weight_pct or 0))
    except Lab.DoesNotExist:
        rule = water.LabRule(0.0, 0.0)
    restriction = water.restriction_on(restrictions, day)
    reference_implant = (
        water.implant_weight_on(implants, restriction.start_time.date()) if restriction else None
    )
    return water.water_requirement(
        on=day,
        weighings=weighings,
        water=given,
        restrictions=restrictions,
        implant_weight=water.implant_weight_on(implants, day),
        rule=rule,
        birth_date=datetime.date.fromisoformat(subject.birth_date) if subject.birth_date else None,
        sex=subject.sex or "U",
        reference_implant_weight=reference_implant,
    )

"""Husbandry records of a subject, gathered for the water rules in ``chalicelib.water``.

``requirement_of`` reads one subject's records (the API's ``water-requirement``); ``requirements_of`` reads
a whole lab's in a fixed number of queries (the web pages' lists) and hands each subject's records to the
same computation, so both faces show the same numbers.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from chalicelib import water
from chalicelib.fields import parse_datetime
from chalicelib.models import Lab, Subject, Surgery, WaterAdministration, WaterRestriction, Weighing


def _moment(text: str) -> datetime.datetime:
    return parse_datetime(text)


@dataclass
class Records:
    """One subject's husbandry records, converted for ``chalicelib.water``."""

    weighings: list[water.Weighing] = field(default_factory=list)
    given: list[water.WaterGiven] = field(default_factory=list)
    restrictions: list[water.Restriction] = field(default_factory=list)
    implants: list[tuple[datetime.datetime, float | None]] = field(default_factory=list)
    session_water: dict[datetime.date, float] = field(default_factory=dict)  # mL given in sessions, by day
    ids: set[str] = field(default_factory=set)  # each record is counted once

    def add(self, record: Weighing | WaterAdministration | WaterRestriction | Surgery) -> None:
        if record.id in self.ids:
            return
        self.ids.add(record.id)
        if isinstance(record, Weighing):
            self.weighings.append(water.Weighing(_moment(record.date_time), float(record.weight)))
        elif isinstance(record, WaterAdministration):
            given = water.WaterGiven(
                _moment(record.date_time), float(record.water_administered or 0), bool(record.adlib)
            )
            self.given.append(given)
            if record.session:
                day = given.date_time.date()
                self.session_water[day] = self.session_water.get(day, 0.0) + given.water_administered
        elif isinstance(record, WaterRestriction):
            self.restrictions.append(
                water.Restriction(
                    _moment(record.start_time),
                    _moment(record.end_time) if record.end_time else None,
                    float(record.reference_weight or 0),
                )
            )
        else:
            self.implants.append((_moment(record.start_time), record.implant_weight))


def rule_of(lab: Lab | None) -> water.LabRule:
    if lab is None:
        return water.LabRule(0.0, 0.0)
    return water.LabRule(float(lab.reference_weight_pct or 0), float(lab.zscore_weight_pct or 0))


def lab_named(name: str) -> Lab | None:
    try:
        return Lab.get(name)
    except Lab.DoesNotExist:
        return None


def records_of(subject: Subject) -> Records:
    """Four index queries: the subject's weighings, water, restrictions and surgeries."""
    records = Records()
    for model in (Weighing, WaterAdministration, WaterRestriction, Surgery):
        for record in model.by_subject.query(subject.id):
            records.add(record)
    return records


def requirement_from(
    subject: Subject, records: Records, rule: water.LabRule, day: datetime.date
) -> water.WaterRequirement:
    """The water figures of ``subject`` on ``day`` from records already read."""
    restriction = water.restriction_on(records.restrictions, day)
    reference_implant = (
        water.implant_weight_on(records.implants, restriction.start_time.date()) if restriction else None
    )
    return water.water_requirement(
        on=day,
        weighings=records.weighings,
        water=records.given,
        restrictions=records.restrictions,
        implant_weight=water.implant_weight_on(records.implants, day),
        rule=rule,
        birth_date=datetime.date.fromisoformat(subject.birth_date) if subject.birth_date else None,
        sex=subject.sex or "U",
        reference_implant_weight=reference_implant,
    )


def weight_percentage(
    subject: Subject, records: Records, rule: water.LabRule, requirement: water.WaterRequirement
) -> float | None:
    """The Weight % shown for a subject: today's when restricted; otherwise against the expected weight
    of the last day of its latest restriction (None if it never was restricted)."""
    if requirement.water_restricted:
        return requirement.percentage_weight
    started = [r for r in records.restrictions if r.start_time.date() <= requirement.date and r.end_time]
    if not started:
        return None
    latest = max(started, key=lambda r: r.start_time)
    last_day = max(latest.end_time.date() - datetime.timedelta(days=1), latest.start_time.date())
    return water.free_percentage(requirement, requirement_from(subject, records, rule, last_day))


def requirement_of(subject: Subject, on: datetime.date | None = None) -> water.WaterRequirement:
    """Four index queries (weighings, water, restrictions, surgeries of the subject) and the lab's rule."""
    return requirement_from(
        subject, records_of(subject), rule_of(lab_named(subject.lab)), on or datetime.date.today()
    )


def lab_records(lab: str, day: datetime.date) -> dict[str, Records]:
    """Every subject's records of ``lab`` up to ``day``, by subject id, in four index queries (each read in
    as many pages as the data needs, whatever the number of subjects)."""
    end = (day + datetime.timedelta(days=1)).isoformat()
    by_subject: dict[str, Records] = defaultdict(Records)
    for model, time_field in (
        (Weighing, Weighing.date_time),
        (WaterAdministration, WaterAdministration.date_time),
        (WaterRestriction, WaterRestriction.start_time),
        (Surgery, Surgery.start_time),
    ):
        for record in model.by_lab.query(lab, time_field < end):
            by_subject[record.subject_id].add(record)
    return by_subject


@dataclass(frozen=True)
class Figures:
    """A subject's water figures on a day, its Weight % (``weight_percentage``) and how that reads."""

    requirement: water.WaterRequirement
    percentage: float | None
    band: str


def lab_figures(lab: str, subjects: Iterable[Subject], day: datetime.date) -> dict[str, Figures]:
    """The figures of the lab's ``subjects`` on ``day`` by subject id: the lab and four queries, whatever
    the number of subjects."""
    records, rule = lab_records(lab, day), rule_of(lab_named(lab))
    out = {}
    for s in subjects:
        mine = records.get(s.id, Records())
        requirement = requirement_from(s, mine, rule, day)
        percentage = weight_percentage(s, mine, rule, requirement)
        out[s.id] = Figures(requirement, percentage, water.weight_band(requirement, rule, percentage))
    return out


def requirements_of(
    subjects: Iterable[Subject], on: datetime.date | None = None
) -> dict[str, water.WaterRequirement]:
    """The water figures of subjects of any labs on a day, by subject id (``lab_figures`` per lab)."""
    day = on or datetime.date.today()
    subjects = list(subjects)
    out: dict[str, water.WaterRequirement] = {}
    for lab in sorted({s.lab for s in subjects}):
        figures = lab_figures(lab, [s for s in subjects if s.lab == lab], day)
        out.update({key: value.requirement for key, value in figures.items()})
    return out


def first_record_date(subject: Subject) -> datetime.date | None:
    """Alyx's first day of a subject's water history: its first weighing or water given, else birth."""
    moments = [w.date_time for w in Weighing.by_subject.query(subject.id, limit=1)]
    moments += [w.date_time for w in WaterAdministration.by_subject.query(subject.id, limit=1)]
    if moments:
        return _moment(min(moments)).date()
    return datetime.date.fromisoformat(subject.birth_date) if subject.birth_date else None


def daily_records(subject: Subject, first: datetime.date, last: datetime.date) -> list[dict[str, Any]]:
    """Alyx's per-day water records (``/water-requirement/<nickname>`` ``records``), named as Alyx names
    its columns."""
    days = [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]
    history, rule = records_of(subject), rule_of(lab_named(subject.lab))
    records = []
    for day in days:
        need = requirement_from(subject, history, rule, day)
        given, expected = need.given_water, need.expected_water
        records.append(
            {
                "date": day.isoformat(),
                "weight": need.weight,
                "reference_weight": need.reference_weight,
                "expected_weight": need.expected_weight,
                "min_weight": need.minimum_weight,
                "percentage_weight": need.percentage_weight,
                "given_water_total": given,
                "expected_water": expected,
                "excess_water": None if expected is None else round(given - expected, 3),
                "is_water_restricted": need.water_restricted,
                "implant_weight": need.implant_weight,
            }
        )
    return records


def water_control_of(subject: Subject, on: datetime.date | None = None) -> dict[str, Any]:
    """What Alyx shows of a subject's water control in its records: the reference weight, the water
    expected and still to give today, and when the restriction in force started (None when free)."""
    requirement = requirement_of(subject, on)
    restriction = None
    if requirement.water_restricted:
        started = [r for r in WaterRestriction.by_subject.query(subject.id) if not r.end_time]
        restriction = max((r.start_time for r in started), default=None)
    return {
        "reference_weight": requirement.reference_weight,
        "expected_water": requirement.expected_water,
        "remaining_water": requirement.remaining_water,
        "last_water_restriction": restriction,
    }


def restricted_subjects() -> list[Subject]:
    """Subjects with an open water restriction (one pass over the restrictions: no index lists the open
    ones), alive, by nickname."""
    open_ids = {r.subject_id for r in WaterRestriction.scan(WaterRestriction.end_time.does_not_exist())}
    subjects = Subject.batch_get(sorted(open_ids)) if open_ids else []
    alive = [s for s in subjects if not s.death_date]
    return sorted((s for s in alive if requirement_of(s).water_restricted), key=lambda s: s.nickname)

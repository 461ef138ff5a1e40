"""A seeded multi-lab colony: labs with their light cycle and food, mice with birth dates, water
restrictions, daily weighings and water, and their training sessions (behaviour.py). Plain data: the
same seed gives the same colony, whether it is sent to a stack (send.py) or analysed in a test."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import numpy as np

from onecloud.demo import behaviour

PROJECT = "ibl_neuropixel_brainwide_01"


@dataclass(frozen=True)
class DemoLab:
    name: str
    institution: str
    light_cycle: int  # 0 normal, 1 inverted
    food: str  # a food of the standard vocabulary (chalicelib/colony/vocabulary.py)
    citric_acid_weekends: bool  # weekend water regime
    climate: tuple[float, float, float]  # the rigs' room: temperature C, air pressure mbar, humidity %


LABS = (
    DemoLab("cortexlab", "UCL", 0, "Envigo 2018", False, (21.5, 1012.0, 45.0)),
    DemoLab("churchlandlab", "CSHL", 1, "Picolab Rodent Diet 20 5053", True, (23.0, 1016.0, 38.0)),
    DemoLab("angelakilab", "NYU", 1, "Envigo 2919", True, (22.0, 1010.0, 50.0)),
    DemoLab("hoferlab", "SWC", 0, "Envigo 2914", False, (20.5, 1008.0, 55.0)),
)


@dataclass
class Session:
    date: datetime.date
    day: behaviour.Day
    start: datetime.datetime


@dataclass
class DemoMouse:
    nickname: str
    lab: DemoLab
    sex: str
    birth_date: datetime.date
    reference_weight: float
    restriction_start: datetime.datetime | None
    sessions: list[Session] = field(default_factory=list)
    weighings: list[tuple[datetime.datetime, float]] = field(default_factory=list)
    water: list[tuple[datetime.datetime, str, float]] = field(default_factory=list)  # time, type, mL


def training_dates(first: datetime.date, count: int) -> list[datetime.date]:
    """Weekdays from ``first`` on: IBL trains Monday to Friday."""
    dates, day = [], first
    while len(dates) < count:
        if day.weekday() < 5:
            dates.append(day)
        day += datetime.timedelta(days=1)
    return dates


def make_mouse(
    rng: np.random.Generator, index: int, lab: DemoLab, start: datetime.date, speed: float = 1.0
) -> DemoMouse:
    sex = "F" if rng.random() < 0.5 else "M"
    birth = start - datetime.timedelta(days=int(rng.integers(60, 140)))
    reference = float(round(rng.normal(20.5 if sex == "F" else 25.0, 1.5), 1))
    days = behaviour.learn(rng, behaviour.Learner.draw(rng, speed), lab.climate)
    dates = training_dates(start, len(days))
    sessions = [
        Session(
            d,
            day,
            datetime.datetime.combine(
                d, datetime.time(9 + int(rng.integers(0, 8)), int(rng.integers(0, 60)))
            ),
        )
        for d, day in zip(dates, days, strict=True)
    ]
    restriction = datetime.datetime.combine(
        start - datetime.timedelta(days=int(rng.integers(3, 8))), datetime.time(10)
    )
    if rng.random() < 0.03:  # a forgotten restriction record
        restriction = None
    mouse = DemoMouse(
        f"{lab.name[:3].upper()}_{index:03d}", lab, sex, birth, reference, restriction, sessions
    )
    first_weighing = (restriction or datetime.datetime.combine(start, datetime.time(8))).date()
    skip_first = rng.random() < 0.04  # no weighing on the first training day
    day, last = first_weighing, dates[-1]
    fraction = 1.0
    while day <= last:
        fraction = max(0.78, fraction - 0.03) if restriction and day >= restriction.date() else fraction
        if not (skip_first and day == start):
            weight = round(reference * fraction + float(rng.normal(0, 0.3)), 2)
            mouse.weighings.append((datetime.datetime.combine(day, datetime.time(8, 30)), weight))
        weekend = day.weekday() >= 5
        kind = "Water 2% Citric Acid" if weekend and lab.citric_acid_weekends else "Water"
        mouse.water.append(
            (datetime.datetime.combine(day, datetime.time(17)), kind, round(float(rng.uniform(0.8, 1.2)), 2))
        )
        day += datetime.timedelta(days=1)
    return mouse


def make_colony(
    mice: int = 150,
    seed: int = 0,
    first_date: datetime.date = datetime.date(2019, 9, 2),
    speed: float = 1.0,
) -> list[DemoMouse]:
    """``mice`` mice spread over the labs, starting training over three months from ``first_date``;
    ``speed`` scales how fast they learn (2: about half the sessions, for a quicker demo)."""
    rng = np.random.default_rng(seed)
    colony = []
    for index in range(mice):
        lab = LABS[index % len(LABS)]
        start = first_date + datetime.timedelta(weeks=int(rng.integers(0, 13)))
        start -= datetime.timedelta(days=start.weekday())  # a Monday
        colony.append(make_mouse(np.random.default_rng([seed, index]), index + 1, lab, start, speed))
    return colony

"""Water control: how much a water-restricted subject should weigh and drink today, as Alyx computes it.

Pure functions of plain records, no database access: the API reads a subject's weighings, water
administrations, water restrictions and surgeries, passes them in, and serialises the answer
(``water-requirement/<nickname>``, the subject's derived ``expected_weight`` / ``remaining_water``).

The rules follow Alyx's ``actions/water_control.py`` (``WaterControl`` and ``water_control()``) so that a
lab moving to onecloud sees the same numbers it saw in Alyx:

* **Restriction in force** (``WaterControl.water_restriction_at``): the latest restriction that started on
  or before the day; it is in force unless it has ended. Alyx compares the end with a time of day; this
  module works on calendar days, so the day a restriction ends no longer counts as restricted.
* **Reference weight** (``reference_weighing_at`` / ``reference_weight``): the restriction's own
  ``reference_weight``, or when that is unset (0) the latest weighing made on or before the day the
  restriction started; the implant weight at the start of the restriction is subtracted, so reference
  weights are implant-free.
* **Expected weight** (``expected_weight``): the lab's ``reference_weight_pct`` and ``zscore_weight_pct``
  (fractions, e.g. 0.85) are normalised into weights of a mix of the reference weight and the z-score
  weight (the reference z-score projected along a growth curve to today's age); today's implant weight is
  added back.
* **Expected water** (``expected_water``): 0.04 mL per g of (weight - implant), 0.05 mL/g when the
  implant-free weight is below the lab's minimum, ``(reference_weight_pct + zscore_weight_pct)`` of the
  implant-free expected weight (Alyx's ``min_weight``; older Alyx hard-coded 80 % here). The weight is
  the latest weighing on or before the day.
* **Given water** (``given_water``): every administration of the calendar day, adlib or not.
* **Remaining water** (``remaining_water``): expected minus given, *not* clamped: a negative value is water
  given in excess (Alyx's ``excess_water`` is its negation).
* **Alert line**: 75 % of the implant-free expected weight (Alyx's ``WEIGHT_THRESHOLD = 0.75`` red line).

Where Alyx answers with a number that means "unknown" (0 for an expected weight, a water need computed
from a weight of 0), this module answers ``None``; see ``water_requirement`` for each case.

Datetimes are naive local times of the lab, as onecloud stores them (``chalicelib.fields``), so a
record's calendar day is simply ``date_time.date()``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import BadRequest

WATER_ML_PER_G = 0.04
"""Daily water need of a restricted mouse, mL per g of implant-free body weight."""

WATER_ML_PER_G_UNDERWEIGHT = 0.05
"""Daily water need once the implant-free weight is below the lab's minimum: 0.01 mL/g more to recover."""

ALERT_FRACTION = 0.75
"""The red line: an implant-free weight below this fraction of the implant-free expected weight."""

GrowthCurve = Mapping[int, tuple[float, float]]
"""Age in whole weeks -> (mean, standard deviation) of the implant-free body weight in g."""


@dataclass(frozen=True)
class Weighing:
    """One weighing of the subject (g), implant included, as the scale reads it."""

    date_time: datetime.datetime
    weight: float


@dataclass(frozen=True)
class WaterGiven:
    """One water administration (mL). ``adlib`` marks free access; its volume, if any, counts like any."""

    date_time: datetime.datetime
    water_administered: float
    adlib: bool = False


@dataclass(frozen=True)
class Restriction:
    """A water restriction. ``end_time`` None means still in force; ``reference_weight`` 0 means unset."""

    start_time: datetime.datetime
    end_time: datetime.datetime | None
    reference_weight: float


@dataclass(frozen=True)
class LabRule:
    """A lab's weight thresholds, as **fractions** of the expected weight (0.85 = 85 %), like Alyx's Lab.

    Their sum is the minimum weight below which the water need rises to 0.05 mL/g; their ratio mixes the
    reference weight and the z-score weight into the expected weight. As Alyx's lab form does, a value
    above 1 is read as a percent (85 -> 0.85) and a negative one as 0, so either spelling gives one rule.
    """

    reference_weight_pct: float
    zscore_weight_pct: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "reference_weight_pct", _fraction(self.reference_weight_pct))
        object.__setattr__(self, "zscore_weight_pct", _fraction(self.zscore_weight_pct))

    @property
    def minimum_fraction(self) -> float:
        """The share of the implant-free expected weight a subject must keep (Alyx's orange line)."""
        return self.reference_weight_pct + self.zscore_weight_pct


def _fraction(value: float) -> float:
    value = max(float(value), 0.0)
    return value / 100 if value > 1 else value


@dataclass(frozen=True)
class WaterRequirement:
    """A subject's water control on one day. Weights in g, water in mL; None where it cannot be known.

    ``reference_weight`` is implant-free (as Alyx reports it); ``expected_weight`` and ``minimum_weight``
    include today's implant so they compare with what the scale reads; ``percentage_weight`` compares
    implant-free weights, ``100 * (last_weight - implant) / (expected_weight - implant)``.
    """

    date: datetime.date
    weight: float | None  # latest weighing of the day, else None
    last_weight: float | None  # latest weighing on or before the day: what the figures below use
    reference_weight: float | None
    implant_weight: float
    expected_weight: float | None
    minimum_weight: float | None  # under it, 0.05 mL/g instead of 0.04
    percentage_weight: float | None
    expected_water: float | None
    given_water: float
    remaining_water: float | None  # negative when more than needed was given
    water_restricted: bool
    below_minimum: bool
    below_alert: bool  # implant-free weight under 75 % of the implant-free expected weight
    adlib: bool  # free water was given on the day

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the date as ``YYYY-MM-DD``, booleans as they are, figures to the thousandth (of a
        gram, of a mL: finer than any scale or pipette), not with float arithmetic's tails."""
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["date"] = self.date.isoformat()
        return {name: round(value, 3) if isinstance(value, float) else value for name, value in out.items()}


def restriction_on(restrictions: Iterable[Restriction], on: datetime.date) -> Restriction | None:
    """The restriction in force on ``on``, or None.

    As Alyx, only the latest restriction started on or before the day is considered: if it has ended,
    the subject is free even if an older restriction was never closed (a data error Alyx also ignores).
    A restriction counts from its first day and stops counting on the day it ends.
    """
    started = [r for r in restrictions if r.start_time.date() <= on]
    if not started:
        return None
    latest = max(enumerate(started), key=lambda item: (item[1].start_time, item[0]))[1]
    if latest.end_time is not None and latest.end_time.date() <= on:
        return None
    return latest


def implant_weight_on(implants: Iterable[tuple[datetime.datetime, float | None]], on: datetime.date) -> float:
    """The implant weight carried on ``on``: the latest non-zero one of surgeries on or before the day.

    ``implants`` are ``(surgery start_time, implant_weight)`` pairs. As Alyx, a surgery without implant
    weight (None or 0) leaves the previous implant in place rather than resetting it to 0.
    """
    carried = 0.0
    for when, weight in sorted(((w, g) for w, g in implants if g), key=lambda pair: pair[0]):
        if when.date() <= on:
            carried = float(weight)
    return carried


def _last_weighing(weighings: Sequence[Weighing], on: datetime.date) -> Weighing | None:
    """The latest weighing on or before the day (the later record wins a tie, as in Alyx)."""
    before = [(w.date_time, i, w) for i, w in enumerate(weighings) if w.date_time.date() <= on]
    return max(before)[2] if before else None


def _weeks(birth_date: datetime.date, day: datetime.date) -> int:
    return (day - birth_date).days // 7


def _growth(curve: GrowthCurve, weeks: int) -> tuple[float, float]:
    """Mean and std at an age, ages outside the table clamped to its ends (as Alyx)."""
    weeks = min(max(weeks, min(curve)), max(curve))
    return curve[weeks]


def _zscore_weight(
    reference: float,
    reference_day: datetime.date,
    on: datetime.date,
    birth_date: datetime.date | None,
    sex: str,
    growth_curves: Mapping[str, GrowthCurve] | None,
) -> float | None:
    """The implant-free reference weight moved along the growth curve from its day to ``on``.

    Alyx reads one curve per sex (``M`` -> male, anything else -> female). Alyx ships its curves as data
    files that onecloud does not carry, so without ``growth_curves`` (or without a birth date) this is
    None and the caller falls back to the reference weight.
    """
    if not growth_curves or birth_date is None:
        return None
    curve = growth_curves.get("M" if sex == "M" else "F")
    if not curve:
        return None
    mean_ref, std_ref = _growth(curve, _weeks(birth_date, reference_day))
    mean_now, std_now = _growth(curve, _weeks(birth_date, on))
    if std_ref <= 0:
        return None
    return std_now * (reference - mean_ref) / std_ref + mean_now


def water_requirement(
    *,
    on: datetime.date,
    weighings: Sequence[Weighing],
    water: Sequence[WaterGiven],
    restrictions: Sequence[Restriction],
    implant_weight: float,
    rule: LabRule,
    birth_date: datetime.date | None = None,
    sex: str = "U",
    reference_implant_weight: float | None = None,
    growth_curves: Mapping[str, GrowthCurve] | None = None,
) -> WaterRequirement:
    """The subject's expected weight, water need, water given and remaining water on the day ``on``.

    ``implant_weight`` is the implant carried on the day (``implant_weight_on``);
    ``reference_implant_weight`` the one carried when the restriction started, subtracted from the
    reference weight (defaults to ``implant_weight``: pass it when an implant was added during the
    restriction). ``growth_curves`` maps ``"M"``/``"F"`` to a ``GrowthCurve`` for the z-score weight:
    without it, the z-score share of the expected weight uses the reference weight instead, so
    ``zscore_weight_pct`` then only raises the minimum weight, it does not change the expected weight.

    Departures from Alyx, each where Alyx's number means "unknown":

    * not restricted on the day: no reference, expected or minimum weight and no expected or remaining
      water (None), and no flags. Alyx still prints 0.04 mL/g for free-water subjects, and keeps a
      restriction's explicit reference weight after the restriction ended, but never acts on either;
    * the lab sets no percentages (both 0): expected weight None (Alyx: 0), the water need stays 0.04 mL/g;
    * never weighed on or before the day: expected water None (Alyx computes it from a weight of 0);
    * no birth date with z-score curves: the reference weight stands in (Alyx takes a z-score weight of 0).
    """
    implant = float(implant_weight or 0.0)
    todays = [w for w in weighings if w.date_time.date() == on]
    weight = _last_weighing(todays, on).weight if todays else None
    last = _last_weighing(weighings, on)
    last_weight = last.weight if last else None

    given_today = [g for g in water if g.date_time.date() == on]
    given = float(sum(g.water_administered or 0.0 for g in given_today))
    adlib = any(g.adlib for g in given_today)

    restriction = restriction_on(restrictions, on)
    if restriction is None:
        return WaterRequirement(
            date=on,
            weight=weight,
            last_weight=last_weight,
            reference_weight=None,
            implant_weight=implant,
            expected_weight=None,
            minimum_weight=None,
            percentage_weight=None,
            expected_water=None,
            given_water=given,
            remaining_water=None,
            water_restricted=False,
            below_minimum=False,
            below_alert=False,
            adlib=adlib,
        )

    # Reference weight: the restriction's own, else the latest weighing up to its first day.
    start_day = restriction.start_time.date()
    reference: float | None
    if restriction.reference_weight:
        reference_raw: float | None = float(restriction.reference_weight)
        reference_day = start_day
    else:
        before = _last_weighing(weighings, start_day)
        reference_raw = before.weight if before else None
        reference_day = before.date_time.date() if before else start_day
    ref_implant = implant if reference_implant_weight is None else float(reference_implant_weight)
    reference = None if reference_raw is None else reference_raw - ref_implant

    # Expected (implant-free) weight: the lab's mix of reference and z-score weights.
    expected_free: float | None = None
    minimum = rule.minimum_fraction
    if reference is not None and minimum > 0:
        zscore = _zscore_weight(reference, reference_day, on, birth_date, sex, growth_curves)
        if zscore is None:
            zscore = reference
        expected_free = (rule.reference_weight_pct * reference + rule.zscore_weight_pct * zscore) / minimum

    expected_weight = None if expected_free is None else expected_free + implant
    minimum_weight = None if expected_free is None else minimum * expected_free + implant

    free_weight = None if last_weight is None else last_weight - implant
    percentage = None
    below_minimum = below_alert = False
    if free_weight is not None and expected_free is not None and expected_free > 0:
        percentage = 100 * free_weight / expected_free
        below_minimum = free_weight < minimum * expected_free
        below_alert = free_weight < ALERT_FRACTION * expected_free

    expected_water = None
    if free_weight is not None:
        per_gram = WATER_ML_PER_G_UNDERWEIGHT if below_minimum else WATER_ML_PER_G
        expected_water = per_gram * free_weight

    return WaterRequirement(
        date=on,
        weight=weight,
        last_weight=last_weight,
        reference_weight=reference,
        implant_weight=implant,
        expected_weight=expected_weight,
        minimum_weight=minimum_weight,
        percentage_weight=percentage,
        expected_water=expected_water,
        given_water=given,
        remaining_water=None if expected_water is None else expected_water - given,
        water_restricted=True,
        below_minimum=below_minimum,
        below_alert=below_alert,
        adlib=adlib,
    )


def free_percentage(today: WaterRequirement, last_restricted: WaterRequirement) -> float | None:
    """Weight % of a subject no longer restricted, against the expected weight of its last restricted
    day: Alyx keeps showing it (in grey) from the last restriction's reference weight."""
    if today.last_weight is None or last_restricted.expected_weight is None:
        return None
    expected_free = last_restricted.expected_weight - last_restricted.implant_weight
    return 100 * (today.last_weight - today.implant_weight) / expected_free if expected_free > 0 else None


NEAR_MINIMUM = 0.02
"""A weight within this fraction above the lab's threshold is flagged (Alyx's orange Weight %)."""


def weight_band(requirement: WaterRequirement, rule: LabRule, percentage: float | None = None) -> str:
    """How a subject's Weight % reads, as Alyx's colour-coded column (``percentage_weight_html``).

    ``unknown`` without a percentage; ``free`` when not water-restricted (grey; ``percentage`` is then
    ``free_percentage``); otherwise ``low`` (red)
    under the larger of the lab's two percentages, ``near`` (orange) within 2 points above it, else ``ok``
    (green).
    """
    if not requirement.water_restricted:
        return "free" if percentage is not None else "unknown"
    if requirement.percentage_weight is None:
        return "unknown"
    threshold = max(rule.reference_weight_pct, rule.zscore_weight_pct)
    fraction = requirement.percentage_weight / 100
    if fraction < threshold:
        return "low"
    if fraction < threshold + NEAR_MINIMUM:
        return "near"
    return "ok"


def check_alive(record_time: datetime.datetime, death_date: datetime.date | None, what: str) -> None:
    """Refuse a husbandry record dated after the subject died; the day of death itself is allowed.

    Alyx refuses a water administration after the death date (``WaterAdministration.save``); onecloud
    applies the same rule to every husbandry record, since a weighing or water after death is a typo in
    a date or a wrong subject, and accepting it would corrupt the water history.
    """
    if death_date is not None and record_time.date() > death_date:
        raise BadRequest(
            f"{what} on {record_time.date().isoformat()} is after the subject's death on "
            f"{death_date.isoformat()}"
        )

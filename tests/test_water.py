"""Tests for chalicelib.water: Alyx's water-control arithmetic on plain records.

Each table pins one rule of Alyx's ``actions/water_control.py`` (reference weight, implant, expected
weight, 0.04 / 0.05 mL per g, today's water, the 75 % alert) or one documented departure from it.
"""

from __future__ import annotations

import datetime
import json

import pytest

from chalicelib.errors import BadRequest
from chalicelib.water import (
    LabRule,
    Restriction,
    WaterGiven,
    Weighing,
    check_alive,
    implant_weight_on,
    restriction_on,
    water_requirement,
)

TODAY = datetime.date(2024, 3, 10)
REFERENCE_LAB = LabRule(reference_weight_pct=0.8, zscore_weight_pct=0.0)


def at(days: int, hour: int = 9, minute: int = 0) -> datetime.datetime:
    """A moment ``days`` after TODAY (negative: before) at the given time."""
    return datetime.datetime.combine(TODAY + datetime.timedelta(days=days), datetime.time(hour, minute))


def restricted(since: int = -5, reference: float = 25.0, until: int | None = None) -> Restriction:
    return Restriction(
        start_time=at(since), end_time=None if until is None else at(until), reference_weight=reference
    )


def requirement(**given):
    args = {
        "on": TODAY,
        "weighings": [Weighing(at(0), 22.0)],
        "water": [],
        "restrictions": [restricted()],
        "implant_weight": 0.0,
        "rule": REFERENCE_LAB,
    }
    args.update(given)
    return water_requirement(**args)


# --- reference weight -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "weighings", "restriction", "reference"),
    [
        (
            "the restriction's own reference weight wins",
            [Weighing(at(-6), 24.0)],
            restricted(reference=25.0),
            25.0,
        ),
        (
            "unset (0): the last weighing before the restriction",
            [Weighing(at(-8), 24.0), Weighing(at(-6), 23.5), Weighing(at(-2), 21.0)],
            restricted(since=-5, reference=0.0),
            23.5,
        ),
        (
            "unset: a weighing later on the restriction's first day still counts (days, not times)",
            [Weighing(at(-6), 23.5), Weighing(at(-5, hour=17), 23.8)],
            restricted(since=-5, reference=0.0),
            23.8,
        ),
        (
            "unset: weighings listed out of order, the latest before the start is taken",
            [Weighing(at(-2), 21.0), Weighing(at(-6), 23.5), Weighing(at(-9), 24.0)],
            restricted(since=-5, reference=0.0),
            23.5,
        ),
        (
            "unset and never weighed before the restriction: unknown",
            [Weighing(at(-2), 21.0)],
            restricted(reference=0.0),
            None,
        ),
    ],
)
def test_reference_weight(case, weighings, restriction, reference):
    result = requirement(weighings=weighings, restrictions=[restriction])
    assert result.reference_weight == reference, case
    assert result.expected_weight == reference, case  # a pure reference-weight lab


def test_unknown_reference_still_asks_for_water_at_the_normal_rate():
    result = requirement(weighings=[Weighing(at(0), 20.0)], restrictions=[restricted(reference=0.0)])
    assert (result.reference_weight, result.expected_weight, result.percentage_weight) == (None, None, None)
    assert result.expected_water == pytest.approx(0.04 * 20.0)
    assert not result.below_minimum and not result.below_alert


# --- implant weight -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "implant", "reference_implant", "reference", "expected_weight", "expected_water"),
    [
        ("no implant", 0.0, None, 25.0, 25.0, 0.04 * 22.0),
        (
            "implant subtracted from reference and from the weight that sets the water",
            2.0,
            None,
            23.0,
            25.0,
            0.04 * 20.0,
        ),
        (
            "implant added during the restriction raises the expected weight",
            3.0,
            2.0,
            23.0,
            26.0,
            0.04 * 19.0,
        ),
    ],
)
def test_implant_weight(case, implant, reference_implant, reference, expected_weight, expected_water):
    result = requirement(implant_weight=implant, reference_implant_weight=reference_implant)
    assert result.implant_weight == implant, case
    assert result.reference_weight == pytest.approx(reference), case
    assert result.expected_weight == pytest.approx(expected_weight), case
    assert result.expected_water == pytest.approx(expected_water), case


def test_percentage_weight_compares_implant_free_weights():
    result = requirement(weighings=[Weighing(at(0), 20.0)], implant_weight=2.0)  # (20-2) / (25-2)
    assert result.percentage_weight == pytest.approx(100 * 18.0 / 23.0)


@pytest.mark.parametrize(
    ("case", "surgeries", "on", "implant"),
    [
        ("no surgery", [], TODAY, 0.0),
        ("latest implant on or before the day", [(at(-20), 1.5), (at(-3), 2.5)], TODAY, 2.5),
        ("a later surgery does not count yet", [(at(-20), 1.5), (at(3), 2.5)], TODAY, 1.5),
        ("a surgery the same day counts", [(at(0, hour=18), 1.5)], TODAY, 1.5),
        (
            "a surgery without implant weight keeps the previous one",
            [(at(-20), 1.5), (at(-3), 0.0), (at(-2), None)],
            TODAY,
            1.5,
        ),
    ],
)
def test_implant_weight_on(case, surgeries, on, implant):
    assert implant_weight_on(surgeries, on) == implant, case


# --- expected water: 0.04 vs 0.05 mL/g ------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "weight", "implant", "per_gram", "below_minimum"),
    [
        ("above the lab minimum (84 %): 0.04 mL/g", 21.0, 0.0, 0.04, False),
        ("exactly at the minimum (80 %): still 0.04 mL/g", 20.0, 0.0, 0.04, False),
        ("below the minimum (79.6 %): 0.05 mL/g", 19.9, 0.0, 0.05, True),
        ("implant-free weight decides: 21 g with a 2 g implant is 19/23 = 82.6 %", 21.0, 2.0, 0.04, False),
        ("implant-free weight decides: 20 g with a 2 g implant is 18/23 = 78.3 %", 20.0, 2.0, 0.05, True),
    ],
)
def test_expected_water_rate(case, weight, implant, per_gram, below_minimum):
    result = requirement(weighings=[Weighing(at(0), weight)], implant_weight=implant)
    assert result.expected_water == pytest.approx(per_gram * (weight - implant)), case
    assert result.below_minimum is below_minimum, case


@pytest.mark.parametrize(
    ("case", "rule", "minimum_weight", "per_gram"),
    [
        ("the minimum is the lab's percentage: 80 %", LabRule(0.8, 0.0), 20.0, 0.04),
        ("the minimum is the lab's percentage: 85 %", LabRule(0.85, 0.0), 21.25, 0.05),
        ("both percentages add up to the minimum", LabRule(0.425, 0.425), 21.25, 0.05),
    ],
)
def test_minimum_weight_is_the_sum_of_the_lab_percentages(case, rule, minimum_weight, per_gram):
    result = requirement(weighings=[Weighing(at(0), 21.0)], rule=rule)
    assert result.minimum_weight == pytest.approx(minimum_weight), case
    assert result.expected_water == pytest.approx(per_gram * 21.0), case


@pytest.mark.parametrize(
    ("case", "rule"),
    [("percents read as fractions", LabRule(85, 0)), ("negative read as 0", LabRule(0.85, -0.1))],
)
def test_lab_rule_is_in_fractions(case, rule):
    assert rule == LabRule(0.85, 0.0), case


def test_lab_without_percentages_has_no_expected_weight_and_asks_the_normal_rate():
    result = requirement(weighings=[Weighing(at(0), 15.0)], rule=LabRule(0.0, 0.0))
    assert result.reference_weight == 25.0
    assert (result.expected_weight, result.minimum_weight, result.percentage_weight) == (None, None, None)
    assert result.expected_water == pytest.approx(0.04 * 15.0)
    assert not result.below_alert


# --- z-score weight -------------------------------------------------------------------------------

BIRTH = TODAY - datetime.timedelta(weeks=10)  # 10 weeks old today, 8 weeks at a restriction 14 days ago
CURVES = {"M": {8: (20.0, 2.0), 10: (24.0, 3.0)}, "F": {8: (18.0, 1.0), 10: (19.0, 1.0)}}


@pytest.mark.parametrize(
    ("case", "rule", "sex", "curves", "birth", "expected_weight"),
    [
        (
            "z-score lab without growth curves falls back to the reference weight",
            LabRule(0.0, 0.8),
            "M",
            None,
            BIRTH,
            22.0,
        ),
        (
            "reference z=+1 at 8 weeks projects to 24 + 3 at 10 weeks",
            LabRule(0.0, 0.8),
            "M",
            CURVES,
            BIRTH,
            27.0,
        ),
        ("females read the female curve: z=+4 -> 19 + 4", LabRule(0.0, 0.8), "F", CURVES, BIRTH, 23.0),
        ("unknown sex reads the female curve (as Alyx)", LabRule(0.0, 0.8), "U", CURVES, BIRTH, 23.0),
        (
            "mixed lab averages reference and z-score weights by their shares",
            LabRule(0.4, 0.4),
            "M",
            CURVES,
            BIRTH,
            24.5,
        ),
        ("no birth date: the reference weight stands in", LabRule(0.0, 0.8), "M", CURVES, None, 22.0),
        ("ages past the table use its last row", LabRule(0.0, 0.8), "M", {8: (20.0, 2.0)}, BIRTH, 22.0),
    ],
)
def test_zscore_weight(case, rule, sex, curves, birth, expected_weight):
    result = requirement(
        restrictions=[restricted(since=-14, reference=22.0)],
        rule=rule,
        sex=sex,
        birth_date=birth,
        growth_curves=curves,
    )
    assert result.reference_weight == 22.0, case
    assert result.expected_weight == pytest.approx(expected_weight), case


# --- water given today ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "water", "given", "adlib"),
    [
        ("nothing given", [], 0.0, False),
        (
            "only the calendar day counts, midnight to midnight",
            [
                WaterGiven(at(-1, 23, 59), 5.0),
                WaterGiven(at(0, 0, 0), 0.25),
                WaterGiven(at(0, 18), 0.5),
                WaterGiven(at(1, 0, 0), 5.0),
            ],
            0.75,
            False,
        ),
        (
            "adlib water counts like any other",
            [WaterGiven(at(0, 10), 0.3), WaterGiven(at(0, 17), 1.0, adlib=True)],
            1.3,
            True,
        ),
    ],
)
def test_given_water_sums_the_day(case, water, given, adlib):
    result = requirement(water=water)
    assert result.given_water == pytest.approx(given), case
    assert result.remaining_water == pytest.approx(0.04 * 22.0 - given), case
    assert result.adlib is adlib, case


def test_remaining_water_goes_negative_when_more_was_given():
    result = requirement(water=[WaterGiven(at(0, 12), 1.5)])
    assert result.remaining_water == pytest.approx(0.04 * 22.0 - 1.5)
    assert result.remaining_water < 0


# --- not restricted -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "restrictions"),
    [
        ("never restricted", []),
        ("the restriction ended before the day", [restricted(since=-10, until=-2)]),
        ("the restriction ends on the day", [restricted(since=-10, until=0)]),
        ("the restriction starts after the day", [restricted(since=1)]),
        (
            "only the latest restriction counts: it ended",
            [restricted(since=-20), restricted(since=-10, until=-1)],
        ),
    ],
)
def test_not_restricted_means_no_water_requirement(case, restrictions):
    result = requirement(restrictions=restrictions, water=[WaterGiven(at(0, 12), 0.6)])
    assert result.water_restricted is False, case
    assert result.weight == 22.0, case
    assert result.given_water == pytest.approx(0.6), case
    assert (result.reference_weight, result.expected_weight, result.minimum_weight) == (None, None, None), (
        case
    )
    assert (result.expected_water, result.remaining_water, result.percentage_weight) == (None, None, None), (
        case
    )
    assert not result.below_minimum and not result.below_alert, case


@pytest.mark.parametrize(
    ("case", "restrictions", "started"),
    [
        ("open restriction", [restricted(since=-10)], -10),
        ("restriction starting on the day, before its start time", [restricted(since=0)], 0),
        ("restriction ending later", [restricted(since=-10, until=3)], -10),
        ("the latest of several", [restricted(since=-30, until=-20), restricted(since=-10)], -10),
    ],
)
def test_restriction_on(case, restrictions, started):
    found = restriction_on(restrictions, TODAY)
    assert found is not None and found.start_time == at(started), case


# --- the 75 % alert line --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "weight", "implant", "alert"),
    [
        ("75.2 % of expected: no alert", 18.8, 0.0, False),
        ("exactly 75 %: no alert", 18.75, 0.0, False),
        ("74.8 % of expected: alert", 18.7, 0.0, True),
        ("implant-free: (19.5-2)/(25-2) = 76.1 %: no alert", 19.5, 2.0, False),
        ("implant-free: (19.2-2)/(25-2) = 74.8 %: alert", 19.2, 2.0, True),
    ],
)
def test_alert_below_75_percent_of_expected_weight(case, weight, implant, alert):
    result = requirement(weighings=[Weighing(at(0), weight)], implant_weight=implant)
    assert result.below_alert is alert, case
    assert result.below_minimum, case  # 75 % is always under an 80 % lab minimum
    assert result.expected_water == pytest.approx(0.05 * (weight - implant)), case


# --- weighings of the day -------------------------------------------------------------------------


def test_no_weighing_today_uses_the_last_weighing_for_the_figures():
    result = requirement(weighings=[Weighing(at(-3), 21.0), Weighing(at(-1), 19.0), Weighing(at(1), 30.0)])
    assert result.weight is None
    assert result.last_weight == 19.0
    assert result.percentage_weight == pytest.approx(76.0)
    assert result.expected_water == pytest.approx(0.05 * 19.0)


def test_never_weighed_has_no_water_figure():
    result = requirement(weighings=[], water=[WaterGiven(at(0, 12), 0.5)])
    assert (result.weight, result.last_weight, result.expected_water, result.remaining_water) == (None,) * 4
    assert result.given_water == 0.5
    assert result.expected_weight == 25.0
    assert not result.below_alert


def test_weight_of_the_day_is_the_latest_weighing_of_the_day():
    result = requirement(
        weighings=[Weighing(at(0, 17), 21.5), Weighing(at(0, 8), 22.5), Weighing(at(-1), 23.0)]
    )
    assert result.weight == result.last_weight == 21.5


def test_as_dict_is_json_ready():
    data = requirement(water=[WaterGiven(at(0, 12), 0.5)]).as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["date"] == "2024-03-10"
    assert data["expected_water"] == pytest.approx(0.88)
    assert set(data) >= {
        "weight",
        "reference_weight",
        "implant_weight",
        "expected_weight",
        "percentage_weight",
        "expected_water",
        "given_water",
        "remaining_water",
        "water_restricted",
        "below_alert",
    }


def test_figures_are_given_to_the_thousandth_without_float_tails():
    data = requirement(
        weighings=[Weighing(at(0), 23.8)], water=[WaterGiven(at(0, 12), 0.1), WaterGiven(at(0, 13), 0.2)]
    ).as_dict()
    assert (data["expected_water"], data["given_water"], data["remaining_water"]) == (0.952, 0.3, 0.652)


# --- check_alive ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "record_time", "death_date"),
    [
        ("no death date", at(0), None),
        ("before death", at(-1), TODAY),
        ("the day of death, late in the day", at(0, 23, 59), TODAY),
    ],
)
def test_check_alive_accepts(case, record_time, death_date):
    assert check_alive(record_time, death_date, "weighing") is None, case


def test_check_alive_refuses_a_record_after_death():
    with pytest.raises(BadRequest) as error:
        check_alive(at(1, 0, 0), TODAY, "water administration")
    assert (
        error.value.detail == "water administration on 2024-03-11 is after the subject's death on 2024-03-10"
    )
    assert error.value.status == 400

"""The training pages' figures draw stored results as well-formed SVG with IBL's decorations."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from chalicelib.behaviour import figures, summaries
from chalicelib.behaviour.training import jsonable, subject_training
from tests.behaviour_data import swc_054_trials
from tests.test_behaviour import swc_054_days


def svg(markup: str) -> ET.Element:
    return ET.fromstring(markup)


@pytest.fixture(scope="module")
def document():
    rows, assessed = subject_training(swc_054_days()[:6])
    return {
        "subject": "SWC_054",
        "lab": "mainenlab",
        "rows": [jsonable(r) for r in rows],
        "assessments": {
            d: jsonable({"status": a.status, "info": a.info, "criteria": a.criteria})
            for d, a in assessed.items()
        },
        "trained_criteria": {},
    }


def test_the_mouse_figures_mark_mondays_and_status_changes(document):
    husbandry = figures.Husbandry(
        water=[("2020-08-21", "Water", 0.6), ("2020-08-21", "Hydrogel", 0.4), ("2020-08-24", "Water", 1.0)],
        weights=[("2020-08-21", 22.5), ("2020-08-24", 22.0)],
        restrictions=[("2020-08-17", None, 25.0)],
    )
    drawn = figures.mouse_figures(document, husbandry)
    for markup in [
        drawn["trial_counts"],
        drawn["performance"],
        drawn["heatmap"],
        drawn["water_weight"],
        *drawn["fit_parameters"],
    ]:
        svg(markup)
    assert "trained 1a" in drawn["trial_counts"] and "trained 1b" in drawn["trial_counts"]
    assert drawn["trial_counts"].count('stroke="#bbb"') == 1  # the one Monday (08-24) of 08-21..08-28
    assert "rightward" in drawn["heatmap"]
    assert len(drawn["fit_parameters"]) == 4 and "trained 1a bound 19" in drawn["fit_parameters"][0]
    assert "Hydrogel" in drawn["water_weight"] and "85 % of reference" in drawn["water_weight"]


def test_the_criteria_breakdown_names_what_the_next_status_needs(document):
    breakdown = figures.criteria_breakdown(document)
    assert breakdown["date"] == "2020-08-28" and breakdown["status"] == "trained 1b"
    assert breakdown["next"] == "ready4ephysrig"
    in_training = {**document, "rows": document["rows"][:3]}
    breakdown = figures.criteria_breakdown(in_training)
    assert breakdown["next"] == "trained 1a"
    threshold = next(c for c in breakdown["criteria"] if c["name"] == "Threshold")
    assert threshold["pass"] is False and float(threshold["value"]) > 19


def test_the_session_figures_draw_each_block_with_its_fit():
    summary = summaries.session_summary(swc_054_trials("2020-09-01"), "biased")
    drawn = figures.session_figures(summary)
    for markup in drawn.values():
        svg(markup)
    for block in ("0.2", "0.5", "0.8"):
        assert f"fit p_left {block}" in drawn["psychometric"]
    assert "rolling median" in drawn["rt_trial"]


def test_the_lab_overview_and_timeline(document):
    overview = figures.lab_overview([document])
    assert overview[0]["status"] == "trained 1b" and overview[0]["sessions"] == 6 and overview[0]["days"] == 8
    timeline = figures.status_timeline([document])
    svg(timeline)
    assert "SWC_054" in timeline and "trained 1a" in timeline

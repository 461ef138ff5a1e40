"""The training pages show what the TrainingStatus job stored, and compute nothing themselves."""

from __future__ import annotations

import pytest

from chalicelib.behaviour import results, summaries
from chalicelib.behaviour.training import jsonable, subject_training, trained_criteria
from tests.behaviour_data import swc_054_trials
from tests.test_behaviour import swc_054_days

LAB = "cortexlab"


@pytest.fixture(scope="module")
def computed():
    """SWC_054's first six dates (up to trained 1b and its first biased session), computed once."""
    rows, assessed = subject_training(swc_054_days()[:6])
    return rows, assessed, summaries.session_summary(swc_054_trials("2020-08-28"), "biased")


@pytest.fixture
def stored(api, computed):
    """The subject and its sessions, and the documents the job would have written."""
    rows, assessed, summary = computed
    api.post("/subjects", {"nickname": "SWC_054", "lab": LAB})
    eids = {}
    for row in rows:
        eids[row["date"]] = api.post(
            "/sessions", {"subject": "SWC_054", "start_time": f"{row['date']}T09:00:00", "number": 1}
        ).json_body["id"]
    rows = [jsonable({**row, "eid": eids[row["date"]]}) for row in rows]
    results.write(
        results.subject_key(LAB, "SWC_054"),
        {
            "subject": "SWC_054",
            "lab": LAB,
            "updated": "2026-11-29T10:00:00+00:00",
            "rows": rows,
            "assessments": {
                d: jsonable({"status": a.status, "info": a.info, "criteria": a.criteria})
                for d, a in assessed.items()
            },
            "trained_criteria": trained_criteria(rows),
        },
    )
    results.write(
        results.session_key(eids["2020-08-28"]),
        {
            **summary,
            "task_protocol": "_iblrig_tasks_biasedChoiceWorld6.4.2",
            "location": "training_rig",
            "delay": 0,
            "ambient": None,
        },
    )
    api.post("/weighings", {"subject": "SWC_054", "weight": 22.5, "date_time": "2020-08-24T09:00:00"})
    return eids


def test_the_lab_overview_lists_each_mouse_with_its_status_and_timeline(web, stored):
    page = web.login("alice").get("/ui/training")
    assert page.status == 200
    assert "SWC_054" in page and "trained 1b" in page
    assert "Training status by session date" in page.text


def test_the_mouse_page_shows_five_plots_and_the_criteria_of_the_next_status(web, stored):
    page = web.login("alice").get("/ui/training/SWC_054")
    assert page.status == 200
    for title in (
        "Trial counts and session duration",
        "Performance on easy trials",
        "Rightward choices by contrast",
        "Psychometric threshold",
        "Water intake and weight",
    ):
        assert title in page.text, title
    assert "Next: ready4ephysrig" in page
    assert "NBiased" in page


def test_the_session_page_shows_psychometric_curves_per_block(web, stored):
    page = web.login("bob").get(f"/ui/sessions/{stored['2020-08-28']}")
    assert page.status == 200
    assert "Psychometric curves" in page.text and "fit p_left 0.2" in page.text
    assert "Response time by trial" in page.text and "SWC_054's training page" in page


def test_a_session_without_results_has_no_behaviour_section(web, stored):
    page = web.login("alice").get(f"/ui/sessions/{stored['2020-08-21']}")
    assert page.status == 200 and "Psychometric curves" not in page.text


def test_a_mouse_without_results_says_so(web, api):
    api.post("/subjects", {"nickname": "KS023", "lab": LAB})
    page = web.login("alice").get("/ui/training/KS023")
    assert page.status == 200 and "No training results yet" in page

"""On the local stack, with no manual step: a rig registers SWC_054's 11 real sessions (with their task
protocols) and uploads each with ``onecloud upload``; the TrainingStatus tasks run through the job runner;
the subject's trained_criteria reach trained 1a on 2020-08-26, trained 1b on 2020-08-27 and
ready4ephysrig on 2020-09-01, as IBL's definitions say; ONE loads the training table; the training pages
show it in Chromium (screenshots under test-output/screenshots/)."""

from __future__ import annotations

import shutil

import pytest

from tests.behaviour_data import SWC_054, swc_054_sessions
from tests.localstack import upload, wait_for
from tests.webpages import PASSWORDS

pytestmark = pytest.mark.e2e
LAB, SUBJECT, RIG = "cortexlab", "SWC_054", "alice"


def upload_swc_054(ui, tmp_path) -> dict[str, str]:
    """Each session registered with its task protocol, then uploaded as a rig does; the sessions' ids."""
    rest = ui.stack.rest
    assert rest("post", "/subjects", json={"nickname": SUBJECT, "lab": LAB}).status_code == 201
    for day, grams, ml in (("2020-08-21", 22.4, 1.0), ("2020-08-24", 22.1, 0.8), ("2020-08-25", 21.9, 0.9)):
        weighed = rest(
            "post", "/weighings", json={"subject": SUBJECT, "weight": grams, "date_time": f"{day}T08:00:00"}
        )
        watered = rest(
            "post",
            "/water-administrations",
            json={"subject": SUBJECT, "water_administered": ml, "date_time": f"{day}T10:00:00"},
        )
        assert (weighed.status_code, watered.status_code) == (201, 201), weighed.text + watered.text
    sessions = {}
    for row in swc_054_sessions():
        date = row["date"]
        created = rest(
            "post",
            "/sessions",
            user=RIG,
            json={
                "subject": SUBJECT,
                "start_time": f"{date}T09:00:00",
                "end_time": f"{date}T09:52:00",
                "number": 1,
                "task_protocol": row["task_protocol"],
            },
        )
        assert created.status_code == 201, created.text
        sessions[date] = created.json()["id"]
        folder = tmp_path / LAB / "Subjects" / SUBJECT / date / "001"
        shutil.copytree(SWC_054 / date / "001", folder)
        upload(ui.stack.url, folder, LAB, RIG, PASSWORDS[RIG])
    return sessions


def test_eleven_uploaded_sessions_reach_ibls_statuses_and_show_on_the_pages(ui, tmp_path, monkeypatch):
    sessions = upload_swc_054(ui, tmp_path)
    rest = ui.stack.rest

    def all_finished():
        listed = [rest("get", f"/tasks?session={eid}").json()["results"] for eid in sessions.values()]
        tasks = [t for found in listed for t in found]
        done = len(tasks) == len(sessions) and all(t["status"] in ("Complete", "Errored") for t in tasks)
        return tasks if done else None

    for task in wait_for(all_finished, 1200, "the 11 TrainingStatus tasks did not finish"):
        assert (task["name"], task["status"]) == ("TrainingStatus", "Complete"), task["log"]
    criteria = rest("get", f"/subjects/{SUBJECT}").json()["json"]["trained_criteria"]
    assert criteria["trained_1a"] == ["2020-08-26", sessions["2020-08-26"]]
    assert criteria["trained_1b"] == ["2020-08-27", sessions["2020-08-27"]]
    assert criteria["ready4ephysrig"] == ["2020-09-01", sessions["2020-09-01"]]
    assert "ready4delay" not in criteria  # no session on an ephys rig

    latest = sessions["2020-09-04"]

    def table_registered():
        found = rest("get", f"/datasets?session={latest}&limit=1000").json()["results"]
        return "_ibl_subjectTraining.table.pqt" in {d["name"] for d in found}

    wait_for(table_registered, 120, "the training table was not registered")

    import one.params
    from one.api import ONE

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(one.params, "CACHE_DIR_DEFAULT", str(tmp_path / "Downloads"))
    one = ONE(
        base_url=ui.stack.url,
        username=RIG,
        password=PASSWORDS[RIG],
        silent=True,
        cache_dir=tmp_path / "one",
        mode="remote",
        cache_rest=None,
    )
    one.alyx._par = (
        one.alyx._par.set("HTTP_DATA_SERVER", ui.stack.url)
        .set("HTTP_DATA_SERVER_LOGIN", RIG)
        .set("HTTP_DATA_SERVER_PWD", PASSWORDS[RIG])
    )
    table = one.load_dataset(latest, "_ibl_subjectTraining.table.pqt", collection="alf", query_type="remote")
    assert list(table["date"]) == [row["date"] for row in swc_054_sessions()]
    assert list(table["n_trials"]) == [int(row["n_trials"]) for row in swc_054_sessions()]
    status = dict(zip(table["date"], table["training_status"], strict=True))
    assert status["2020-08-26"] == "trained 1a" and status["2020-09-01"] == "ready4ephysrig"
    curves = one.load_dataset(
        sessions["2020-09-01"], "_ibl_psychometric.table.pqt", collection="alf", query_type="remote"
    )
    assert sorted(set(curves["prob_left"])) == [0.2, 0.5, 0.8]

    page = ui.page(RIG)
    page.get_by_role("link", name="Training status").click()
    page.wait_for_url("**/ui/training")
    assert page.get_by_role("link", name=SUBJECT, exact=True).first.is_visible()
    assert page.get_by_text("ready4ephysrig").first.is_visible()
    ui.shot(page, "training-lab")
    page.get_by_role("link", name=SUBJECT, exact=True).first.click()
    page.wait_for_url(f"**/ui/training/{SUBJECT}*")
    assert page.get_by_text("Next: ready4delay").is_visible()
    # trial counts, performance, heat map, 4 fit-parameter panels, water and weight (drawn: weighings exist)
    assert page.locator("figure.chart svg").count() == 8
    ui.shot(page, "training-mouse")
    ui.goto(page, f"/sessions/{sessions['2020-09-01']}")
    assert page.get_by_role("heading", name="Behaviour").is_visible()
    assert page.locator("#behaviour figure.chart svg").count() == 3
    ui.shot(page, "training-session")

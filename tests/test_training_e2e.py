"""On the local stack, with no manual step: a rig registers SWC_054's 11 real sessions (with their task
protocols) and uploads each with ``onecloud upload``; the TrainingStatus tasks run through the job runner;
the subject's trained_criteria reach trained 1a on 2020-08-26, trained 1b on 2020-08-27 and
ready4ephysrig on 2020-09-01, as IBL's definitions say; ONE loads the training table."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from tests.behaviour_data import SWC_054, swc_054_sessions
from tests.localstack import ROOT, As, running

pytestmark = pytest.mark.e2e
LAB, SUBJECT = "mainenlab", "SWC_054"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    yield from running(tmp_path_factory.mktemp("training") / "state")


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(2)
    raise AssertionError(f"{what} within {timeout:g} s")


def test_eleven_uploaded_sessions_reach_ibls_statuses_and_one_loads_the_table(stack, tmp_path, monkeypatch):
    call = As(stack.url)
    call("POST", "/labs", status=201, json={"name": LAB})
    call("POST", "/users", status=201, json={"username": "rig", "password": "rig-password", "lab": [LAB]})
    call("POST", "/subjects", status=201, json={"nickname": SUBJECT, "lab": LAB})
    env = {
        **os.environ,
        "ONECLOUD_URL": stack.url,
        "ONECLOUD_USERNAME": "rig",
        "ONECLOUD_PASSWORD": "rig-password",
    }
    rig = As(stack.url, "rig", "rig-password")
    sessions = {}
    for row in swc_054_sessions():
        date = row["date"]
        sessions[date] = rig(
            "POST",
            "/sessions",
            status=201,
            json={
                "subject": SUBJECT,
                "start_time": f"{date}T09:00:00",
                "number": 1,
                "task_protocol": row["task_protocol"],
            },
        )["id"]
        folder = tmp_path / LAB / "Subjects" / SUBJECT / date / "001"
        shutil.copytree(SWC_054 / date / "001", folder)
        uploaded = subprocess.run(
            [str(ROOT / ".venv/bin/onecloud"), "upload", str(folder), "--lab", LAB],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr

    def all_finished():
        tasks = [t for eid in sessions.values() for t in call("GET", f"/tasks?session={eid}")["results"]]
        done = len(tasks) == len(sessions) and all(t["status"] in ("Complete", "Errored") for t in tasks)
        return tasks if done else None

    tasks = wait_for(all_finished, 1200, "the 11 TrainingStatus tasks did not finish")
    for task in tasks:
        assert (task["name"], task["status"]) == ("TrainingStatus", "Complete"), task["log"]
    criteria = call("GET", f"/subjects/{SUBJECT}")["json"]["trained_criteria"]
    assert criteria["trained_1a"] == ["2020-08-26", sessions["2020-08-26"]]
    assert criteria["trained_1b"] == ["2020-08-27", sessions["2020-08-27"]]
    assert criteria["ready4ephysrig"] == ["2020-09-01", sessions["2020-09-01"]]
    assert "ready4delay" not in criteria  # no session on an ephys rig

    latest = sessions["2020-09-04"]

    def table_registered():
        names = {d["name"] for d in call("GET", f"/datasets?session={latest}&limit=1000")["results"]}
        return "_ibl_subjectTraining.table.pqt" in names

    wait_for(table_registered, 120, "the training table was not registered")

    import one.params
    from one.api import ONE

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(one.params, "CACHE_DIR_DEFAULT", str(tmp_path / "Downloads"))
    one = ONE(
        base_url=stack.url,
        username="rig",
        password="rig-password",
        silent=True,
        cache_dir=tmp_path / "one",
        mode="remote",
        cache_rest=None,
    )
    one.alyx._par = (
        one.alyx._par.set("HTTP_DATA_SERVER", stack.url)
        .set("HTTP_DATA_SERVER_LOGIN", "rig")
        .set("HTTP_DATA_SERVER_PWD", "rig-password")
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

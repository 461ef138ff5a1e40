"""ibllib (from PyPI, unchanged) against the running local stack: a lab server registers a rig's session
with ``IBLRegistrationClient.register_session`` (default arguments), then its task runner asks for the
lab's Waiting tasks. The rig's files are ibllib's own iblrig test session (shipped in its wheel).

ibllib runs in a subprocess with its own path (tests.ibllib_env): it is never installed into the project.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ibllib_env import ROOT, ibllib_path
from tests.localstack import As, Stack, running

pytestmark = pytest.mark.e2e

LAB, REPOSITORY, PROJECT = "mainenlab", "mainenlab_server", "ibl_neuropixel_brainwide_01"
# the subject, user, date and number written in ibllib's test session settings
SUBJECT, USER, DATE = "_iblrig_test_mouse", "_iblrig_test_user", "2019-07-01"
PASSWORD = "rig-password"
ENDPOINT = "9a3f5c1e-2b7d-4e8a-9c61-0d4f2e8b7a15"  # the lab server's Globus endpoint
DESCRIPTION = f"""\
version: 1.0.0
projects: [{PROJECT}]
procedures: [Behavior training/tasks]
tasks:
  - trainingChoiceWorld: {{collection: raw_behavior_data, sync_label: bpod}}
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    ibllib_path()  # installed before the stack starts: the stack's clock is not spent on pip
    yield from running(tmp_path_factory.mktemp("onecloud") / "state")


@pytest.fixture(scope="module")
def root(stack: Stack) -> As:
    as_root = As(stack.url)
    as_root(
        "POST",
        "/data-repository",
        status=201,
        json={
            "name": REPOSITORY,
            "data_url": f"{stack.url}/files",
            "globus_is_personal": True,
            "globus_endpoint_id": ENDPOINT,
        },
    )
    as_root("POST", "/labs", status=201, json={"name": LAB, "repositories": [REPOSITORY]})
    as_root("POST", "/projects", status=201, json={"name": PROJECT})
    as_root("POST", "/users", status=201, json={"username": USER, "password": PASSWORD, "lab": [LAB]})
    as_root(
        "POST",
        "/subjects",
        status=201,
        json={"nickname": SUBJECT, "lab": LAB, "responsible_user": USER, "projects": [PROJECT]},
    )
    return as_root


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lab server's home: its Globus endpoint id, where ONE and ibllib look for it."""
    home = tmp_path_factory.mktemp("lab-server")
    (home / ".globusonline" / "lta").mkdir(parents=True)
    (home / ".globusonline" / "lta" / "client-id.txt").write_text(ENDPOINT)
    return home


def run_ibllib(stack: Stack, home: Path, command: str, *args: str) -> dict:
    env = {
        **os.environ,
        "HOME": str(home),
        "PYTHONPATH": os.pathsep.join([str(ibllib_path()), str(ROOT)]),
        "IBLLIB_USE_LOGGING": "0",
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.ibllib_lab", command, stack.url, USER, PASSWORD, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def rig_session(folder: Path) -> Path:
    """ibllib's own iblrig training session, in the lab server's Subjects folder."""
    test_data = ibllib_path() / "ibllib" / "tests" / "extractors" / "data" / "session_training_ge5"
    session = folder / LAB / "Subjects" / SUBJECT / DATE / "001"
    shutil.copytree(test_data / "raw_behavior_data", session / "raw_behavior_data")
    (session / "_ibl_experiment.description.yaml").write_text(DESCRIPTION)
    return session


def test_ibllib_registers_a_rig_session_and_its_lab_server_finds_the_tasks_left_to_it(
    stack: Stack, root: As, lab_server: Path, tmp_path: Path
) -> None:
    session_path = rig_session(tmp_path / "data")

    registered = run_ibllib(stack, lab_server, "register", str(session_path), str(tmp_path / "one"))

    session = root("GET", f"/sessions/{registered['session']}")
    assert (session["subject"], session["lab"], session["number"]) == (SUBJECT, LAB, 1)
    assert session["start_time"].startswith(DATE) and session["users"] == [USER]
    assert session["procedures"] == ["Behavior training/tasks"] and session["projects"] == [PROJECT]
    assert session["task_protocol"].startswith("_iblrig_tasks_trainingChoiceWorld")
    assert session["n_trials"] > 0 and 0 <= session["n_correct_trials"] <= session["n_trials"]
    [water] = session["wateradmin_session_related"]
    assert water["water_type"] == "Water 10% Sucrose" and water["water_administered"] > 0
    weighings = root("GET", "/weighings", params={"nickname": SUBJECT})["results"]
    assert [w["weight"] for w in weighings] == [123.0]
    assert "_iblrig_taskSettings.raw.json" in registered["files"]
    assert "_iblrig_taskData.raw.jsonable" in registered["files"]
    assert "_ibl_experiment.description.yaml" in registered["files"]
    datasets = root("GET", "/datasets", params={"session": registered["session"]})["results"]
    assert {d["dataset_type"] for d in datasets} >= {"_iblrig_taskSettings.raw", "_iblrig_taskData.raw"}

    # the lab server's job creator registers the tasks it runs itself; onecloud leaves them Waiting
    for name, repository in (("TrainingStatus", REPOSITORY), ("ElsewhereTask", "s3")):
        root(
            "POST",
            "/tasks",
            status=201,
            json={
                "name": name,
                "session": registered["session"],
                "executable": f"ibllib.pipes.behavior_tasks.{name}",
                "data_repository": repository,
                "status": "Waiting",
            },
        )

    found = run_ibllib(stack, lab_server, "tasks")

    assert found["waiting"] == ["TrainingStatus"]
    statuses = {t["name"]: t["status"] for t in root("GET", "/tasks", params={"lab": LAB})["results"]}
    assert statuses == {"TrainingStatus": "Waiting", "ElsewhereTask": "Waiting"}

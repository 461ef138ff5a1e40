"""`onecloud worker`: a lab server takes its lab's Waiting tasks and runs them with the same entrypoints
as AWS Batch, reporting each outcome through the API."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.localstack import ROOT, As, running

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    yield from running(tmp_path_factory.mktemp("worker") / "state")


def worker(stack, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / ".venv/bin/onecloud"), "worker", "--lab", "cortexlab", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_lab_worker_runs_its_labs_tasks_and_reports_them(stack):
    call = As(stack.url)
    call("POST", "/labs", status=201, json={"name": "cortexlab", "json": {"task_runner": "lab"}})  # no Batch
    call(
        "POST",
        "/users",
        status=201,
        json={"username": "rig", "password": "rig-password", "lab": ["cortexlab"]},
    )
    call("POST", "/subjects", status=201, json={"nickname": "KS023", "lab": "cortexlab"})
    session = call(
        "POST",
        "/sessions",
        status=201,
        json={"subject": "KS023", "start_time": "2024-01-31T10:00:00", "number": 1},
    )
    task = call(
        "POST",
        "/tasks",
        status=201,
        json={
            "name": "EphysCompress_probe00",
            "session": session["id"],
            "executable": "batch.ephys_compress",
            "arguments": {"collection": "raw_ephys_data/probe00"},
        },
    )
    env = {
        **os.environ,
        "ONECLOUD_URL": stack.url,
        "ONECLOUD_USERNAME": "rig",
        "ONECLOUD_PASSWORD": "rig-password",
        "ONECLOUD_AWS_ENDPOINT": f"http://127.0.0.1:{stack.aws_port}",
    }
    ran = worker(stack, env)
    assert ran.returncode == 1, ran.stdout + ran.stderr  # the session has no raw data: the job fails
    assert "EphysCompress_probe00" in ran.stdout and "Errored" in ran.stdout
    errored = call("GET", f"/tasks/{task['id']}")
    assert errored["status"] == "Errored"
    assert "expected one raw_ephys_data/probe00/*.ap.bin" in errored["log"]
    again = worker(stack, env)
    # nothing waiting (an Errored task waits for a restart), and it says so
    assert again.returncode == 0 and again.stdout == "no task of lab cortexlab is waiting\n"

"""`onecloud worker`: a lab server takes its lab's Waiting tasks and runs them with the same entrypoints
as AWS Batch, reporting each outcome through the API."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import requests

from tests.localstack import Stack

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("worker") / "state")
    stack.start()
    yield stack
    stack.interrupt()


def as_root(stack: Stack):
    token = requests.post(
        f"{stack.url}/auth-token", data={"username": "root", "password": "root-password"}, timeout=10
    ).json()["token"]

    def call(method: str, path: str, body=None):
        answer = requests.request(
            method, f"{stack.url}{path}", json=body, timeout=10, headers={"Authorization": f"Token {token}"}
        )
        assert answer.ok, answer.text
        return answer.json() if answer.content else None

    return call


def test_a_lab_worker_runs_its_labs_tasks_and_reports_them(stack):
    call = as_root(stack)
    call("POST", "/labs", {"name": "cortexlab", "json": {"task_runner": "lab"}})  # no Batch for this lab
    call("POST", "/users", {"username": "rig", "password": "rig-password", "lab": ["cortexlab"]})
    call("POST", "/subjects", {"nickname": "KS023", "lab": "cortexlab"})
    session = call(
        "POST", "/sessions", {"subject": "KS023", "start_time": "2024-01-31T10:00:00", "number": 1}
    )
    task = call(
        "POST",
        "/tasks",
        {
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
    ran = subprocess.run(
        [str(ROOT / ".venv/bin/onecloud"), "worker", "--lab", "cortexlab", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 1, ran.stdout + ran.stderr  # the session has no raw data: the job fails
    assert "EphysCompress_probe00" in ran.stdout and "Errored" in ran.stdout
    errored = call("GET", f"/tasks/{task['id']}")
    assert errored["status"] == "Errored"
    assert "expected one raw_ephys_data/probe00/*.ap.bin" in errored["log"]
    again = subprocess.run(
        [str(ROOT / ".venv/bin/onecloud"), "worker", "--lab", "cortexlab", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (
        again.returncode == 0 and again.stdout == ""
    )  # nothing waiting: an Errored task waits for a restart

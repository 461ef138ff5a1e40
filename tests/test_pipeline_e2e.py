"""The whole pipeline on the local stack, with no manual step: a lab uploads a session with raw ephys;
the S3 events register it and create the task graph; the job runner compresses the probe (mtscomp),
sorts it (SpikeInterface) and summarises the sorting for the website; every output is registered and
every task ends Complete; ONE loads the spikes."""

from __future__ import annotations

from pathlib import Path

import mtscomp
import numpy as np
import pytest

from onecloud.connect import connect
from tests.localstack import As, running, upload, wait_for

pytestmark = pytest.mark.e2e
LAB, SUBJECT, DAY = "cortexlab", "KS023", "2024-05-01"
STEM = "_spikeglx_ephysData_g0_t0.imec0.ap"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    yield from running(tmp_path_factory.mktemp("pipeline") / "state")


def raw_session(folder: Path) -> Path:
    """A session folder holding a probe's raw SpikeGLX binary and .meta (32 channels, 5 known units)."""
    from bench.sorting import write_ground_truth

    probe = folder / "raw_ephys_data" / "probe00"
    cbin, ch, meta, _ = write_ground_truth(probe, channels=32, seconds=10.0, units=5)
    mtscomp.decompress(cbin, ch, probe / f"{STEM}.bin", check_after_decompress=False)
    cbin.unlink()
    ch.unlink()
    return folder


def test_an_uploaded_raw_session_ends_compressed_and_sorted_with_every_task_complete(
    stack, tmp_path, monkeypatch
):
    call = As(stack.url)
    call("POST", "/labs", status=201, json={"name": LAB})
    call("POST", "/users", status=201, json={"username": "rig", "password": "rig-password", "lab": [LAB]})
    call("POST", "/subjects", status=201, json={"nickname": SUBJECT, "lab": LAB})
    folder = raw_session(tmp_path / LAB / "Subjects" / SUBJECT / DAY / "001")
    upload(stack.url, folder, LAB, "rig", "rig-password")
    (session,) = call("GET", f"/sessions?subject={SUBJECT}&date_range={DAY}")["results"]

    def finished():
        tasks = call("GET", f"/tasks?session={session['id']}")["results"]
        done = tasks and all(t["status"] in ("Complete", "Errored") for t in tasks)
        return tasks if done and len(tasks) == 3 else None

    tasks = {
        t["name"]: t
        for t in wait_for(finished, 900, "the compression, sorting and summary tasks did not finish")
    }
    for task in tasks.values():
        assert task["status"] == "Complete", f"{task['name']}: {task['log']}"
    names = {
        (d["collection"], d["name"])
        for d in call("GET", f"/datasets?session={session['id']}&limit=1000")["results"]
    }
    assert {("raw_ephys_data/probe00", f"{STEM}.cbin"), ("raw_ephys_data/probe00", f"{STEM}.ch")} <= names
    sorted_collection = "alf/probe00/tridesclous2"  # ONECLOUD_SORTER
    assert {(sorted_collection, "spikes.times.npy"), (sorted_collection, "clusters.metrics.pqt")} <= names
    assert (sorted_collection, "ephysSummary.probe.json") in names  # what the probe page draws

    monkeypatch.setenv("HOME", str(tmp_path))  # ONE keeps its parameters under the home folder
    one = connect(stack.url, "rig", "rig-password", cache_dir=tmp_path / "one")
    spikes = one.load_object(session["id"], "spikes", collection=sorted_collection, query_type="remote")
    assert len(spikes["times"]) == len(spikes["clusters"]) > 0
    assert np.all(np.diff(spikes["times"]) >= 0) and spikes["times"][-1] <= 10.0

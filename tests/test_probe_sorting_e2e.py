"""A whole Neuropixels probe through the local stack's pipeline with the default sorter.

The recording has all 384 channels of a real Neuropixels 1.0 ``.meta`` (a few seconds, known units),
uploaded compressed as rigs do: the default sorter corrects motion on a probe this long (on 32 channels
it skips it), which is where it once needed torch, which neither the local stack nor the Batch image has.
"""

from __future__ import annotations

import numpy as np
import pytest

from onecloud.connect import connect
from tests.localstack import As, running, upload, wait_for

pytestmark = pytest.mark.e2e
LAB, SUBJECT, DAY = "cortexlab", "KS023", "2024-05-02"
SORTED = "alf/probe00/tridesclous2"  # the default ONECLOUD_SORTER


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    yield from running(tmp_path_factory.mktemp("probe-sorting") / "state")


def test_a_whole_neuropixels_probe_uploaded_compressed_is_sorted_by_the_default_sorter(
    stack, tmp_path, monkeypatch
):
    from bench.sorting import write_ground_truth

    call = As(stack.url)
    call("POST", "/labs", status=201, json={"name": LAB})
    call("POST", "/users", status=201, json={"username": "rig", "password": "rig-password", "lab": [LAB]})
    call("POST", "/subjects", status=201, json={"nickname": SUBJECT, "lab": LAB})
    folder = tmp_path / LAB / "Subjects" / SUBJECT / DAY / "001"
    write_ground_truth(folder / "raw_ephys_data" / "probe00", channels=384, seconds=4.0, units=10, seed=2)
    upload(stack.url, folder, LAB, "rig", "rig-password")
    (session,) = call("GET", f"/sessions?subject={SUBJECT}&date_range={DAY}")["results"]

    def finished():
        tasks = {t["name"]: t for t in call("GET", f"/tasks?session={session['id']}")["results"]}
        done = len(tasks) == 2 and all(t["status"] in ("Complete", "Errored") for t in tasks.values())
        return tasks if done else None

    # a few minutes on a free machine; far longer on a loaded one
    tasks = wait_for(finished, 2400, "the sorting and summary tasks did not finish")
    assert set(tasks) == {"SpikeSorting_probe00", "EphysSummary_probe00"}
    for task in tasks.values():
        assert task["status"] == "Complete", f"{task['name']}: {task['log']}"

    monkeypatch.setenv("HOME", str(tmp_path))  # ONE keeps its parameters under the home folder
    one = connect(stack.url, "rig", "rig-password", cache_dir=tmp_path / "one")
    spikes = one.load_object(session["id"], "spikes", collection=SORTED, query_type="remote")
    assert len(spikes["times"]) == len(spikes["clusters"]) == len(spikes["depths"]) > 0
    channels = one.load_object(session["id"], "channels", collection=SORTED, query_type="remote")
    assert channels["localCoordinates"].shape == (384, 2)
    assert np.ptp(spikes["depths"]) > 1000  # units all along the 3.8 mm shank were found

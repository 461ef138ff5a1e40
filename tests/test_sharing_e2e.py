"""On the local stack: a rig uploads a real session (SWC_054's shortest, with a real wheel recording),
a lab member exports it with ``onecloud export-nwb`` (the ExportNWB job runs in the job runner) and
downloads a file that nwbinspector accepts and pynwb reads back as the ALF files."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from chalicelib.sharing import nwb
from tests.behaviour_data import SWC_054, swc_054_table
from tests.localstack import ROOT
from tests.webpages import PASSWORDS

pytestmark = pytest.mark.e2e
LAB, SUBJECT, DATE, RIG = "cortexlab", "SWC_054_share", "2020-09-02", "alice"
WHEEL = SWC_054.parent / "wheel" / "fpga.npz"


def onecloud(stack, *args: str, user: str = RIG, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "ONECLOUD_URL": stack.url, "ONECLOUD_USERNAME": user}
    env["ONECLOUD_PASSWORD"] = PASSWORDS[user]
    return subprocess.run(
        [str(ROOT / ".venv/bin/onecloud"), *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def uploaded_session(stack, tmp_path) -> str:
    """A session registered and uploaded as a rig does: its trials table and wheel."""
    rest = stack.rest
    assert (
        rest(
            "post",
            "/subjects",
            json={"nickname": SUBJECT, "lab": LAB, "sex": "F", "birth_date": "2020-05-01"},
        ).status_code
        == 201
    )
    created = rest(
        "post",
        "/sessions",
        user=RIG,
        json={"subject": SUBJECT, "start_time": f"{DATE}T09:00:00", "number": 1,
              "task_protocol": "_iblrig_tasks_biasedChoiceWorld6.4.2", "narrative": "exported to NWB"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    folder = tmp_path / LAB / "Subjects" / SUBJECT / DATE / "001"
    shutil.copytree(swc_054_table(DATE).parent.parent, folder)
    wheel = np.load(WHEEL)
    np.save(folder / "alf" / "_ibl_wheel.timestamps.npy", wheel["timestamps"])
    np.save(folder / "alf" / "_ibl_wheel.position.npy", wheel["position"])
    done = onecloud(stack, "upload", str(folder), "--lab", LAB)
    assert done.returncode == 0, done.stdout + done.stderr
    return created.json()["id"]


def test_a_member_exports_a_session_with_the_cli_and_gets_a_file_nwbinspector_accepts(ui_stack, tmp_path):
    eid = uploaded_session(ui_stack, tmp_path)
    output = tmp_path / "export.nwb"
    done = onecloud(ui_stack, "export-nwb", eid, "--url", ui_stack.url, "-o", str(output), timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"registered nwb/session.nwb.{SUBJECT}_{DATE}_001.nwb" in done.stdout
    assert nwb.severe(nwb.inspect(output)) == []

    from pynwb import NWBHDF5IO

    table = pd.read_parquet(swc_054_table(DATE))
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        trials = nwbfile.trials.to_dataframe()
        assert len(trials) == len(table) == 387
        np.testing.assert_array_equal(trials["choice"], table["choice"])
        np.testing.assert_array_equal(trials["stim_on_time"], table["stimOn_times"])
        assert nwbfile.processing["behavior"]["wheel_position"].data.shape == np.load(WHEEL)["position"].shape
        assert nwbfile.notes == "exported to NWB"

    refused = onecloud(ui_stack, "export-nwb", eid, "--url", ui_stack.url, user="bob")
    assert refused.returncode == 2 and "403" in refused.stderr

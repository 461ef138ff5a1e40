"""On the local stack: a rig uploads a real session (SWC_054's shortest, with a real wheel recording),
a lab member exports it with ``onecloud export-nwb`` (the ExportNWB job runs in the job runner) and
downloads a file that nwbinspector accepts and pynwb reads back as the ALF files. A superuser then
publishes a citable release of the session with its NWB file (a draft first), and an anonymous visitor
finds it in Chromium, reads how to cite it, browses and downloads its files, downloads the NWB file, and
runs the page's ONE snippet as pasted (screenshots under test-output/screenshots/)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

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


@pytest.fixture(scope="module")
def exported(ui_stack, tmp_path_factory) -> tuple[str, Path, subprocess.CompletedProcess]:
    """The session uploaded and exported with the CLI (once for the module)."""
    folder = tmp_path_factory.mktemp("sharing")
    eid = uploaded_session(ui_stack, folder)
    output = folder / "export.nwb"
    done = onecloud(ui_stack, "export-nwb", eid, "--url", ui_stack.url, "-o", str(output), timeout=900)
    return eid, output, done


def test_a_member_exports_a_session_with_the_cli_and_gets_a_file_nwbinspector_accepts(ui_stack, exported):
    eid, output, done = exported
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


def test_an_anonymous_visitor_finds_cites_browses_downloads_and_loads_a_release(ui, exported, tmp_path):
    eid, _, done = exported
    assert done.returncode == 0, done.stdout + done.stderr
    rest = ui.stack.rest
    drafted = rest(
        "post",
        "/releases",
        json={"name": "swc054_share", "draft": True, "nwb": True, "query": {"sessions": [eid]},
              "title": "SWC_054 biased choice world, with NWB", "licence": "CC-BY-4.0",
              "description": "One session of the IBL task: trials, wheel, and the session as NWB.",
              "contributors": [{"name": "Wells, Miles", "orcid": "0000-0002-1825-0097", "affiliation": "UCL"},
                               {"name": "International Brain Laboratory", "organisation": True}],
              "keywords": ["mouse", "decision making", "IBL"]},
    )  # fmt: skip
    assert drafted.status_code == 201, drafted.text
    assert drafted.json()["check"]["publishable"] is True, drafted.json()["check"]
    published = rest("post", "/releases/swc054_share/publish", json={})
    assert published.status_code == 201, published.text
    release = published.json()

    page = ui.new_page()
    page.goto(f"{ui.stack.url}/ui")
    page.get_by_role("link", name="Public releases").click()
    row = page.locator("#releases tbody tr", has_text="SWC_054 biased choice world, with NWB")
    assert row.locator("td.num").all_inner_texts()[:3] == ["1", "1", str(release["dataset_count"])]
    ui.shot(page, "releases")
    row.get_by_role("link").click()
    page.wait_for_url(f"{ui.stack.url}/ui/releases/swc054_share")
    assert page.locator("#citation").inner_text() == release["citation"]
    assert release["citation"].startswith("Wells, M.; International Brain Laboratory (")
    assert (
        "Creative Commons Attribution 4.0" in page.get_by_role("link", name="Creative Commons").inner_text()
    )
    embedded = json.loads(page.locator('script[type="application/ld+json"]').text_content())
    assert embedded["@type"] == "Dataset" and embedded["version"] == release["version"]
    ui.shot(page, "release")

    # the file browser: each file downloads through the public presigned redirect
    assert page.locator("#session-path").inner_text().endswith(f"{SUBJECT}/{DATE}/001")
    trials = page.locator("table.collection a", has_text="_ibl_trials.table.pqt")
    body = requests.get(trials.get_attribute("href"), timeout=60)
    assert body.status_code == 200 and body.content == swc_054_table(DATE).read_bytes()
    nwb_link = page.locator("#nwb a", has_text=f"session.nwb.{SUBJECT}_{DATE}_001")
    downloaded = tmp_path / "from-the-page.nwb"
    downloaded.write_bytes(requests.get(nwb_link.get_attribute("href"), timeout=60).content)
    assert nwb.severe(nwb.inspect(downloaded)) == []

    # the "load it with ONE" box, pasted into Python as it is
    snippet = page.locator("#one-snippet").inner_text()
    home = tmp_path / "home"
    home.mkdir()
    ran = subprocess.run(
        [sys.executable, "-c", snippet],
        env={**os.environ, "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.strip().endswith("387 trials"), ran.stdout

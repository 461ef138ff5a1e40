"""The probe and cluster pages in Chromium on a session sorted by the local stack: a lab member uploads a
probe compressed on the rig and the session's trials; the stack sorts the probe and summarises it; the
pages draw the summaries, the cluster table sorts and filters, and the raw-data viewer streams a window
of the recording in the browser with the sorting's spikes on it. Screenshots for the README."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.localstack import upload, wait_for

pytestmark = pytest.mark.e2e
SUBJECT, DAY = "EPHYS01", "2024-08-01"


def trials_table(n: int = 9) -> pd.DataFrame:
    """Trials of one second each over the 10-s recording, every split and a no-go among them."""
    start = np.arange(n) + 0.5
    choice = np.array([1, -1, 1, -1, 0, 1, -1, 1, -1])[:n]
    side = np.array([-1, 1, 1, -1, 1, -1, 1, -1, 1])[:n]  # stimulus left (-1) or right; choice 1 is leftward
    return pd.DataFrame(
        {
            "intervals_0": start,
            "intervals_1": start + 0.9,
            "stimOn_times": start + 0.1,
            "goCue_times": start + 0.1,
            "firstMovement_times": start + 0.3,
            "response_times": start + 0.4,
            "feedback_times": start + 0.45,
            "choice": choice.astype(float),
            "feedbackType": np.where(((choice == 1) & (side < 0)) | ((choice == -1) & (side > 0)), 1.0, -1.0),
            "contrastLeft": np.where(side < 0, 1.0, np.nan),
            "contrastRight": np.where(side > 0, 1.0, np.nan),
            "probabilityLeft": np.full(n, 0.5),
            "rewardVolume": np.full(n, 1.5),
        }
    )


@pytest.fixture(scope="module")
def sorted_session(ui_stack, tmp_path_factory) -> str:
    from bench.sorting import write_ground_truth

    answer = ui_stack.rest("post", "/subjects", json={"nickname": SUBJECT, "lab": "cortexlab"})
    assert answer.status_code == 201, answer.text
    folder = tmp_path_factory.mktemp("ephys") / "cortexlab" / "Subjects" / SUBJECT / DAY / "001"
    write_ground_truth(folder / "raw_ephys_data" / "probe00", channels=32, seconds=10.0, units=5)
    (folder / "alf").mkdir()
    trials_table().to_parquet(folder / "alf" / "_ibl_trials.table.pqt", index=False)
    upload(ui_stack.url, folder, "cortexlab", "alice", "alice-pw")
    (session,) = ui_stack.rest("get", f"/sessions?subject={SUBJECT}").json()["results"]

    def summarised():
        tasks = {
            t["name"]: t for t in ui_stack.rest("get", f"/tasks?session={session['id']}").json()["results"]
        }
        # the session names no task protocol, so its TrainingStatus ends Errored saying so, by design
        errored = [t for t in tasks.values() if t["status"] == "Errored" and t["name"] != "TrainingStatus"]
        assert not errored, errored[0]["log"]
        summary = tasks.get("EphysSummary_probe00")
        return summary and summary["status"] == "Complete"

    wait_for(summarised, 1200, "the probe was not sorted and summarised", every=3)
    return session["id"]


def test_the_probe_page_shows_depth_plots_a_sortable_cluster_table_and_streams_raw_data(ui, sorted_session):
    page = ui.page("alice", width=1280, height=1000)
    base = f"/sessions/{sorted_session}/probes/probe00"
    ui.goto(page, "/ephys")
    page.get_by_role("link", name=f"{SUBJECT} {DAY} #1").click()
    page.wait_for_url(f"**/ui{base}")
    assert page.get_by_role("heading", level=1).inner_text().startswith("probe00")
    for title in (
        "Depth raster",
        "Firing rate by depth",
        "Amplitude by depth",
        "Depth PETH around stimulus onset",
    ):
        assert page.locator(f'svg[aria-label^="{title}"]').count() >= 1, title
    rows = page.locator("#clusters tbody tr")
    assert rows.count() >= 3
    page.get_by_role("link", name="snr").click()  # sorted by SNR, highest first
    snr = page.locator("#clusters thead th").all_inner_texts().index("snr ▼")
    values = [float(row.locator("td, th").nth(snr).inner_text()) for row in rows.all()]
    assert values == sorted(values, reverse=True)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.get_by_role("button", name="Show").click()
    finished = '#raw-viewer[data-state="drawn"], #raw-viewer[data-state="error"]'
    page.wait_for_selector(finished, timeout=120_000)
    viewer = page.locator("#raw-viewer")
    assert viewer.get_attribute("data-state") == "drawn", (page.locator("#raw-status").inner_text(), problems)
    assert int(viewer.get_attribute("data-spikes-drawn")) > 0
    assert int(viewer.get_attribute("data-bytes")) < 2_000_000  # one compressed chunk, not the file
    assert "0.100 s from 5.000 s: 33 channels" in page.locator("#raw-status").inner_text()
    ui.shot(page, "ephys-probe")
    page.get_by_role("link", name="Show good units only").click()
    assert all(
        row.locator("td").last.inner_text() == "good" for row in page.locator("#clusters tbody tr").all()
    )


def test_the_cluster_page_shows_waveform_autocorrelogram_amplitudes_and_rasters(ui, sorted_session):
    page = ui.page("alice", width=1280, height=1000)
    ui.goto(page, f"/sessions/{sorted_session}/probes/probe00")
    page.locator("#clusters tbody tr th a").first.click()
    page.wait_for_url("**/clusters/*")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Cluster ")
    for title in (
        "Template of cluster",
        "Autocorrelogram",
        "Amplitude over time",
        "Raster around stimulus onset",
    ):
        assert page.locator(f'svg[aria-label^="{title}"]').count() == 1, title
    assert page.get_by_text("correct left (").count() == 1  # the PSTH legend counts each split's trials
    page.get_by_label("Aligned to").select_option("feedback")
    page.get_by_label("Trials sorted by").select_option("rt")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**align=feedback**")
    assert (
        page.locator('svg[aria-label^="Raster around feedback, sorted by response - stimulus onset"]').count()
        == 1
    )
    ui.shot(page, "ephys-cluster")

"""What a newcomer does, on a fresh local stack: ``onecloud demo`` sends a small seeded colony through the
REST API and presigned uploads (its TrainingStatus tasks run through the job runner), then ``onecloud
analyses training-time`` runs the paper's Fig. 2 analysis as a Batch job over what the pipeline stored, and
the run's page shows the four panels and the mice left out in Chromium. The design matrix is a dataset of
no session that ONE's aggregate query lists. The screenshot is the README's
(``test-output/screenshots/training-time.png``)."""

from __future__ import annotations

import re
import subprocess
import time

import pytest
import requests

from tests.localstack import ROOT, ROOT_PASSWORD, ROOT_USER, As, running
from tests.webpages import Browser

pytestmark = pytest.mark.e2e
# 11 mice learning fast (134 sessions) of which 11 enter the design matrix: enough for ten-fold
# cross-validation, in minutes (``onecloud demo --help``)
DEMO = ("--mice", "11", "--seed", "7", "--speed", "3")
PROJECT = "ibl_neuropixel_brainwide_01"  # the demo colony's project


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    state = tmp_path_factory.mktemp("training-time-stack") / "state"
    state.mkdir()
    yield from running(state)


def onecloud(stack, *args: str, timeout: float) -> subprocess.CompletedProcess:
    env = {**stack.env, "ONECLOUD_USERNAME": ROOT_USER, "ONECLOUD_PASSWORD": ROOT_PASSWORD}
    return subprocess.run(
        [str(ROOT / ".venv/bin/onecloud"), *args, "--url", stack.url],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class _Stack:
    """What ``Browser`` needs of a stack: its URL."""

    def __init__(self, url: str) -> None:
        self.url = url


def test_the_demo_then_the_analysis_show_fig2_for_the_demo_cohort(stack, _playwright, request):
    started = time.monotonic()
    demo = onecloud(stack, "demo", *DEMO, timeout=1200)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    assert "sent 11 mice in 4 labs, 134 sessions, 670 files" in demo.stdout
    root = As(stack.url)
    tasks = root("GET", "/tasks?name=TrainingStatus&limit=1000")["results"]
    assert len(tasks) == 134 and {t["status"] for t in tasks} == {"Complete"}
    demo_seconds = time.monotonic() - started

    analysis = onecloud(stack, "analyses", "training-time", "--shuffles", "20", timeout=900)
    assert analysis.returncode == 0, analysis.stdout[-2000:] + analysis.stderr[-2000:]
    run_id = re.search(r"run (\S+) submitted", analysis.stdout).group(1)
    run = root("GET", f"/analyses/training-time/{run_id}")
    assert run["status"] == "Complete", run
    results = run["results"]
    assert results["n_mice"] >= 10 and len(results["shuffled_f1"]["full"]) == 20
    # the design matrix: a dataset of the demo project, which ONE lists with the aggregates
    collection = f"Projects/{PROJECT}/trainingTime/{run_id}"
    assert results["design_matrix"]["collection"] == collection
    aggregates = root("GET", "/datasets?django=session__isnull,True")["results"]
    assert [(d["collection"], d["name"]) for d in aggregates] == [
        (collection, "trainingTime.designMatrix.pqt")
    ]

    ui = Browser(_playwright, _Stack(stack.url), request.node.name)
    try:
        page = ui.new_page(width=1400, height=1000)
        page.goto(f"{stack.url}/ui/login")
        page.get_by_label("Username").fill(ROOT_USER)
        page.get_by_label("Password").fill(ROOT_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{stack.url}/ui")
        page.goto(f"{stack.url}/ui/analyses/training-time/{run_id}")
        for panel in ("a", "b", "c", "d"):
            assert page.locator(f"#panel-{panel} svg").count() == 1, panel
        for title in (
            "Training time",
            "Confusion matrix",
            "F1 against label shuffles",
            "Permutation importance",
        ):
            assert page.get_by_text(title, exact=False).count() >= 1, title
        excluded = results["excluded"]
        heading = page.get_by_role("heading", name=f"Mice left out ({len(excluded)})")
        assert heading.count() == 1
        for left_out in excluded:
            assert page.locator("table.excluded").get_by_text(left_out["reason"]).count() >= 1
        assert page.locator("#matrix-dataset").inner_text() == f"{collection}/trainingTime.designMatrix.pqt"
        link = page.get_by_role("link", name="Design matrix").get_attribute("href")
        assert requests.get(link, timeout=30).content[:4] == b"PAR1"  # a Parquet file
        ui.shot(page, "training-time")
    finally:
        ui.close()
    print(f"demo {demo_seconds:.0f} s, analysis and page {time.monotonic() - started - demo_seconds:.0f} s")

"""Runs of the training-time analysis through the API and the pages: options are checked (a 400 names
what is wrong), a run is submitted as a Batch job and followed, its stored results draw Fig. 2's four
panels and the excluded mice, and two runs show side by side."""

from __future__ import annotations

import numpy as np

from app import app
from batch import training_time as job
from chalicelib import aws
from chalicelib.analyses.training_time import features, model, runs
from chalicelib.analyses.training_time.figures import panels
from tests.webpages import PASSWORDS

LATE = "missing first session (its first training day is day 2)"


def results_of(seed: int) -> dict:
    rng = np.random.RandomState(seed)
    rows = [
        {"mouse": f"M{i}", "lab": "cortexlab", "trained_date": "2020-01-01", "training_time": int(t),
         **{c: float(rng.rand()) + (t / 10 if c == "perf_delta1" else 0) for c in features.COLUMNS}}
        for i, t in enumerate(rng.randint(5, 50, 24))
    ]  # fmt: skip
    document = model.analyse(model.DesignMatrix(rows), seed=seed, shuffles=3)
    document.update(
        training_times=[r["training_time"] for r in rows],
        excluded=[{"mouse": "late", "lab": "cortexlab", "reason": LATE}],
        seeds={"forest": seed}, versions=job.versions(), seconds=1.0, options=runs.DEFAULTS,
        design_matrix={"registered": True, "dataset": "d-1", "name": runs.MATRIX,
                       "collection": "Projects/brainwide/trainingTime/run"},
    )  # fmt: skip
    return document


def stored_run(run_id: str, seed: int) -> dict:
    results = results_of(seed)
    summary = {"n_mice": results["n_mice"], "f1": results["f1"], "excluded": 1}
    options = {**runs.DEFAULTS, "seed": seed}
    run = {"id": run_id, "options": options, "status": "Complete", "created": run_id, "user": "alice"}
    runs.write(run_id, "run.json", {**run, "summary": summary})
    runs.write(run_id, "results.json", results)
    aws.client("s3").put_object(
        Bucket=aws.settings().data_bucket, Key=runs.key(run_id, runs.MATRIX), Body=b"x"
    )
    return results


def test_bad_options_are_a_400_naming_them(api):
    for body, words in (
        ({"mode": "fast"}, "mode must be one of paper, methods"),
        ({"cutoff": "23/03/2020"}, "cutoff must be a date"),
        ({"seed": -1}, "seed must be a whole number"),
        ({"shufles": 10}, "unknown options shufles"),
    ):
        answer = api.post("/analyses/training-time", body)
        assert answer.status_code == 400 and words in answer.json_body["detail"], answer.json_body


def test_a_run_is_submitted_as_a_batch_job_and_followed(api):
    run = api.post("/analyses/training-time", {"lab": "cortexlab", "seed": 3}).json_body
    assert run["status"] == "Submitted" and run["options"]["seed"] == 3 and run["job_id"]
    submitted = aws.client("batch").describe_jobs(jobs=[run["job_id"]])["jobs"][0]
    assert submitted["container"]["command"] == ["python", "-m", "batch.training_time", run["id"]]
    assert job.main([run["id"]]) == 1  # no mouse in scope: fewer than ten mice to cross-validate
    followed = api.get(f"/analyses/training-time/{run['id']}").json_body
    assert followed["status"] == "Errored" and "at least 10" in followed["error"]
    assert api.get("/analyses/training-time/nope").status_code == 404


def test_a_run_page_draws_the_four_panels_and_lists_the_excluded_mice(web, cloud):
    results = stored_run("20261129T100000-aaaaaa", 0)
    web.login("alice", PASSWORDS["alice"])
    page = web.get("/ui/analyses/training-time/20261129T100000-aaaaaa")
    assert page.status == 200
    assert page.text.count("<svg") == 4
    for title in ("Training time", "Confusion matrix", "F1 against label shuffles", "Permutation importance"):
        assert title in page
    assert LATE in page
    assert f"{results['n_mice']} mice" in page and "Design matrix" in page
    assert "Projects/brainwide/trainingTime/run/trainingTime.designMatrix.pqt" in page  # the dataset


def test_two_runs_side_by_side(web, cloud):
    stored_run("20261129T100000-aaaaaa", 0)
    stored_run("20261129T110000-bbbbbb", 1)
    web.login("alice", PASSWORDS["alice"])
    listed = web.get("/ui/analyses/training-time")
    assert "20261129T110000-bbbbbb" in listed and "20261129T100000-aaaaaa" in listed
    compared = web.get("/ui/analyses/training-time", a="20261129T100000-aaaaaa", b="20261129T110000-bbbbbb")
    assert "Two runs side by side" in compared and "seed=0" in compared and "seed=1" in compared


def test_panels_are_svg_from_stored_numbers_only():
    drawn = panels(results_of(2))
    assert set(drawn) == {"histogram", "confusion", "f1", "importance"}
    assert all(svg.startswith("<svg") for svg in drawn.values())
    assert app  # the routes are registered with the app


def test_a_days_weighings_and_water_go_in_one_request(api):
    api.post("/subjects", {"nickname": "BULK_1", "lab": "cortexlab"})
    weighings = [
        {"subject": "BULK_1", "date_time": f"2020-01-0{d}T08:00:00", "weight": 20 + d} for d in (1, 2, 3)
    ]
    answer = api.post("/weighings", weighings)
    assert answer.status_code == 201 and [w["weight"] for w in answer.json_body] == [21, 22, 23]
    given = {"date_time": "2020-01-01T17:00:00", "water_administered": 1.0}
    water = [{"subject": "BULK_1", **given}, {"subject": "NOBODY", **given}]
    assert api.post("/water-administrations", water).status_code == 400  # one bad record: none written
    assert api.get("/water-administrations?subject=BULK_1").json_body["count"] == 0


def test_the_design_matrix_is_an_aggregate_dataset_of_the_runs_project(api):
    """ONE lists it with the datasets of no session (``one.list_aggregates('projects')``)."""
    from chalicelib.models import Subject

    api.post("/projects", {"name": "brainwide", "description": "the cohort"})
    for nickname in ("M1", "M2"):
        api.post("/subjects", {"nickname": nickname, "lab": "cortexlab", "projects": ["brainwide"]})
    subjects = list(Subject.by_lab.query("cortexlab"))
    owner = job.matrix_owner(runs.DEFAULTS, subjects)  # no project named: the one the mice share
    stored = job.register_matrix("20261129T100000-aaaaaa", b"matrix bytes", owner)
    assert (
        stored["registered"]
        and stored["collection"] == "Projects/brainwide/trainingTime/20261129T100000-aaaaaa"
    )
    [listed] = api.get("/datasets?django=session__isnull,True").json_body["results"]
    assert (listed["id"], listed["name"], listed["dataset_type"]) == (
        stored["dataset"],
        "trainingTime.designMatrix.pqt",
        "trainingTime.designMatrix",
    )
    assert listed["file_records"][0]["data_url"].endswith(
        "/aggregates/Projects/brainwide/trainingTime/20261129T100000-aaaaaa/"
        f"trainingTime.designMatrix.{stored['dataset']}.pqt"
    )
    assert job.register_matrix("x", b"", job.matrix_owner(runs.DEFAULTS, [])) == {
        "registered": False,
        "reason": "the run names no project or lab and its mice share no project",
    }

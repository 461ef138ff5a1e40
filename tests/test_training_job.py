"""The TrainingStatus job as Batch runs it: registering a session's trials creates its task once, the job
reads the subject's trials from S3 (one table or separate files, same answers), stores the subject's
trained_criteria through the REST update path, the training table and psychometric datasets, and the
pages' documents; malformed trials end the task Errored with the reason and change nothing."""

from __future__ import annotations

import io

import numpy as np
import pyarrow.parquet as pq

from app import app
from batch import jobs
from batch import training_status as job
from chalicelib import aws, pipeline
from chalicelib.behaviour import results
from chalicelib.datasets import datasets_of_session
from chalicelib.models import Task
from onecloud.pump import EventPump
from tests.behaviour_data import swc_054_sessions, swc_054_table

LAB = "cortexlab"
DATES = ("2020-08-21", "2020-08-24", "2020-08-25", "2020-08-26")  # SWC_054 up to trained 1a
PROTOCOLS = {s["date"]: s["task_protocol"] for s in swc_054_sessions()}


def make_sessions(api, subject: str, dates=DATES) -> dict[str, str]:
    api.post("/subjects", {"nickname": subject, "lab": LAB})
    return {
        date: api.post(
            "/sessions",
            {"subject": subject, "start_time": f"{date}T10:00:00", "end_time": f"{date}T10:50:30",
             "number": 1, "task_protocol": PROTOCOLS[date]},
        ).json_body["id"]
        for date in dates
    }  # fmt: skip


def land(key: str, body: bytes) -> None:
    aws.client("s3").put_object(Bucket=aws.settings().data_bucket, Key=key, Body=body)
    EventPump(app).drain()


def land_table(subject: str, date: str, body: bytes | None = None) -> None:
    land(
        f"{LAB}/Subjects/{subject}/{date}/001/alf/_ibl_trials.table.pqt",
        body or swc_054_table(date).read_bytes(),
    )


def land_separate_files(subject: str, date: str) -> None:
    table = pq.read_table(swc_054_table(date))
    for name in table.column_names:
        buffer = io.BytesIO()
        np.save(buffer, table.column(name).to_numpy())
        land(f"{LAB}/Subjects/{subject}/{date}/001/alf/_ibl_trials.{name}.npy", buffer.getvalue())


def training_task(session_id: str) -> Task | None:
    return next((t for t in Task.by_session.query(session_id) if t.name == "TrainingStatus"), None)


def run_task(task: Task) -> int:
    """What Batch and the job runner do: run the job, then deliver its final state."""
    code = jobs.run(job.training_status, [task.id])
    status = "SUCCEEDED" if code == 0 else "FAILED"
    pipeline.on_job_state(
        {"jobId": Task.get(task.id).job_id, "status": status, "parameters": {"task_id": task.id}}
    )
    return code


def upload_and_run(api, subject: str, land_trials=land_table, dates=DATES) -> dict[str, str]:
    sessions = make_sessions(api, subject, dates)
    for date in dates:
        land_trials(subject, date)
        assert run_task(training_task(sessions[date])) == 0
    return sessions


def stored_rows(subject: str) -> list[dict]:
    return results.subject_training(LAB, subject)["rows"]


def test_trials_create_one_training_task_submitted_to_batch(api):
    sessions = make_sessions(api, "SWC_054", DATES[:1])
    land_table("SWC_054", DATES[0])
    land_table("SWC_054", DATES[0])  # announced twice
    tasks = [t for t in Task.by_session.query(sessions[DATES[0]])]
    assert [t.name for t in tasks] == ["TrainingStatus"]
    (job_) = aws.client("batch").describe_jobs(jobs=[tasks[0].job_id])["jobs"][0]
    assert job_["jobDefinition"].split("/")[-1].startswith(aws.settings().training_job_definition)
    assert (tasks[0].graph, tasks[0].executable) == ("TrainingPipeline", "batch.training_status")


def test_the_job_stores_trained_criteria_tables_and_page_documents(api):
    sessions = upload_and_run(api, "SWC_054")
    subject = api.get("/subjects/SWC_054").json_body
    criteria = subject["json"]["trained_criteria"]
    assert criteria["trained_1a"] == ["2020-08-26", sessions["2020-08-26"]]
    assert criteria["in_training"] == ["2020-08-21", sessions["2020-08-21"]]
    assert "trained_1b" not in criteria
    EventPump(app).drain()  # the job's outputs are registered like any upload
    latest = {d.relative_path for d in datasets_of_session(sessions["2020-08-26"])}
    assert {"alf/_ibl_subjectTraining.table.pqt", "alf/_ibl_psychometric.table.pqt"} <= latest
    table = pq.read_table(
        io.BytesIO(
            job.read_object(f"{LAB}/Subjects/SWC_054/2020-08-26/001/alf/_ibl_subjectTraining.table.pqt")
        )
    ).to_pandas()
    assert table["training_status"].tolist() == ["in training"] * 3 + ["trained 1a"]
    assert table["n_trials"].tolist() == [719, 532, 617, 752]
    assert table["sess_duration"].tolist() == [50.5] * 4
    page = results.session_analyses(sessions["2020-08-26"])
    assert page["n_trials"] == 752 and [b["prob_left"] for b in page["blocks"]] == [0.5]
    assert len(page["rt_rolling_median"]) == 752
    doc = results.subject_training(LAB, "SWC_054")
    assert doc["assessments"]["2020-08-26"]["criteria"]["Criteria"]["val"] == "trained_1b"
    assert Task.get(training_task(sessions["2020-08-26"]).id).status == "Complete"


def test_separate_trials_files_give_the_same_table_as_one_table(api):
    upload_and_run(api, "SWC_054", dates=DATES[:2])
    upload_and_run(api, "SWC_055", land_trials=land_separate_files, dates=DATES[:2])
    differ = {"eid", "session_path", "fingerprint"}  # the sessions, not the numbers

    def numbers(subject):
        return [{k: v for k, v in row.items() if k not in differ} for row in stored_rows(subject)]

    assert numbers("SWC_054") == numbers("SWC_055") and len(numbers("SWC_054")) == 2


def test_malformed_trials_end_the_task_errored_with_the_reason_and_keep_the_table(api, capsys):
    sessions = make_sessions(api, "SWC_054")
    for date in DATES[:3]:
        land_table("SWC_054", date)
        assert run_task(training_task(sessions[date])) == 0
    before = results.subject_training(LAB, "SWC_054")
    table = pq.read_table(swc_054_table(DATES[3])).drop(["choice"])
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    land_table("SWC_054", DATES[3], buffer.getvalue())
    assert run_task(training_task(sessions[DATES[3]])) == 1
    captured = capsys.readouterr()
    assert "missing choice" in captured.out + captured.err
    assert Task.get(training_task(sessions[DATES[3]]).id).status == "Errored"
    assert results.subject_training(LAB, "SWC_054") == before
    assert "trained_1a" not in api.get("/subjects/SWC_054").json_body["json"]["trained_criteria"]


def test_new_trials_for_a_finished_session_run_its_task_again(api):
    sessions = make_sessions(api, "SWC_054", DATES[:1])
    land_table("SWC_054", DATES[0])
    task = training_task(sessions[DATES[0]])
    assert run_task(task) == 0 and Task.get(task.id).status == "Complete"
    land_table("SWC_054", DATES[0])  # the same content: nothing to do
    assert Task.get(task.id).status == "Complete"
    land_table("SWC_054", DATES[0], swc_054_table(DATES[1]).read_bytes())  # new content
    again = Task.get(task.id)
    assert again.status == "Waiting" and again.job_id  # submitted again
    assert run_task(again) == 0
    assert stored_rows("SWC_054")[0]["n_trials"] == 532  # the 2020-08-24 table now


def test_one_job_computes_the_subjects_waiting_sessions_and_their_jobs_never_start(api, monkeypatch):
    """A rig's sessions arrive faster than jobs run: the first job computes them all, completes the
    waiting tasks with their own outputs, and the local runner does not start their (cancelled) jobs."""
    from onecloud.runner import JobRunner

    sessions = make_sessions(api, "SWC_054")
    for date in DATES:
        land_table("SWC_054", date)
    tasks = {date: training_task(sessions[date]) for date in DATES}
    assert {t.status for t in tasks.values()} == {"Waiting"}  # submitted, none started
    first = tasks[DATES[1]]  # any of them: the runner takes jobs in the order it finds them
    assert run_task(first) == 0
    EventPump(app).drain()
    done = {date: Task.get(t.id) for date, t in tasks.items()}
    assert {t.status for t in done.values()} == {"Complete"}
    for date, task in done.items():
        paths = {d.relative_path for d in datasets_of_session(sessions[date])}
        assert "alf/_ibl_psychometric.table.pqt" in paths, date
        assert results.session_analyses(sessions[date])["date"] == date
        assert set(task.arguments["inputs"]) == {"alf/_ibl_trials.table.pqt"}
        if date != DATES[1]:
            assert task.job_id == done[DATES[1]].job_id and f"task {first.id}" in task.log
    assert [r["training_status"] for r in stored_rows("SWC_054")] == ["in training"] * 3 + ["trained 1a"]

    def no_process(*args, **kwargs):
        raise AssertionError("a cancelled job was started")

    monkeypatch.setattr("onecloud.runner.subprocess.Popen", no_process)
    runner = JobRunner(app)
    for date in (DATES[0], *DATES[2:]):
        cancelled = pipeline.superseded(tasks[date].job_id, {"task_id": tasks[date].id})
        assert cancelled == f"task {tasks[date].id} was completed by job {done[DATES[1]].job_id}"
        runner.run(tasks[date].job_id)  # its FAILED (cancelled) event leaves the task as it is
        assert Task.get(tasks[date].id).status == "Complete"
    assert pipeline.superseded(first.job_id, {"task_id": first.id}) is None
    assert pipeline.superseded("a-job", {"run_id": "an-analysis-run"}) is None  # not a task's job


def test_the_local_runner_runs_two_subjects_jobs_at_once_and_one_subjects_jobs_one_after_another(
    api, monkeypatch
):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from onecloud.runner import JobRunner

    runner = JobRunner(app)
    runner.new_jobs()  # the jobs earlier tests left in moto's Batch are not this test's
    tasks = {}
    for subject in ("SWC_054", "SWC_055"):
        sessions = make_sessions(api, subject, DATES[:2])
        for date in DATES[:2]:
            land_table(subject, date)
            tasks[subject, date] = training_task(sessions[date])
    release, started, two = threading.Event(), [], threading.Semaphore(0)

    def run(job_id: str) -> None:
        started.append(job_id)
        two.release()
        release.wait(30)

    monkeypatch.setattr(runner, "run", run)
    running: dict = {}
    with ThreadPoolExecutor(4) as pool:
        runner.start_waiting(pool, running)
        assert two.acquire(timeout=30) and two.acquire(timeout=30)
        first_jobs = set(started)
        release.set()
        for future in list(running):
            future.result(timeout=30)
        runner.start_waiting(pool, running)
    subjects = {runner._subject_of(job_id) for job_id in first_jobs}
    assert len(first_jobs) == 2 and subjects == {f"{LAB}/SWC_054", f"{LAB}/SWC_055"}
    assert set(started) == {task.job_id for task in tasks.values()}  # the others after them

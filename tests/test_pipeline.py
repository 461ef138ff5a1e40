"""The task pipeline: raw ephys creates its task graph once; Batch job states move tasks along; a
failure leaves its task Errored with its log, and a restart runs it again; a claim is won once."""

from __future__ import annotations

import threading
import time

import pytest

from app import app
from chalicelib import aws, pipeline
from chalicelib.errors import Conflict
from chalicelib.models import Task
from onecloud.pump import EventPump
from onecloud.runner import JobRunner

SESSION = "cortexlab/Subjects/KS023/2024-01-31/001"
RAW = f"{SESSION}/raw_ephys_data/probe00/_spikeglx_ephysData_g0_t0.imec0.ap"


@pytest.fixture
def session(api):
    api.post("/subjects", {"nickname": "KS023", "lab": "cortexlab"})
    return api.post(
        "/sessions", {"subject": "KS023", "start_time": "2024-01-31T10:00:00", "number": 1}
    ).json_body


def land(*keys: str) -> None:
    """Objects arrive in the bucket (as a rig or a job writes them) and their events are delivered."""
    for key in keys:
        aws.client("s3").put_object(Bucket=aws.settings().data_bucket, Key=key, Body=b"\x00\x01" * 64)
    EventPump(app).drain()


def tasks(session_id: str) -> dict[str, Task]:
    return {t.name: t for t in pipeline.Task.by_session.query(session_id)}


def state(job_id: str, task_id: str, status: str, **extra) -> dict:
    return {"jobId": job_id, "status": status, "parameters": {"task_id": task_id}, **extra}


def batch_job(job_id: str) -> dict:
    (job,) = aws.client("batch").describe_jobs(jobs=[job_id])["jobs"]
    return job


def test_raw_ephys_creates_its_task_graph_once(api, session):
    land(f"{RAW}.bin")
    assert tasks(session["id"]) == {}  # the meta file is missing: nothing can run yet
    land(f"{RAW}.meta")
    land(f"{RAW}.meta")  # delivered again
    graph = tasks(session["id"])
    assert sorted(graph) == ["EphysCompress_probe00", "EphysSummary_probe00", "SpikeSorting_probe00"]
    compress, sort = graph["EphysCompress_probe00"], graph["SpikeSorting_probe00"]
    assert (compress.status, sort.status, sort.parents) == ("Waiting", "Held", [compress.id])
    assert (graph["EphysSummary_probe00"].status, graph["EphysSummary_probe00"].parents) == (
        "Held",
        [sort.id],
    )
    assert compress.job_id and compress.claimed_by == pipeline.BATCH  # submitted to Batch
    job = batch_job(compress.job_id)
    assert job["jobQueue"].endswith(aws.settings().cpu_job_queue)
    assert job["parameters"] == {"task_id": compress.id}
    assert job["jobDefinition"].split("/")[-1].startswith(aws.settings().compress_job_definition)
    listed = api.get(f"/tasks?session={session['id']}").json_body["results"]
    assert {t["name"]: t["status"] for t in listed} == {
        "EphysCompress_probe00": "Waiting",
        "SpikeSorting_probe00": "Held",
        "EphysSummary_probe00": "Held",
    }


def test_a_finished_job_completes_its_task_and_releases_the_next(api, session):
    land(f"{RAW}.bin", f"{RAW}.meta")
    compress = tasks(session["id"])["EphysCompress_probe00"]
    pipeline.on_job_state(state(compress.job_id, compress.id, "RUNNING"))
    assert Task.get(compress.id).status == "Started"
    pipeline.on_job_state(state(compress.job_id, compress.id, "SUCCEEDED", startedAt=1_000, stoppedAt=61_500))
    graph = tasks(session["id"])
    assert graph["EphysCompress_probe00"].status == "Complete"
    assert graph["EphysCompress_probe00"].time_elapsed_secs == 60.5
    sort = graph["SpikeSorting_probe00"]
    assert sort.status == "Waiting" and sort.job_id  # released and submitted
    job = batch_job(sort.job_id)
    assert job["parameters"] == {"task_id": sort.id}
    assert job["jobDefinition"].split("/")[-1].startswith(aws.settings().sort_job_definition)


def test_after_sorting_the_summary_job_runs_its_own_module_on_the_cpu_definition(api, session):
    land(f"{RAW}.bin", f"{RAW}.meta")
    for name in ("EphysCompress_probe00", "SpikeSorting_probe00"):
        task = tasks(session["id"])[name]
        pipeline.on_job_state(state(task.job_id, task.id, "SUCCEEDED", startedAt=1_000, stoppedAt=2_000))
    summary = tasks(session["id"])["EphysSummary_probe00"]
    assert summary.status == "Waiting" and summary.job_id
    job = batch_job(summary.job_id)
    assert job["jobDefinition"].split("/")[-1].startswith(aws.settings().compress_job_definition)
    assert job["container"]["command"] == ["python", "-m", "batch.ephys_summary", summary.id]


def test_a_failed_job_leaves_its_task_errored_with_its_log_and_a_restart_runs_it_again(api, session):
    land(f"{RAW}.bin", f"{RAW}.meta")
    compress = tasks(session["id"])["EphysCompress_probe00"]
    logs, group = aws.client("logs"), aws.settings().job_log_group
    logs.create_log_stream(logGroupName=group, logStreamName="compress/default/1")
    logs.put_log_events(
        logGroupName=group,
        logStreamName="compress/default/1",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "ValueError: nSavedChans is missing"}],
    )
    pipeline.on_job_state(
        state(
            compress.job_id,
            compress.id,
            "FAILED",
            statusReason="Essential container exited",
            container={"exitCode": 1, "logStreamName": "compress/default/1"},
        )
    )
    errored = api.get(f"/tasks/{compress.id}").json_body
    assert errored["status"] == "Errored"
    assert "nSavedChans is missing" in errored["log"]
    assert tasks(session["id"])["SpikeSorting_probe00"].status == "Held"  # waits for its parent
    assert api.patch(f"/tasks/{compress.id}", {"status": "Waiting"}, user="alice").status_code == 200
    restarted = Task.get(compress.id)
    assert restarted.status == "Waiting" and restarted.job_id != compress.job_id  # submitted again
    pipeline.on_job_state(state(restarted.job_id, compress.id, "RUNNING"))
    running = api.patch(f"/tasks/{compress.id}", {"status": "Waiting"})
    assert running.status_code == 409 and "Started" in running.json_body["detail"]  # only a failed task


def test_a_reclaimed_spot_host_is_retried_until_attempts_run_out(api, session):
    land(f"{RAW}.bin", f"{RAW}.meta")
    task_id = tasks(session["id"])["EphysCompress_probe00"].id
    for _ in range(aws.settings().max_attempts):
        task = Task.get(task_id)
        assert task.status == "Waiting"
        pipeline.on_job_state(
            state(task.job_id, task_id, "FAILED", statusReason="Host EC2 (instance i-1) terminated.")
        )
    final = Task.get(task_id)
    assert final.status == "Errored" and "Host EC2" in final.log
    assert int(final.attempts) == aws.settings().max_attempts


def test_events_of_an_older_attempt_are_ignored(api, session):
    land(f"{RAW}.bin", f"{RAW}.meta")
    compress = tasks(session["id"])["EphysCompress_probe00"]
    pipeline.on_job_state(state("an-old-job", compress.id, "SUCCEEDED"))
    assert Task.get(compress.id).status == "Waiting"


@pytest.fixture
def serializing_dynamodb(tmp_path):
    """The tables on dynalite, whose conditional writes are atomic as DynamoDB's are (moto's are not:
    two threads can pass the same condition)."""
    from onecloud import dynalite, provision

    if not dynalite.available():
        pytest.skip("dynalite needs npm")
    before = aws.settings()
    with dynalite.running(tmp_path / "dynalite.log") as endpoint:
        aws.configure(before.with_changes(aws_endpoint_url=endpoint))
        try:
            provision.create_tables()
            yield
        finally:
            aws.configure(before)


def test_a_claim_cannot_be_won_twice(serializing_dynamodb):
    task = Task(name="TrainingStatus", session="a-session", lab="cortexlab")
    task.save()
    outcomes: list[str] = []

    def claim(worker: str) -> None:
        try:
            pipeline.claim(Task.get(task.id), worker, start=True)
            outcomes.append(worker)
        except Conflict:
            outcomes.append("refused")

    workers = [threading.Thread(target=claim, args=(f"lab-server-{i}",)) for i in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    winners = [o for o in outcomes if o != "refused"]
    assert len(winners) == 1 and len(outcomes) == 8
    assert Task.get(task.id).claimed_by == winners[0]


def test_a_claim_over_http_starts_the_task_and_a_second_one_is_a_409(api, session):
    created = api.post("/tasks", {"name": "TrainingStatus", "session": session["id"]}, user="alice").json_body
    first = api.post(f"/tasks/{created['id']}/claim", {"worker": "rig-1"}, user="alice")
    assert first.status_code == 200 and first.json_body["status"] == "Started"
    assert api.post(f"/tasks/{created['id']}/claim", {"worker": "rig-2"}, user="alice").status_code == 409
    assert api.post(f"/tasks/{created['id']}/claim", {"worker": "x"}, user="bob").status_code == 403


def test_a_dead_workers_lease_runs_out_and_another_worker_takes_over(api, session):
    created = api.post("/tasks", {"name": "TrainingStatus", "session": session["id"]}).json_body
    pipeline.claim(Task.get(created["id"]), "rig-1", start=True)
    Task.get(created["id"]).update(actions=[Task.lease_expires.set("2000-01-01T00:00:00")])  # rig-1 died
    pipeline.claim(Task.get(created["id"]), "rig-2", start=True)
    assert Task.get(created["id"]).claimed_by == "rig-2"


@pytest.fixture
def scripted_jobs(cloud):
    """Job definitions whose commands are small scripts, so the runner runs real subprocesses fast."""
    batch = aws.client("batch")
    for name, code in (
        (aws.settings().compress_job_definition, "print('compressing', sys.argv[1])"),
        (aws.settings().sort_job_definition, "print('sorting failed'); sys.exit(3)"),
    ):
        batch.register_job_definition(
            jobDefinitionName=name,
            type="container",
            parameters={"task_id": ""},
            containerProperties={
                "image": "x",
                "vcpus": 1,
                "memory": 128,
                "command": ["python", "-c", f"import sys; {code}", "Ref::task_id"],
            },
        )


def test_the_local_runner_runs_submitted_jobs_and_reports_their_state(api, session, scripted_jobs):
    runner = JobRunner(app)
    runner.new_jobs()  # jobs of earlier tests are not ours
    land(f"{RAW}.bin", f"{RAW}.meta")
    assert runner.run_pending() == 1  # compress; it completes and submits sorting
    assert runner.run_pending() == 1  # sorting fails
    graph = tasks(session["id"])
    compress, sort = graph["EphysCompress_probe00"], graph["SpikeSorting_probe00"]
    assert compress.status == "Complete" and f"compressing {compress.id}" in compress.log
    assert sort.status == "Errored" and "sorting failed" in sort.log


def test_the_local_runner_is_sent_only_the_jobs_submitted_since_the_newest_it_saw(api):
    """moto's Batch answers ListJobs with every job ever submitted unless AFTER_CREATED_AT is applied (the
    local stack applies it): the runner's polling costs what is new, not what the run has submitted."""
    batch, settings = aws.client("batch"), aws.settings()

    def submit(name: str) -> str:
        time.sleep(0.01)  # distinct creation times
        return batch.submit_job(
            jobName=name, jobQueue=settings.cpu_job_queue, jobDefinition=settings.compress_job_definition
        )["jobId"]

    runner = JobRunner(app)
    runner.new_jobs()  # jobs of earlier tests are not ours
    first = submit("first")
    assert [job["jobId"] for job in runner.new_jobs()] == [first]
    assert runner.new_jobs() == []
    second, third = submit("second"), submit("third")
    assert [job["jobId"] for job in runner.new_jobs()] == [second, third]
    created = {j["jobId"]: j["createdAt"] for j in batch.describe_jobs(jobs=[first, second, third])["jobs"]}
    since = [{"name": "AFTER_CREATED_AT", "values": [str(created[second])]}]
    listed = batch.list_jobs(jobQueue=settings.cpu_job_queue, filters=since)["jobSummaryList"]
    assert sorted(job["jobId"] for job in listed) == sorted([second, third])

"""The local job runner: what AWS Batch does for the local stack.

It picks up the jobs the app submitted to (moto's) Batch, runs each job definition's command as a
subprocess of this machine, with the job's parameters substituted as Batch does, writes the output to
the job's log stream, and delivers the same "Batch Job State Change" events EventBridge would to the
app's ``@app.on_cw_event`` handler. Two jobs run at once (a machine's two cores), never two of one subject:
a TrainingStatus job computes its subject's waiting sessions too, so the next job of that subject waits
and usually finds its task done. A job cancelled before it started (its task was completed by another
job) ends FAILED without running, as on AWS Batch; moto forgets cancellations, so the runner asks the
pipeline (``pipeline.superseded``).
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from chalice import Chalice
from chalice.app import CloudWatchEventConfig

from chalicelib import aws, pipeline
from chalicelib.observability import logger
from onecloud.pump import LambdaContext

JOBS_AT_ONCE = 2
OVERLAP_MS = 5000  # jobs submitted side by side may appear in another order than their creation times


def _millis() -> int:
    return int(time.time() * 1000)


class JobRunner:
    def __init__(self, app: Chalice, poll_seconds: float = 1.0) -> None:
        self.app = app
        self.poll_seconds = poll_seconds
        self.seen: set[str] = set()
        self.newest = 0  # createdAt of the newest job seen, ms
        self.waiting: list[str] = []  # job ids seen, not started
        self.subjects: dict[str, str | None] = {}  # of the waiting jobs
        self._processes: set[subprocess.Popen] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def handlers(self) -> list[str]:
        return [
            config.name
            for config in self.app.event_sources
            if isinstance(config, CloudWatchEventConfig)
            and "aws.batch" in config.event_pattern.get("source", [])
        ]

    def new_jobs(self) -> list[dict[str, Any]]:
        """Jobs submitted since the last call (asked for those created since a little before the newest
        seen: every status, and not every job ever submitted)."""
        batch, settings, found = aws.client("batch"), aws.settings(), []
        since = [{"name": "AFTER_CREATED_AT", "values": [str(max(0, self.newest - OVERLAP_MS))]}]
        for queue in (settings.cpu_job_queue, settings.gpu_job_queue):
            for job in batch.list_jobs(jobQueue=queue, filters=since)["jobSummaryList"]:
                self.newest = max(self.newest, int(job.get("createdAt", 0)))
                if job["jobId"] not in self.seen:
                    self.seen.add(job["jobId"])
                    found.append(job)
        return sorted(found, key=lambda job: job.get("createdAt", 0))

    def run_pending(self) -> int:
        """Run every job submitted since the last call; returns how many ran."""
        jobs = self.new_jobs()
        for job in jobs:
            self.run(job["jobId"])
        return len(jobs)

    def run(self, job_id: str) -> None:
        batch = aws.client("batch")
        job = batch.describe_jobs(jobs=[job_id])["jobs"][0]
        definition = batch.describe_job_definitions(jobDefinitions=[job["jobDefinition"]])["jobDefinitions"][
            0
        ]
        parameters = {**definition.get("parameters", {}), **job.get("parameters", {})}
        command = [
            parameters.get(part[5:], part) if part.startswith("Ref::") else part
            for part in job.get("container", {}).get("command")
            or definition["containerProperties"]["command"]
        ]  # the job's command override, as Batch runs it, else the definition's
        command = [sys.executable if part == "python" else part for part in command]
        stream = f"{definition['jobDefinitionName']}/default/{job_id}"
        base = {
            "jobName": job["jobName"],
            "jobId": job_id,
            "jobQueue": job["jobQueue"],
            "jobDefinition": job["jobDefinition"],
            "parameters": job.get("parameters", {}),
            "attempts": [],
        }
        cancelled = pipeline.superseded(job_id, job.get("parameters", {}))
        if cancelled:
            self.emit(
                {
                    **base,
                    "status": "FAILED",
                    "statusReason": f"Cancelled: {cancelled}",
                    "stoppedAt": _millis(),
                }
            )
            logger.info("job cancelled", job=job_id, reason=cancelled)
            return
        started = _millis()
        self.emit({**base, "status": "RUNNING", "startedAt": started, "container": {"logStreamName": stream}})
        logger.info("job started", job=job_id, command=" ".join(command))
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "AWS_BATCH_JOB_ID": job_id},  # as Batch sets it in the container
        )
        self._processes.add(process)
        output, _ = process.communicate()
        self._processes.discard(process)
        returncode = process.returncode
        self.write_log(stream, output.splitlines())
        succeeded = returncode == 0
        self.emit(
            {
                **base,
                "status": "SUCCEEDED" if succeeded else "FAILED",
                "statusReason": "Essential container in task exited",
                "startedAt": started,
                "stoppedAt": _millis(),
                "container": {"exitCode": returncode, "logStreamName": stream},
            }
        )
        logger.info("job finished", job=job_id, exit_code=returncode)

    def write_log(self, stream: str, lines: list[str]) -> None:
        logs, group = aws.client("logs"), aws.settings().job_log_group
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        now = _millis()
        for start in range(0, len(lines), 1000):
            batch = [{"timestamp": now, "message": line} for line in lines[start : start + 1000] if line]
            if batch:
                logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)

    def emit(self, detail: dict[str, Any]) -> None:
        settings = aws.settings()
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Batch Job State Change",
            "source": "aws.batch",
            "account": "000000000000",
            "time": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": settings.region,
            "resources": [detail["jobId"]],
            "detail": detail,
        }
        for name in self.handlers():
            self.app.handler_map[name](event, LambdaContext(name))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="job-runner", daemon=True)
        self._thread.start()

    def subject_of(self, job_id: str) -> str | None:
        """The lab/nickname whose session the job's task is about, or None (not a session's task)."""
        if job_id not in self.subjects:
            self.subjects[job_id] = self._subject_of(job_id)
        return self.subjects[job_id]

    @staticmethod
    def _subject_of(job_id: str) -> str | None:
        from chalicelib.models import Session, Task

        job = aws.client("batch").describe_jobs(jobs=[job_id])["jobs"][0]
        task_id = job.get("parameters", {}).get("task_id")
        try:
            session = Session.get(Task.get(task_id).session) if task_id else None
        except (Task.DoesNotExist, Session.DoesNotExist):
            return None
        return f"{session.lab}/{session.subject}" if session else None

    def start_waiting(self, pool: ThreadPoolExecutor, running: dict[Future, str | None]) -> None:
        """Start waiting jobs, oldest first, while fewer than JOBS_AT_ONCE run, skipping a subject's job
        while another of that subject runs."""
        for future in [f for f in running if f.done()]:
            running.pop(future)
            if future.exception() is not None:
                logger.error("job runner error", error=repr(future.exception()))
        self.waiting += [job["jobId"] for job in self.new_jobs()]
        busy = {subject for subject in running.values() if subject}
        for job_id in list(self.waiting):
            if len(running) >= JOBS_AT_ONCE:
                return
            subject = self.subject_of(job_id)
            if subject in busy:
                continue
            self.waiting.remove(job_id)
            self.subjects.pop(job_id)
            busy.add(subject)
            running[pool.submit(self.run, job_id)] = subject

    def _run(self) -> None:
        running: dict[Future, str | None] = {}
        with ThreadPoolExecutor(JOBS_AT_ONCE, thread_name_prefix="job") as pool:
            while not self._stop.wait(self.poll_seconds):
                try:
                    self.start_waiting(pool, running)
                except Exception:
                    logger.exception("job runner error")

    def stop(self) -> None:
        """Stop polling and end the running jobs (no orphan processes are left behind)."""
        self._stop.set()
        for process in list(self._processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        if self._thread:
            self._thread.join(timeout=15)

"""Runs of the training-time analysis: each run is kept under ``analyses/training-time/<run id>/`` in the
data bucket (``run.json``: options, status, progress, error; ``results.json``; the design matrix
``trainingTime.designMatrix.pqt``). The API starts a run by submitting the ``batch.training_time`` job;
Batch's job state changes come back here. Standard library and boto3 only: the API's Lambda imports it.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.errors import BadRequest, NotFound

PREFIX = "analyses/training-time/"
MATRIX = "trainingTime.designMatrix.pqt"
MODES = ("paper", "methods")
DEFAULTS = {"project": None, "lab": None, "cutoff": None, "seed": 0, "mode": "paper", "shuffles": 100}
EXECUTABLE = "batch.training_time"
LOG_LINES = 60


def key(run_id: str, name: str) -> str:
    return f"{PREFIX}{run_id}/{name}"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def options_from(body: dict[str, Any]) -> dict[str, Any]:
    """The run's options from a request body, checked (a 400 names what is wrong)."""
    unknown = sorted(set(body) - set(DEFAULTS))
    if unknown:
        raise BadRequest(f"unknown options {', '.join(unknown)}: expected {', '.join(DEFAULTS)}")
    options = {**DEFAULTS, **{k: v for k, v in body.items() if v is not None and v != ""}}
    for name in ("project", "lab"):
        if options[name] is not None and not isinstance(options[name], str):
            raise BadRequest(f"{name} must be a name")
    cutoff = options["cutoff"]
    if cutoff is not None:
        try:
            options["cutoff"] = datetime.date.fromisoformat(str(cutoff)).isoformat()
        except ValueError:
            raise BadRequest(f"cutoff must be a date YYYY-MM-DD, got {cutoff!r}") from None
    if options["mode"] not in MODES:
        raise BadRequest(f"mode must be one of {', '.join(MODES)}, got {options['mode']!r}")
    for name, low, high in (("seed", 0, 2**32 - 1), ("shuffles", 0, 10000)):
        value = options[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise BadRequest(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return options


def read(run_id: str, name: str = "run.json") -> dict[str, Any] | None:
    if not re.fullmatch(r"[\w-]+", run_id or ""):
        return None
    try:
        body = aws.client("s3").get_object(Bucket=aws.settings().data_bucket, Key=key(run_id, name))["Body"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise
    return json.loads(body.read())


def get(run_id: str) -> dict[str, Any]:
    run = read(run_id)
    if run is None:
        raise NotFound(f"no training-time run {run_id}")
    return run


def write(run_id: str, name: str, document: dict[str, Any]) -> None:
    aws.client("s3").put_object(
        Bucket=aws.settings().data_bucket,
        Key=key(run_id, name),
        Body=json.dumps(document, allow_nan=False).encode(),
        ContentType="application/json",
    )


def update(run_id: str, **changes: Any) -> dict[str, Any]:
    run = {**get(run_id), **changes, "updated": _now()}
    write(run_id, "run.json", run)
    return run


def all_runs() -> list[dict[str, Any]]:
    """Every run, newest first."""
    s3, bucket, runs = aws.client("s3"), aws.settings().data_bucket, []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=PREFIX, Delimiter="/"):
        for folder in page.get("CommonPrefixes", []):
            run = read(folder["Prefix"][len(PREFIX) :].strip("/"))
            if run is not None:
                runs.append(run)
    return sorted(runs, key=lambda r: r.get("created", ""), reverse=True)


def start(options: dict[str, Any], user: str) -> dict[str, Any]:
    """Record the run and submit its Batch job (the compress job definition runs the module, as the
    pipeline's small CPU jobs do)."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S")
    run_id = f"{stamp}-{uuid.uuid4().hex[:6]}"
    run = {"id": run_id, "options": options, "user": user, "status": "Submitted", "created": _now()}
    write(run_id, "run.json", run)
    settings = aws.settings()
    try:
        answer = aws.client("batch").submit_job(
            jobName=f"TrainingTime-{run_id}",
            jobQueue=settings.cpu_job_queue,
            jobDefinition=settings.compress_job_definition,
            parameters={"run_id": run_id},
            containerOverrides={"command": ["python", "-m", EXECUTABLE, run_id]},
        )
    except Exception as error:
        return update(run_id, status="Errored", error=f"the job could not be submitted: {error}")
    return update(run_id, job_id=answer["jobId"])


def on_job_state(detail: dict[str, Any], log: str) -> dict[str, Any] | None:
    """A job state change of a run: Started; a failure the job could not record itself (killed, out of
    memory) leaves the run Errored with the tail of its log."""
    run = read((detail.get("parameters") or {}).get("run_id", ""))
    if run is None or run.get("job_id") != detail.get("jobId"):
        return None
    status = detail.get("status")
    if status == "RUNNING" and run["status"] == "Submitted":
        return update(run["id"], status="Started")
    if status == "FAILED" and run["status"] != "Errored":
        return update(
            run["id"], status="Errored", error=detail.get("statusReason") or "the job failed", log=log
        )
    if status == "SUCCEEDED" and run["status"] != "Complete":
        return update(run["id"], status="Errored", error="the job ended without results", log=log)
    return run

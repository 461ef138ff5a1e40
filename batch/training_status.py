"""TrainingStatus: a session's trials arrived, so its subject's training status is recomputed.

The job reads every session of the subject that has trials (from the catalogue; the trials themselves
only for the dates it must recompute), computes the training table from the earliest date whose inputs
changed (chalicelib/behaviour/training.py), and stores:

* the subject's ``json.trained_criteria``, through the REST API's own update path;
* ``alf/_ibl_subjectTraining.table.pqt`` in the subject's latest session and
  ``alf/_ibl_psychometric.table.pqt`` in this session, registered as datasets so ONE loads them;
* the documents the web pages read (chalicelib/behaviour/results.py).

Trials that cannot be analysed end the task Errored with the reason, and nothing is written. Another
session's bad trials leave that session out of the table (its own task says why).

A rig uploads a subject's sessions one after the other, and each one's trials create a task: the first job
to run also finishes the subject's other TrainingStatus tasks still waiting for their turn (their session's
psychometric table and page document, their inputs), marks them Complete as computed by this job and
cancels their Batch jobs. The subject's table is computed once for all of them, so a lab sending weeks of
sessions costs about one job per subject, not one per session (the local demo: 75 sessions, 6 jobs).
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import UpdateError

from batch.jobs import Job, run
from chalicelib import aws
from chalicelib.behaviour import results, training
from chalicelib.behaviour import trials as trials_io
from chalicelib.behaviour.statuses import protocol_family
from chalicelib.datasets import datasets_of_session
from chalicelib.models import Dataset, Session, Task
from chalicelib.pipeline import BATCH
from chalicelib.registration import session_relative_path
from chalicelib.sessions import sessions_of_subject
from chalicelib.tasks import tasks_of_lab

TABLE = "_ibl_trials.table.pqt"
SETTINGS = "_iblrig_taskSettings.raw.json"
AMBIENT = "_iblrig_ambientSensorData.raw.jsonable"
PIPELINE_USER = "onecloud-pipeline"
PASSES = 3  # recomputations when the subject's sessions change while the job runs


@dataclass
class SessionInputs:
    """One session's trials datasets and rig facts, as the catalogue holds them."""

    session: Session
    trials: dict[str, Dataset]  # relative path -> dataset
    settings: dict[str, Any] = field(default_factory=dict)
    ambient: Dataset | None = None

    @property
    def relative(self) -> str:
        return session_relative_path(self.session)

    @property
    def task_protocol(self) -> str:
        return self.session.task_protocol or self.settings.get("PYBPOD_PROTOCOL", "")

    @property
    def location(self) -> str:
        rig = " ".join(
            str(v)
            for v in (self.session.location, self.settings.get("RIG_NAME"), self.settings.get("PYBPOD_BOARD"))
            if v
        )
        return "ephys_rig" if "ephys" in rig.lower() else "training_rig"

    @property
    def delay(self) -> float:
        for source in (self.session.json or {}, self.settings):
            for name in ("SESSION_DELAY_START", "SESSION_START_DELAY_SEC"):
                if source.get(name) is not None:
                    return float(source[name])
        return 0.0

    @property
    def duration(self) -> float:
        """Minutes from start to end (NaN when the session has no end time)."""
        if not self.session.end_time:
            return float("nan")
        start = datetime.datetime.fromisoformat(self.session.start_time)
        end = datetime.datetime.fromisoformat(self.session.end_time)
        return (end - start).total_seconds() / 60

    def fingerprint(self) -> dict[str, Any]:
        return {
            "eid": self.session.id,
            "trials": {path: d.hash for path, d in sorted(self.trials.items())},
            "task_protocol": self.task_protocol,
            "location": self.location,
            "delay": self.delay,
            "duration": None if self.duration != self.duration else self.duration,
        }


def read_object(key: str) -> bytes:
    return aws.client("s3").get_object(Bucket=aws.settings().data_bucket, Key=key)["Body"].read()


def trials_datasets(datasets: list[Dataset]) -> dict[str, Dataset]:
    """The session's trials in ``alf``: the table when there is one, else the separate attribute files
    (default revisions only)."""
    alf = [d for d in datasets if d.collection == "alf" and d.default_dataset]
    table = [d for d in alf if d.dataset_type == "trials.table"]
    if table:
        return {table[0].relative_path: table[0]}
    wanted = {f"trials.{name}" for name in trials_io.REQUIRED}
    return {d.relative_path: d for d in alf if d.dataset_type in wanted and d.name.endswith(".npy")}


def session_inputs(session: Session) -> SessionInputs | None:
    datasets = datasets_of_session(session.id)
    trials = trials_datasets(datasets)
    if not trials:
        return None
    inputs = SessionInputs(session, trials)
    raw = {d.name: d for d in datasets if d.default_dataset and d.collection.startswith("raw_")}
    if SETTINGS in raw:
        try:
            inputs.settings = json.loads(read_object(f"{inputs.relative}/{raw[SETTINGS].relative_path}"))
        except ValueError as error:
            print(f"{inputs.relative}: {SETTINGS} is not JSON ({error}); rig facts from the session only")
    inputs.ambient = raw.get(AMBIENT)
    return inputs


def load_trials(inputs: SessionInputs) -> trials_io.Trials:
    """The session's trials, table or separate files, through the same checks."""
    source = f"{inputs.relative}/alf"
    if len(inputs.trials) == 1 and next(iter(inputs.trials)).endswith("table.pqt"):
        path = next(iter(inputs.trials))
        return trials_io.read_table(read_object(f"{inputs.relative}/{path}"), f"{inputs.relative}/{path}")
    columns = {
        dataset.dataset_type.split(".", 1)[1]: trials_io.read_npy(
            read_object(f"{inputs.relative}/{path}"), path
        )
        for path, dataset in inputs.trials.items()
    }
    return trials_io.from_columns(columns, source)


def ambient_summary(inputs: SessionInputs) -> dict[str, float] | None:
    """Median temperature, air pressure and humidity over the session's trials (one JSON object per line,
    each value a one-element list), or None when the rig wrote no sensor file."""
    if inputs.ambient is None:
        return None
    values: dict[str, list[float]] = {"Temperature_C": [], "AirPressure_mb": [], "RelativeHumidity": []}
    text = read_object(f"{inputs.relative}/{inputs.ambient.relative_path}").decode()
    for line in filter(None, (raw.strip() for raw in text.splitlines())):
        record = json.loads(line)
        for name in values:
            value = record.get(name)
            value = value[0] if isinstance(value, list) and value else value
            if isinstance(value, (int, float)):
                values[name].append(float(value))
    return {name: sorted(v)[len(v) // 2] for name, v in values.items() if v}


def subject_days(
    sessions: list[SessionInputs], loader: Callable[[list[SessionInputs]], Any]
) -> list[training.Day]:
    """The subject's dates: each date's sessions pooled (protocol of its last session, as IBL)."""
    by_date: dict[str, list[SessionInputs]] = {}
    for inputs in sorted(sessions, key=lambda i: (i.session.date, int(i.session.number))):
        by_date.setdefault(inputs.session.date, []).append(inputs)
    days = []
    for date, group in by_date.items():
        protocol = protocol_family(group[-1].task_protocol)
        durations = [g.duration for g in group]
        days.append(
            training.Day(
                date=date,
                eids=[g.session.id for g in group],
                session_paths=[g.relative for g in group],
                protocol=protocol,
                task_protocol=group[-1].task_protocol,
                load=None if protocol == "habituation" else (lambda group=group: loader(group)),
                location="ephys_rig" if any(g.location == "ephys_rig" for g in group) else "training_rig",
                delay=max(g.delay for g in group),
                duration=sum(durations) if all(d == d for d in durations) else float("nan"),
                fingerprint=hashlib.sha256(
                    json.dumps([g.fingerprint() for g in group], sort_keys=True).encode()
                ).hexdigest(),
            )
        )
    return days


def gather(job: Job) -> tuple[list[SessionInputs], SessionInputs]:
    """The subject's analysable sessions and this session's inputs (an error if it has none usable)."""
    own = session_inputs(job.session)
    if own is None:
        raise trials_io.MalformedTrials(
            f"{job.key('alf')}: no trials (expected {TABLE} or the _ibl_trials.<attribute>.npy files of "
            f"{', '.join(trials_io.REQUIRED)})"
        )
    protocol_family(own.task_protocol)  # a session without a usable task protocol cannot be placed
    others = []
    for session in sessions_of_subject(job.session.subject):
        if session.lab != job.session.lab or session.id == job.session.id:
            continue
        inputs = session_inputs(session)
        if inputs is None:
            continue
        try:
            protocol_family(inputs.task_protocol)
        except ValueError as error:
            print(f"left out {inputs.relative}: {error}")
            continue
        others.append(inputs)
    return [own, *others], own


class BadSession(Exception):
    def __init__(self, inputs: SessionInputs, error: trials_io.MalformedTrials) -> None:
        super().__init__(str(error))
        self.inputs, self.error = inputs, error


def loader(own: SessionInputs) -> Callable[[list[SessionInputs]], trials_io.Trials]:
    """Loads a date's trials; another session's bad trials are reported so that it can be left out."""

    def load(group: list[SessionInputs]) -> trials_io.Trials:
        loaded = []
        for inputs in group:
            try:
                loaded.append(load_trials(inputs))
            except trials_io.MalformedTrials as error:
                if inputs is own:
                    raise
                raise BadSession(inputs, error) from None
        return trials_io.concatenate(loaded)

    return load


def compute(
    sessions: list[SessionInputs], own: SessionInputs, previous: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, training.Assessment], list[SessionInputs]]:
    """The table, leaving out (and saying so) other sessions whose trials cannot be analysed."""
    while True:
        try:
            rows, assessed = training.subject_training(subject_days(sessions, loader(own)), previous)
        except BadSession as bad:
            print(f"left out {bad.inputs.relative}: {bad.error}")
            sessions = [s for s in sessions if s is not bad.inputs]
            continue
        return rows, assessed, sessions


def parquet(columns: dict[str, list[Any]]) -> bytes:
    """A Parquet table written from pandas, as ONE's loader expects (it reads pandas' schema metadata)."""
    import pandas as pd

    buffer = io.BytesIO()
    pd.DataFrame(columns).to_parquet(buffer, index=False)
    return buffer.getvalue()


def table_bytes(rows: list[dict[str, Any]]) -> bytes:
    return parquet({name: [training.jsonable(row.get(name)) for row in rows] for name in training.COLUMNS})


def columns_bytes(columns: dict[str, list[Any]]) -> bytes:
    return parquet(
        {name: [float("nan") if v is None else float(v) for v in values] for name, values in columns.items()}
    )


def put_dataset(session: Session, relative: str, data: bytes) -> str:
    """Write a dataset under its session; the S3 event path registers it as any upload."""
    md5 = hashlib.md5(data).hexdigest()
    aws.client("s3").put_object(
        Bucket=aws.settings().data_bucket,
        Key=f"{session_relative_path(session)}/{relative}",
        Body=data,
        Metadata={"md5": md5},
    )
    print(f"wrote {session_relative_path(session)}/{relative} ({len(data)} bytes)", flush=True)
    return md5


def update_trained_criteria(session: Session, criteria: dict[str, list[str]]) -> dict[str, Any]:
    """``json.trained_criteria`` on the subject, through the REST API's partial update (the same checks
    and writes as ``PATCH /subjects/<nickname>``), as IBL's task does with ``json_field_update``."""
    import chalicelib.resources  # noqa: F401  (registers every resource)
    from chalicelib.auth import Principal
    from chalicelib.rest import REGISTRY, Context, update_item
    from chalicelib.subjects import find_subject

    subject = find_subject(session.subject, session.lab)
    merged = {**(subject.json or {}), "trained_criteria": criteria}
    principal = Principal(PIPELINE_USER, labs=frozenset({session.lab}))
    return update_item(
        REGISTRY["subjects"], subject.nickname, {"json": merged}, Context(principal), partial=True
    )


def document(
    job: Job, rows: list[dict[str, Any]], assessed: dict[str, training.Assessment], previous: dict[str, Any]
) -> dict[str, Any]:
    kept = {d: a for d, a in (previous.get("assessments") or {}).items() if d in {r["date"] for r in rows}}
    kept.update(
        {
            date: training.jsonable({"status": a.status, "info": a.info, "criteria": a.criteria})
            for date, a in assessed.items()
        }
    )
    return {
        "subject": job.session.subject,
        "lab": job.session.lab,
        "updated": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "rows": [training.jsonable(row) for row in rows],
        "assessments": kept,
        "trained_criteria": training.trained_criteria(rows),
    }


def trials_state(sessions: list[SessionInputs]) -> dict[str, dict[str, str]]:
    """What the table was computed from: each session's trials files and their content."""
    return {s.session.id: {path: d.hash for path, d in sorted(s.trials.items())} for s in sessions}


def catalogue_trials(sessions: list[SessionInputs]) -> dict[str, dict[str, str]]:
    """The same sessions' trials as the catalogue holds them now (no file is read)."""
    return {
        s.session.id: {
            path: d.hash for path, d in sorted(trials_datasets(datasets_of_session(s.session.id)).items())
        }
        for s in sessions
    }


def waiting_siblings(job: Job, sessions: list[SessionInputs]) -> list[tuple[Task, SessionInputs]]:
    """The subject's other TrainingStatus tasks whose Batch jobs have not started (one keyed query)."""
    by_id = {s.session.id: s for s in sessions}
    return [
        (task, by_id[task.session])
        for task in tasks_of_lab(job.session.lab, "Waiting")
        if task.name == job.task.name
        and task.session in by_id
        and task.session != job.session.id
        and task.claimed_by == BATCH
    ]


def session_outputs(session: Session, inputs: SessionInputs) -> None:
    """The session's page document and ``_ibl_psychometric.table.pqt``."""
    from chalicelib.behaviour import summaries  # SciPy: imported once there is a fit to do

    summary = summaries.session_summary(load_trials(inputs), protocol_family(inputs.task_protocol))
    summary.update(
        session=session.id,
        subject=session.subject,
        lab=session.lab,
        date=session.date,
        number=int(session.number),
        task_protocol=inputs.task_protocol,
        location=inputs.location,
        delay=inputs.delay,
        ambient=ambient_summary(inputs),
    )
    results.write(results.session_key(session.id), summary)
    put_dataset(session, results.SESSION_TABLE, columns_bytes(summaries.psychometric_columns(summary)))


def with_inputs(task: Task, inputs: SessionInputs) -> dict[str, Any]:
    """The task's arguments with the trials files (and their content) its session was computed from."""
    return {**(task.arguments or {}), "inputs": {path: d.hash for path, d in inputs.trials.items()}}


def record_inputs(task_id: str, inputs: SessionInputs) -> Task:
    task = Task.get(task_id)  # read again: a registration may have asked for a rerun meanwhile
    task.update(actions=[Task.arguments.set(with_inputs(task, inputs))])
    return task


def finish_sibling(task: Task, inputs: SessionInputs, by: Job, job_id: str, started: float) -> bool:
    """Complete a waiting sibling task with this job's results; False when its own job started first."""
    session_outputs(inputs.session, inputs)
    log = (
        f"computed with the subject's other sessions by job {job_id} "
        f"(task {by.task.id}, session {session_relative_path(by.session)})"
    )
    try:
        task.update(
            actions=[
                Task.status.set("Complete"),
                Task.arguments.set(with_inputs(task, inputs)),
                Task.job_id.set(job_id),
                Task.time_elapsed_secs.set(round(time.monotonic() - started, 3)),
                Task.log.set(log),
                Task.claimed_by.remove(),
                Task.lease_expires.remove(),
            ],
            condition=(Task.status == "Waiting") & (Task.claimed_by == BATCH),
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False  # its job started meanwhile: it computes its session itself
    return True


def training_status(job: Job) -> None:
    started = time.monotonic()
    lab, nickname = job.session.lab, job.session.subject
    key = results.subject_key(lab, nickname)
    for attempt in range(PASSES):
        sessions, own = gather(job)
        previous = results.read(key) or {}
        rows, assessed, sessions = compute(sessions, own, previous.get("rows") or [])
        recomputed = sorted(assessed)
        print(
            f"{nickname}: {len(rows)} dates, recomputed from {recomputed[0] if recomputed else 'none'}; "
            f"latest {rows[-1]['date']}: {rows[-1]['training_status']}",
            flush=True,
        )
        if catalogue_trials(sessions) == trials_state(sessions) or attempt == PASSES - 1:
            break
        print("the subject's sessions changed meanwhile: computing again", flush=True)
    doc = document(job, rows, assessed, previous)
    # the subject first: if that write is refused, nothing else has changed
    subject = update_trained_criteria(job.session, doc["trained_criteria"])
    print(f"{nickname} json.trained_criteria: {json.dumps(subject['json']['trained_criteria'])}", flush=True)
    session_outputs(job.session, own)
    results.write(key, doc)
    latest = max(sessions, key=lambda s: (s.session.date, int(s.session.number))).session
    put_dataset(latest, results.SUBJECT_TABLE, table_bytes(rows))
    recorded = record_inputs(job.task.id, own)
    job_id = os.environ.get("AWS_BATCH_JOB_ID") or recorded.job_id or ""
    done = []
    for task, inputs in waiting_siblings(job, sessions):
        previous_job = task.job_id
        if finish_sibling(task, inputs, job, job_id, started):
            done.append(inputs.relative)
            cancel(previous_job, f"task {task.id} was computed by job {job_id}")
    if done:
        print(
            f"also computed {len(done)} waiting sessions of {nickname}: {', '.join(sorted(done))}", flush=True
        )


def cancel(job_id: str | None, reason: str) -> None:
    """Cancel a sibling's Batch job before it starts (its events no longer match the task's job)."""
    if job_id:
        try:
            aws.client("batch").cancel_job(jobId=job_id, reason=reason)
        except Exception as error:  # a job already gone has nothing left to cancel
            print(f"could not cancel job {job_id}: {error}", flush=True)


if __name__ == "__main__":
    sys.exit(run(training_status))

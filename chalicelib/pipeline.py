"""The task pipeline: which tasks a session's raw data needs, in what order, and their life cycle.

The graphs are data: registering the files a graph requires creates its tasks once (a guard per
session and task name makes creation idempotent), Waiting when they have no parents, Held otherwise.
A task whose parents are all Complete (or Incomplete) is claimed and submitted to AWS Batch; Batch's job
state changes come back as events and move the task to Started, Complete or Errored with the tail of its
log. Lab servers may claim Waiting tasks instead: a claim is one conditional write, so two workers can
never both win, and it carries a lease that lets another worker take over when the first one dies.
"""

from __future__ import annotations

import datetime
import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import UpdateError

from chalicelib import alf, aws
from chalicelib.datasets import datasets_of_session
from chalicelib.errors import Conflict, NotFound
from chalicelib.models import Dataset, Lab, Session, Task
from chalicelib.models.base import now
from chalicelib.models.unique import save_unique
from chalicelib.observability import logger
from chalicelib.tasks import tasks_of_session

DONE = ("Complete", "Incomplete")
RESTARTABLE = ("Errored", "Abandoned", "Empty", "Incomplete")
BATCH = "aws-batch"
LOG_LINES = 100


@dataclass(frozen=True)
class TaskSpec:
    name: str  # formatted with the graph's match, e.g. EphysCompress_{probe}
    job: str  # "compress", "sort", "training": the Batch job definition; others borrow the CPU one
    executable: str
    parents: tuple[str, ...] = ()
    level: int = 0
    cpu: int = 4
    ram: float = 6
    time_out_secs: int = 4 * 3600


@dataclass(frozen=True)
class Graph:
    name: str
    folder: re.Pattern[str]  # the collection holding the files, e.g. raw_ephys_data/<probe>
    requires: tuple[str, ...]  # every pattern must match a registered file of that folder
    tasks: tuple[TaskSpec, ...]
    rerun: bool = False  # new content for a registered input runs the graph's finished tasks again


COMPRESS = TaskSpec("EphysCompress_{probe}", job="compress", executable="batch.ephys_compress")
SORT = TaskSpec(
    "SpikeSorting_{probe}",
    job="sort",
    executable="batch.spike_sorting",
    level=1,
    cpu=8,
    ram=30,
    time_out_secs=12 * 3600,
)
# after sorting: what the probe and cluster pages draw (analyses.md §6.4)
SUMMARY = TaskSpec(
    "EphysSummary_{probe}",
    job="summary",
    executable="batch.ephys_summary",
    parents=(SORT.name,),
    level=2,
    cpu=1,
    ram=4,
    time_out_secs=3600,
)
PROBE_FOLDER = re.compile(r"raw_ephys_data/(?P<probe>[\w-]+)")
# The subject's training status, recomputed from this session's date on (chalicelib/behaviour).
TRAINING = TaskSpec(
    "TrainingStatus", job="training", executable="batch.training_status", cpu=1, ram=2, time_out_secs=3600
)
# A session as one NWB file (chalicelib/sharing/nwb.py): on demand, or for each session of a release.
EXPORT_NWB = TaskSpec("ExportNWB", job="nwb", executable="batch.export_nwb", cpu=1, ram=4, time_out_secs=3600)
TRIALS_FOLDER = re.compile(r"alf")
TRIALS_ATTRIBUTES = (  # what the training status reads (chalicelib/behaviour/trials.py: REQUIRED)
    "contrastLeft",
    "contrastRight",
    "feedbackType",
    "probabilityLeft",
    "choice",
    "response_times",
    "stimOn_times",
)

GRAPHS = (
    # raw SpikeGLX data: compress, then sort the compressed recording
    Graph(
        "EphysPipeline",
        PROBE_FOLDER,
        ("*.ap.bin", "*.ap.meta"),
        (COMPRESS, TaskSpec(**{**SORT.__dict__, "parents": (COMPRESS.name,)}), SUMMARY),
    ),
    # data compressed on the rig (or by the task above): sort it
    Graph("EphysPipeline", PROBE_FOLDER, ("*.ap.cbin", "*.ap.ch", "*.ap.meta"), (SORT, SUMMARY)),
    # a session's trials, as one table or as the separate files ONE also loads as the object trials
    Graph("TrainingPipeline", TRIALS_FOLDER, ("*trials.table.pqt",), (TRAINING,), rerun=True),
    Graph(
        "TrainingPipeline",
        TRIALS_FOLDER,
        tuple(f"*trials.{a}.npy" for a in TRIALS_ATTRIBUTES),
        (TRAINING,),
        rerun=True,
    ),
)


def may_start(path: alf.DatasetPath) -> bool:
    """Whether a registered file could complete a graph's inputs (a cheap test before any lookup)."""
    name = str(path.filename)
    return any(
        graph.folder.fullmatch(path.collection) and any(fnmatch.fnmatchcase(name, p) for p in graph.requires)
        for graph in GRAPHS
    )


def tasks_for(session: Session, dataset: Dataset) -> list[Task]:
    """Create the tasks a newly registered dataset completes the inputs of (none if already created)."""
    created: list[Task] = []
    siblings: list[str] | None = None
    for graph in GRAPHS:
        match = graph.folder.fullmatch(dataset.collection or "")
        if not match or not any(fnmatch.fnmatchcase(dataset.name, p) for p in graph.requires):
            continue
        if siblings is None:
            siblings = [d.name for d in datasets_of_session(session.id) if d.collection == dataset.collection]
        if not all(any(fnmatch.fnmatchcase(n, p) for n in siblings) for p in graph.requires):
            continue
        created += _create(session, graph, match.groupdict(), dataset.collection, dataset)
    return created


def _create(
    session: Session, graph: Graph, names: dict[str, str], collection: str, dataset: Dataset
) -> list[Task]:
    existing = {t.name: t for t in tasks_of_session(session.id)}
    created = []
    for spec in graph.tasks:
        name = spec.name.format(**names)
        if name in existing:
            if graph.rerun and rerun_for(existing[name], dataset):
                created.append(existing[name])
            continue
        parents = [existing[p.format(**names)].id for p in spec.parents]
        task = Task(
            name=name,
            session=session.id,
            lab=session.lab,
            status="Held" if parents else "Waiting",
            parents=parents,
            level=spec.level,
            executable=spec.executable,
            graph=graph.name,
            arguments={**names, "collection": collection, "job": spec.job},
            cpu=spec.cpu,
            ram=spec.ram,
            gpu=1 if spec.job == "sort" and _sorter_needs_gpu() else 0,
            time_out_secs=spec.time_out_secs,
        )
        try:
            save_unique(task, add=task.unique_keys, create=True)
        except Conflict:  # created meanwhile by a twin event: use theirs
            task = next(t for t in tasks_of_session(session.id) if t.name == name)
        else:
            created.append(task)
            logger.info("task created", task=name, session=session.id, status=task.status)
        existing[name] = task
    return created


def rerun_for(task: Task, dataset: Dataset) -> bool:
    """Run ``task`` again because ``dataset`` (one of its inputs) has content it has not read: a finished
    task goes back to Waiting (True: dispatch it), a running one is marked to run again when it ends.
    The same content registered twice (S3 may announce an object twice) changes nothing."""
    arguments = dict(task.arguments or {})
    if (arguments.get("inputs") or {}).get(dataset.relative_path) == dataset.hash:
        return False
    if task.status in ("Waiting", "Held"):
        return False  # it has not read anything yet
    if task.status == "Started":
        task.update(actions=[Task.arguments.set({**arguments, "rerun": True})])
        logger.info("task will run again when it ends", task=task.name, dataset=dataset.relative_path)
        return False
    _back_to_waiting(task)
    logger.info("task restarted: an input changed", task=task.name, dataset=dataset.relative_path)
    return True


def _rerun_if_asked(task: Task) -> bool:
    """A task whose inputs changed while it ran goes back to Waiting once it has ended."""
    arguments = dict(task.arguments or {})
    if not arguments.pop("rerun", False):
        return False
    task.arguments = arguments
    _back_to_waiting(task)
    dispatch(task.session)
    return True


def _back_to_waiting(task: Task) -> None:
    """Unlike a restart through the API, this also re-runs a Complete task: its inputs changed."""
    task.status, task.job_id, task.attempts = "Waiting", None, 0
    task.claimed_by, task.lease_expires = None, None
    task.save()


def _sorter_needs_gpu() -> bool:
    return aws.settings().sorter.lower().startswith("kilosort")


def runs_on_batch(lab: str) -> bool:
    """Whether the lab's tasks go to AWS Batch (the default), or wait for its own workers (the lab's json
    says ``{"task_runner": "lab"}``)."""
    try:
        return (Lab.get(lab).json or {}).get("task_runner", "batch") != "lab"
    except Lab.DoesNotExist:
        return True


EXECUTABLES = frozenset(spec.executable for graph in GRAPHS for spec in graph.tasks) | {EXPORT_NWB.executable}


def runs_here(task: Task) -> bool:
    """Whether onecloud has a Batch job for the task. A task a lab server registered for itself (an
    ibllib task class, ``ibllib.pipes.behavior_tasks.TrainingStatus``...) stays Waiting for that lab
    server's task loop to claim, as with Alyx."""
    return task.executable in EXECUTABLES


def dispatch(session_id: str) -> list[Task]:
    """Release Held tasks whose parents are done and submit every runnable task to Batch (unless the lab
    runs its own workers); returns the submitted."""
    tasks = {t.id: t for t in tasks_of_session(session_id)}
    batch = runs_on_batch(next(iter(tasks.values())).lab) if tasks else False
    submitted = []
    for task in sorted(tasks.values(), key=lambda t: (t.level, t.priority)):
        parents_done = all(tasks[p].status in DONE for p in task.parents if p in tasks)
        if not parents_done:
            continue
        if task.status == "Held":
            task.update(actions=[Task.status.set("Waiting")])
        if batch and task.status == "Waiting" and not task.claimed_by and runs_here(task):
            try:
                submitted.append(submit(task))
            except Conflict:
                continue  # a lab worker claimed it first
    return submitted


def _lease(seconds: int) -> str:
    return (datetime.datetime.now() + datetime.timedelta(seconds=seconds)).replace(microsecond=0).isoformat()


def claim(task: Task, worker: str, *, start: bool, lease_seconds: int | None = None) -> Task:
    """Take ``task`` for ``worker`` with one conditional write: it must be Waiting and unclaimed, or its
    previous claim's lease must have run out. ``start`` marks it Started (a worker runs it now)."""
    lease = lease_seconds or max(aws.settings().lease_seconds, int(task.time_out_secs or 0) + 600)
    free = Task.claimed_by.does_not_exist() | (Task.lease_expires < now())
    condition = (Task.status == "Waiting") & free
    if start:
        condition = ((Task.status == "Waiting") | (Task.status == "Started")) & free
    actions = [Task.claimed_by.set(worker), Task.lease_expires.set(_lease(lease)), Task.datetime.set(now())]
    if start:
        actions.append(Task.status.set("Started"))
    try:
        task.update(actions=actions, condition=condition)
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise Conflict(f"task {task.id} is already claimed or not waiting") from None
        raise
    return task


def submit(task: Task) -> Task:
    """Claim the task for AWS Batch and submit its job (the GPU queue for GPU tasks, else the CPU queue)."""
    settings = aws.settings()
    claim(task, BATCH, start=False)
    job = (task.arguments or {}).get("job", "compress")
    definition = {
        "sort": settings.sort_job_definition,
        "training": settings.training_job_definition,
    }.get(job, settings.compress_job_definition)
    # small CPU jobs have no definition of their own: the compress one runs their module instead
    command = None if job in ("compress", "sort", "training") else ["python", "-m", task.executable, task.id]
    queues = [settings.gpu_job_queue, settings.cpu_job_queue] if task.gpu else [settings.cpu_job_queue]
    try:
        answer, queue = _submit_job(task, definition, queues, command)
    except Exception:
        task.update(actions=[Task.claimed_by.remove(), Task.lease_expires.remove()])
        raise
    task.update(actions=[Task.job_id.set(answer["jobId"]), Task.attempts.add(1)])
    logger.info("task submitted", task=task.name, job=answer["jobId"], queue=queue)
    return task


def _submit_job(
    task: Task, definition: str, queues: list[str], command: list[str] | None = None
) -> tuple[dict[str, Any], str]:
    """Submit to the first queue that takes the job: a GPU queue that is missing or disabled falls back
    to the CPU queue."""
    batch = aws.client("batch")
    for queue in queues:
        try:
            answer = batch.submit_job(
                jobName=re.sub(r"[^\w-]", "-", f"{task.name}-{task.id[:8]}-{int(task.attempts or 0) + 1}"),
                jobQueue=queue,
                jobDefinition=definition,
                parameters={"task_id": task.id},
                **({"containerOverrides": {"command": command}} if command else {}),
            )
        except ClientError as error:
            if queue == queues[-1]:
                raise
            logger.warning("queue refused the job: falling back", queue=queue, error=str(error))
            continue
        return answer, queue
    raise AssertionError("no queue given")


def log_tail(stream: str | None) -> str:
    """The last lines of a Batch job's log (CloudWatch Logs, where Batch writes them)."""
    if not stream:
        return ""
    try:
        events = aws.client("logs").get_log_events(
            logGroupName=aws.settings().job_log_group,
            logStreamName=stream,
            limit=LOG_LINES,
            startFromHead=False,
        )["events"]
    except Exception as error:
        return f"(the job log {stream} could not be read: {error})"
    return "\n".join(event["message"] for event in events)


def on_job_state(detail: dict[str, Any]) -> Task | None:
    """Apply one 'Batch Job State Change' to its task (or to its analysis run). Events of an older attempt
    are ignored."""
    if (detail.get("parameters") or {}).get("run_id"):
        from chalicelib.analyses.training_time import runs

        final = detail.get("status") in ("SUCCEEDED", "FAILED")
        runs.on_job_state(detail, log_tail(_stream(detail)) if final else "")
        return None
    task_id = (detail.get("parameters") or {}).get("task_id")
    try:
        task = Task.get(task_id)
    except (Task.DoesNotExist, TypeError, ValueError):
        logger.warning("job state for an unknown task", job=detail.get("jobId"), task=task_id)
        return None
    if task.job_id != detail.get("jobId"):
        return None
    status = detail.get("status")
    if status == "RUNNING":
        task.update(actions=[Task.status.set("Started"), Task.datetime.set(now())])
    elif status == "SUCCEEDED":
        task.update(
            actions=[
                Task.status.set("Complete"),
                Task.time_elapsed_secs.set(_elapsed(detail)),
                Task.log.set(log_tail(_stream(detail))),
            ]
        )
        if not _rerun_if_asked(Task.get(task.id)):
            dispatch(task.session)
    elif status == "FAILED":
        _failed(task, detail)
        if Task.get(task.id).status == "Errored":
            _rerun_if_asked(Task.get(task.id))
    return Task.get(task.id)


def superseded(job_id: str, parameters: dict[str, Any]) -> str | None:
    """Why a submitted job need not start, or None: another job completed its task meanwhile (a
    TrainingStatus job also computes its subject's waiting sessions) and cancelled it, as AWS Batch does
    to a job that has not started. The local job runner asks this, since moto does not keep cancellations."""
    task_id = parameters.get("task_id")
    if not task_id:
        return None  # not a task's job (an analysis run's)
    try:
        task = Task.get(task_id)
    except Task.DoesNotExist:
        return None
    if task.status in DONE and task.job_id and task.job_id != job_id:
        return f"task {task.id} was completed by job {task.job_id}"
    return None


def _stream(detail: dict[str, Any]) -> str | None:
    return (detail.get("container") or {}).get("logStreamName")


def _elapsed(detail: dict[str, Any]) -> float:
    started, stopped = detail.get("startedAt"), detail.get("stoppedAt")
    return round((stopped - started) / 1000, 3) if started and stopped else 0.0


def _failed(task: Task, detail: dict[str, Any]) -> None:
    """A transient failure (the Spot host was reclaimed) is retried until max_attempts; anything else,
    or too many attempts, leaves the task Errored with its log so someone can look and restart it."""
    reason = detail.get("statusReason") or ""
    log = log_tail(_stream(detail))
    transient = reason.startswith("Host EC2")
    if transient and int(task.attempts or 0) < aws.settings().max_attempts:
        logger.warning(
            "transient failure: resubmitting", task=task.name, reason=reason, attempts=task.attempts
        )
        task.update(
            actions=[
                Task.status.set("Waiting"),
                Task.claimed_by.remove(),
                Task.lease_expires.remove(),
                Task.log.set(f"{reason}\n{log}".strip()),
            ]
        )
        submit(Task.get(task.id))
        return
    task.update(
        actions=[
            Task.status.set("Errored"),
            Task.time_elapsed_secs.set(_elapsed(detail)),
            Task.log.set(f"{reason}\n{log}".strip()),
            Task.claimed_by.remove(),
            Task.lease_expires.remove(),
        ]
    )
    logger.error("task errored", task=task.name, reason=reason)


def change_status(task: Task, status: str) -> None:
    """A status set through the API. Waiting restarts an Errored (or Abandoned...) task, whose Held
    children stay Held until it completes; a final status ends the claim. The caller saves."""
    if status == task.status:
        return
    if status == "Waiting":
        if task.status not in RESTARTABLE:
            raise Conflict(
                f"task {task.id} is {task.status}: only {', '.join(RESTARTABLE)} tasks can be restarted"
            )
        task.job_id, task.attempts = None, 0
    if status in ("Waiting", *DONE, "Errored", "Abandoned", "Empty"):
        task.claimed_by, task.lease_expires = None, None
    task.status = status


def find_task(task_id: str) -> Task:
    try:
        return Task.get(task_id)
    except Task.DoesNotExist:
        raise NotFound(f"task {task_id} does not exist") from None

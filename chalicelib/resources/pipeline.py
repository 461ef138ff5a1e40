"""Pipeline tasks, with the Alyx task fields."""

from __future__ import annotations

from typing import Any

from chalicelib import pipeline
from chalicelib.errors import BadRequest
from chalicelib.fields import Field
from chalicelib.models import Task
from chalicelib.models.task import STATUSES
from chalicelib.resources.common import exact
from chalicelib.rest import Context, Resource, register
from chalicelib.sessions import get_session
from chalicelib.tasks import tasks_of_lab, tasks_of_session


def _task_build(data: dict[str, Any], ctx: Context) -> Task:
    return Task(**data)


def _task_place(task: Task) -> None:
    """A task belongs to its session's lab and waits only for tasks of the same session."""
    task.lab = get_session(task.session).lab
    siblings = {t.id for t in tasks_of_session(task.session)}
    strangers = [parent for parent in task.parents or [] if parent not in siblings]
    if strangers:
        raise BadRequest(f"parents: {', '.join(strangers)} are not tasks of session {task.session}")


def _task_change(task: Task, data: dict[str, Any], ctx: Context) -> None:
    for name, value in data.items():
        if name != "status":
            setattr(task, name, value)
    if data.get("status"):
        pipeline.change_status(task, data["status"])


def _task_saved(task: Task, data: dict[str, Any], ctx: Context) -> None:
    """A restarted task is submitted again; a finished one releases the tasks waiting for it."""
    if data.get("status") in ("Waiting", *pipeline.DONE):
        pipeline.dispatch(task.session)


def _candidates(query: dict[str, str]) -> Any:
    if "session" in query:
        return tasks_of_session(query["session"])
    if "lab" in query:
        return tasks_of_lab(query["lab"], query.get("status"))
    return None


TASKS = register(
    Resource(
        name="tasks",
        singular="task",
        model=Task,
        lab_scoped=True,
        description="Pipeline tasks of a session (compression, spike sorting...), in dependency order",
        fields=(
            Field("name", required=True, null=False),
            Field("session", "uuid", required=True, null=False, relation="sessions"),
            Field("status", choices=STATUSES),
            Field("parents", "list", description="ids of the tasks this one waits for"),
            Field("level", "integer"),
            Field("priority", "integer"),
            Field("executable"),
            Field("graph"),
            Field("arguments", "json"),
            Field("log", "text"),
            Field("version"),
            Field("time_elapsed_secs", "number", minimum=0),
            Field("data_repository", relation="data-repository"),
            Field("cpu", "integer", minimum=0),
            Field("gpu", "integer", minimum=0),
            Field("ram", "number", minimum=0),
            Field("io_charge", "number", minimum=0),
            Field("time_out_secs", "integer", minimum=0),
            Field("datetime", "datetime", read_only=True),
        ),
        params=(
            exact("session"),
            exact("status"),
            exact("name"),
            exact("lab"),
            exact("data_repository"),
            exact("graph"),
        ),
        build=_task_build,
        place=_task_place,
        change=_task_change,
        after_save=_task_saved,
        candidates=_candidates,
        ordering=lambda task: (task.session, task.level, task.priority, task.name),
    )
)

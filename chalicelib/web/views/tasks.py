"""The task page: a lab's pipeline tasks by status, the log tail of an Errored one, and a restart button
(the same status change as ``PATCH /tasks/<id> {"status": "Waiting"}``)."""

from __future__ import annotations

from collections import Counter

from chalice import Response

from chalicelib import rest
from chalicelib.models.task import STATUSES
from chalicelib.pipeline import RESTARTABLE, find_task
from chalicelib.tasks import tasks_of_lab
from chalicelib.web.pages import Web, nav, page, redirect, render
from chalicelib.web.views.common import labs_shown

nav("Tasks", "/tasks", order=70)
LOG_LINES = 40


@page("/tasks")
def tasks(web: Web) -> Response:
    """Counts by status for each lab (one query per lab), and the tasks of the chosen status."""
    labs = labs_shown(web)
    lab = web.query.get("lab") or (labs[0] if labs else "")
    status = web.query.get("status", "Errored")
    counts: dict[str, Counter] = {}
    shown = []
    for name in labs:
        found = list(tasks_of_lab(name))
        counts[name] = Counter(t.status for t in found)
        if name == lab:
            shown = [t for t in found if not status or t.status == status]
    shown.sort(key=lambda t: t.datetime, reverse=True)
    return render(
        web,
        "tasks.html",
        title="Tasks",
        labs=labs,
        lab=lab,
        task_status=status,
        statuses=STATUSES,
        restartable=RESTARTABLE,
        counts=counts,
        tasks=shown[:200],
        count=len(shown),
        tail=lambda log: "\n".join((log or "").splitlines()[-LOG_LINES:]),
        restarted=web.query.get("restarted"),
    )


@page("/tasks/{key}/restart", ("POST",))
def restart(web: Web, key: str) -> Response:
    task = find_task(key)
    rest.update_item(rest.REGISTRY["tasks"], task.id, {"status": "Waiting"}, web.ctx, partial=True)
    return redirect(web, "/tasks", lab=task.lab, status="Errored", restarted=task.name)

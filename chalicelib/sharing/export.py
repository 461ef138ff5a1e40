"""Asking for a session's NWB export: the ``ExportNWB`` task, created once per session and run again on
each later request (the session's data may have changed since). The job itself is ``batch/export_nwb.py``.
"""

from __future__ import annotations

from chalicelib import pipeline
from chalicelib.auth import Principal
from chalicelib.errors import Conflict
from chalicelib.models import Session, Task
from chalicelib.models.unique import save_unique
from chalicelib.observability import logger
from chalicelib.permissions import require_write
from chalicelib.sessions import get_session
from chalicelib.tasks import tasks_of_session

RUNNING = ("Waiting", "Held", "Started")


def export_task(session: Session) -> Task | None:
    return next((t for t in tasks_of_session(session.id) if t.name == pipeline.EXPORT_NWB.name), None)


def request_export(session: Session) -> Task:
    """The session's ExportNWB task, Waiting (or already on its way), submitted to Batch when the lab
    runs on Batch; a lab server's worker may claim it otherwise."""
    spec = pipeline.EXPORT_NWB
    task = export_task(session)
    if task is None:
        task = Task(
            name=spec.name,
            session=session.id,
            lab=session.lab,
            status="Waiting",
            executable=spec.executable,
            graph="ExportNWB",
            arguments={"job": spec.job},
            cpu=spec.cpu,
            ram=spec.ram,
            time_out_secs=spec.time_out_secs,
        )
        try:
            save_unique(task, add=task.unique_keys, create=True)
        except Conflict:  # asked twice at once: theirs
            task = export_task(session) or task
    elif task.status not in RUNNING:
        task.status, task.job_id, task.attempts, task.log = "Waiting", None, 0, None
        task.claimed_by, task.lease_expires = None, None
        task.save()
    logger.info("NWB export requested", session=session.id, task=task.id, status=task.status)
    pipeline.dispatch(session.id)
    return Task.get(task.id)


def export_session(principal: Principal | None, eid: str) -> Task:
    """``POST /sessions/<id>/nwb``: members of the session's lab (and superusers) ask for its export."""
    session = get_session(eid)
    require_write(principal, what="session", lab=session.lab, lab_scoped=True)
    return request_export(session)

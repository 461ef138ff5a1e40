"""``POST /tasks/<id>/claim``: a lab server takes a Waiting task, atomically, with a lease."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import pipeline
from chalicelib.errors import BadRequest
from chalicelib.fields import Field, parse_payload
from chalicelib.handlers.edge import body, context, route
from chalicelib.permissions import require_read, require_write
from chalicelib.resources.pipeline import TASKS

bp = Blueprint(__name__)
MAX_LEASE = 365 * 24 * 3600
CLAIM = (
    Field("worker", description="who runs it (defaults to the caller)"),
    Field("lease_seconds", "integer", minimum=60, description="how long before another may take over"),
)
_CLAIM = {"type": "object", "properties": {f.name: f.openapi() for f in CLAIM}}


@route(
    bp,
    "/tasks/{key}/claim",
    methods=["POST"],
    content_types=["application/json"],
    openapi={"body": _CLAIM, "body_name": "task-claim"},
)
def claim_task(key: str) -> dict:
    """Start the task for this worker if it is Waiting and unclaimed (or its last lease ran out); 409 when
    another worker has it. Report the outcome with PATCH /tasks/<id> (status, log, time_elapsed_secs)."""
    request = bp.current_request
    ctx = context(request)
    require_read(ctx.principal)
    task = TASKS.lookup(key)
    principal = require_write(ctx.principal, what="task", lab=task.lab, lab_scoped=True)
    data = parse_payload(CLAIM, body(request), partial=True)
    worker, lease = data.get("worker") or principal.username, data.get("lease_seconds")
    if lease is not None and lease > MAX_LEASE:
        raise BadRequest(f"lease_seconds: at most {MAX_LEASE} (a year)")
    pipeline.claim(task, worker, start=True, lease_seconds=lease)
    return TASKS.serialize([TASKS.lookup(key)], ctx)[0]

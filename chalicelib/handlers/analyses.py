"""``/analyses/training-time``: start a run of the training-time analysis (the paper's Fig. 2) and follow
it. The run itself is a Batch job (batch/training_time.py); its results are kept per run."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.analyses.training_time import runs
from chalicelib.errors import BadRequest
from chalicelib.handlers.edge import body, context, route
from chalicelib.permissions import require_member, require_read

bp = Blueprint(__name__)
_OPTIONS = {
    "type": "object",
    "properties": {
        "project": {"type": "string", "description": "only subjects of this project"},
        "lab": {"type": "string", "description": "only subjects of this lab"},
        "cutoff": {"type": "string", "format": "date", "description": "only mice trained on or before it"},
        "seed": {"type": "integer", "minimum": 0, "description": "forests, folds, shuffles (default 0)"},
        "mode": {"type": "string", "enum": list(runs.MODES), "description": "paper (default) or methods"},
        "shuffles": {"type": "integer", "minimum": 0, "description": "label shuffles (default 100)"},
    },
}


@route(
    bp,
    "/analyses/training-time",
    methods=["POST"],
    content_types=["application/json"],
    openapi={"body": _OPTIONS, "body_name": "training-time-run"},
)
def start_training_time() -> dict:
    """Start a run over everything stored (202 semantics: the run is Submitted; GET it to follow it)."""
    request = bp.current_request
    principal = require_member(context(request).principal, what="analyses")
    data = body(request)
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object of options")
    return runs.start(runs.options_from(data), principal.username)


@route(bp, "/analyses/training-time", methods=["GET"])
def list_training_time() -> list:
    """Every run, newest first."""
    require_read(context(bp.current_request).principal)
    return runs.all_runs()


@route(bp, "/analyses/training-time/{run_id}", methods=["GET"])
def get_training_time(run_id: str) -> dict:
    """The run (status, progress, error) and, once Complete, its results."""
    require_read(context(bp.current_request).principal)
    run = runs.get(run_id)
    return {**run, "results": runs.read(run_id, "results.json") if run["status"] == "Complete" else None}

"""``POST /sessions/<id>/nwb``: export a session to one NWB file (an ``ExportNWB`` task; the file is
registered as the session's dataset ``nwb/session.nwb.<subject>_<date>_<number>.nwb``)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.handlers.edge import context, json_response, route
from chalicelib.resources.pipeline import TASKS
from chalicelib.sharing.export import export_session

bp = Blueprint(__name__)


@route(bp, "/sessions/{eid}/nwb", methods=["POST"])
def export_nwb(eid: str) -> Response:
    """Queue the session's NWB export (lab members): 202 with its task; poll ``GET /tasks/<id>``."""
    ctx = context(bp.current_request)
    task = export_session(ctx.principal, eid)
    return json_response(TASKS.serialize([task], ctx)[0], status=202)

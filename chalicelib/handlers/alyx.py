"""``POST /alyx-import``: one kind's translated Alyx records at a time (``onecloud import-alyx`` sends
them in dependency order); superusers only."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.alyx.upsert import upsert
from chalicelib.errors import BadRequest
from chalicelib.handlers.edge import body, principal_of, route
from chalicelib.permissions import require_write

bp = Blueprint(__name__)


@route(
    bp,
    "/alyx-import",
    methods=["POST"],
    content_types=["application/json"],
    openapi={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}},
)
def alyx_import() -> dict:
    """Upsert records of one kind: {"kind": "subjects", "records": [...]} -> created / updated /
    unchanged counts and the records skipped, each with the reason."""
    principal = require_write(principal_of(bp.current_request), what="imports", lab=None, lab_scoped=False)
    data = body(bp.current_request)
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        raise BadRequest('expected {"kind": ..., "records": [...]}')
    return upsert(data["kind"], data.get("records"), principal.username).as_json()

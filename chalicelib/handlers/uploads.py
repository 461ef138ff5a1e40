"""Upload intents: ``/uploads`` (create, list by state), ``/uploads/<id>`` (show), and the multipart
steps (``parts``, ``complete``) and ``renew``."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import uploads
from chalicelib.handlers.edge import answer, body, context, json_response, query, route

bp = Blueprint(__name__)
JSON = ["application/json"]

_INTENT = {
    "type": "object",
    "required": ["session", "files"],
    "properties": {
        "session": {"type": "string", "description": "session id, or lab/Subjects/subject/YYYY-MM-DD/NNN"},
        "files": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "size", "md5"],
                "properties": {
                    "path": {
                        "type": "string",
                        "description": "relative to the session: [collection/][#revision#/]name",
                    },
                    "size": {"type": "integer", "minimum": 0},
                    "md5": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                },
            },
        },
    },
}
_PARTS = {
    "type": "object",
    "required": ["path", "parts"],
    "properties": {
        "path": {"type": "string"},
        "parts": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"number": {"type": "integer", "minimum": 1}, "md5": {"type": "string"}},
            },
        },
    },
}
_PATH = {"type": "object", "required": ["path"], "properties": {"path": {"type": "string"}}}
_ANSWER = {
    "type": "object",
    "required": ["id", "files"],
    "properties": {
        "id": {"type": "string"},
        "session": {"type": "string"},
        "expires": {"type": "string"},
        "files": {"type": "array", "items": {"type": "object"}},
    },
}
_STATUS = [
    {
        "name": "status",
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": "pending, registered or rejected (default rejected)",
    },
    {"name": "lab", "in": "query", "required": False, "schema": {"type": "string"}},
]


@route(
    bp,
    "/uploads",
    methods=["POST"],
    content_types=JSON,
    openapi={
        "body": _INTENT,
        "body_name": "upload",
        "responses": {"201": answer("the intent: id, session, expires and per file what to do", _ANSWER)},
    },
)
def create_upload() -> Response:
    """Presigned upload URLs for files of a session (multipart above the threshold)."""
    request = bp.current_request
    return json_response(uploads.create_upload(context(request).principal, body(request)), status=201)


@route(bp, "/uploads", methods=["GET"], openapi={"query": _STATUS})
def list_uploads() -> dict:
    """Uploaded files of your labs in one state: rejected ones carry the reason."""
    request, params = bp.current_request, query(bp.current_request)
    files = uploads.files_with_status(
        context(request).principal, params.get("status", "rejected"), params.get("lab")
    )
    return {"count": len(files), "next": None, "previous": None, "results": files}


@route(bp, "/uploads/{upload_id}", methods=["GET"])
def show_upload(upload_id: str) -> dict:
    """An intent's files and their state (pending, registered, rejected)."""
    return uploads.show(upload_id, context(bp.current_request).principal)


@route(
    bp,
    "/uploads/{upload_id}/parts",
    methods=["POST"],
    content_types=JSON,
    openapi={"body": _PARTS, "body_name": "upload-parts"},
)
def upload_parts(upload_id: str) -> dict:
    """Presigned URLs for parts of a multipart file, each bound to the part's md5."""
    request = bp.current_request
    return uploads.part_urls(upload_id, context(request).principal, body(request))


@route(
    bp,
    "/uploads/{upload_id}/complete",
    methods=["POST"],
    content_types=JSON,
    openapi={"body": _PATH, "body_name": "upload-complete"},
)
def complete_upload(upload_id: str) -> dict:
    """Assemble a multipart file once every part is uploaded and matches its md5."""
    request = bp.current_request
    return uploads.complete(upload_id, context(request).principal, body(request))


@route(bp, "/uploads/{upload_id}/renew", methods=["POST"], content_types=JSON)
def renew_upload(upload_id: str) -> dict:
    """New URLs and expiry for an intent's pending files (nothing already sent is sent again)."""
    return uploads.renew(upload_id, context(bp.current_request).principal)

"""``POST /register-file``: register files that already sit in a repository (a lab server or S3)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import registration
from chalicelib.auth import Principal
from chalicelib.errors import BadRequest
from chalicelib.handlers.edge import answer, body, context, json_response, route
from chalicelib.models import User
from chalicelib.permissions import require_read, require_write

bp = Blueprint(__name__)


@route(
    bp,
    "/register-file",
    methods=["POST"],
    content_types=["application/json"],
    openapi={
        "responses": {
            "201": answer(
                "the datasets, with their file records", {"type": "array", "items": {"type": "object"}}
            )
        }
    },
)
def register_file() -> Response:
    """Register files of an existing session as datasets with a file record per repository (atomic:
    an invalid file changes nothing; a protected dataset answers 403 with the revisions to use)."""
    ctx = context(bp.current_request)
    principal = require_read(ctx.principal)
    request = registration.parse_register_request(body(bp.current_request))
    owner, specs = _owner_and_specs(request, principal)
    require_write(principal, what="datasets", lab=owner.lab, lab_scoped=True)
    created_by = request.created_by or principal.username
    if User.count(created_by) == 0:
        raise BadRequest(f"created_by: user {created_by!r} does not exist")
    repository = request.repository
    if owner.session is None:
        repository = registration.named_repository(request.repository, request.hostname).name
    records = registration.register_files(
        owner=owner,
        specs=specs,
        sent_names=request.filenames,
        repository=repository,
        created_by=created_by,
        exists=request.exists,
        default=request.default,
        server_only=request.server_only,
    )
    return json_response(records, status=201)


@route(bp, "/check-protected", methods=["GET", "POST"], content_types=["application/json"])
def check_protected() -> Response:
    """Whether registering these files would overwrite protected datasets (what ONE's
    RegistrationClient.check_protected_files asks). Alyx answers HTTP 200 either way, with the verdict in
    the body's ``status_code``: ONE and ibllib read the body and move protected files to a new revision,
    where an HTTP 403 would make them raise."""
    ctx = context(bp.current_request)
    require_read(ctx.principal)
    request = registration.parse_register_request(body(bp.current_request))
    owner, specs = _owner_and_specs(request, ctx.principal)
    try:
        registration.check_protection(owner, specs, request.filenames)
    except registration.Protected as protected:
        return json_response({key: protected.extra[key] for key in ("status_code", "error", "details")})
    return json_response({"status_code": 200, "details": "None of the datasets are protected"})


def _owner_and_specs(
    request: registration.RegisterRequest, principal: Principal
) -> tuple[registration.Owner, list[registration.FileSpec]]:
    """The session the path names, or for Alyx's aggregates (``content_type`` and ``object_id``) the
    record they belong to, with the files' paths under ``path`` (``Subjects/<lab>/<nickname>``)."""
    if request.aggregate:
        owner = registration.aggregate_owner(
            request.content_type, request.object_id, request.labs, sorted(principal.labs)
        )
        return owner, request.specs
    session = registration.find_session_for(request.path, request.labs)
    return registration.Owner.of(session), request.specs

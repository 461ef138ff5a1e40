"""File downloads: ``/<lab>/Subjects/<subject>/<date>/<number>/[collection.../][#revision#/]<name.uuid.ext>``
answers 302 to a short-lived presigned S3 GET. API Gateway has no greedy path here, so one route per
folder depth (collections up to four folders, plus a revision)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.datasets import awaiting_central_copy
from chalicelib.downloads import log_downloads, presigned_download
from chalicelib.errors import BadRequest, NotAuthenticated
from chalicelib.handlers.edge import answer, body, error_response, json_response, principal_of, route
from chalicelib.permissions import require_read

bp = Blueprint(__name__)
SESSION = "/{lab}/Subjects/{subject}/{date}/{number}"
MAX_FOLDERS = 5


def _download(*parts: str) -> Response:
    request = bp.current_request
    try:
        url = presigned_download("/".join(parts[:1] + ("Subjects",) + parts[1:]), principal_of(request))
    except NotAuthenticated as error:  # ONE's downloads send Basic credentials only when challenged
        response = error_response(401, error.body())
        response.headers["WWW-Authenticate"] = 'Basic realm="onecloud"'
        return response
    return Response(body="", status_code=302, headers={"Location": url})


def _route(depth: int) -> None:
    folders = "".join(f"/{{folder{i}}}" for i in range(depth))

    @route(
        bp,
        f"{SESSION}{folders}/{{filename}}",
        name=f"download_{depth}",
        methods=["GET"],
        anonymous=True,
        openapi={"responses": {"302": answer("to a presigned GET")}, "errors": ("400", "401", "403", "404")},
    )
    def download(lab: str, subject: str, date: str, number: str, filename: str, **folders: str) -> Response:
        """Redirect to a short-lived presigned GET of the file (if you may read it; 404 otherwise)."""
        ordered = [folders[f"folder{i}"] for i in range(len(folders))]
        return _download(lab, subject, date, number, *ordered, filename)


for _depth in range(MAX_FOLDERS + 1):
    _route(_depth)


def _names(value: object, field: str) -> list[str]:
    """A list, or Alyx's comma-separated text."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [name for name in value.split(",") if name]
    if isinstance(value, list) and all(isinstance(name, str) for name in value):
        return value
    raise BadRequest(f"{field}: expected a list of names or comma-separated text")


@route(bp, "/new-download", methods=["POST"], content_types=["application/json"])
def new_download() -> Response:
    """Log that the caller downloaded ``datasets`` (ids, a list or comma-separated) for ``projects``:
    answers each download record's id and its count, as Alyx does."""
    request = bp.current_request
    principal = require_read(principal_of(request))
    data = body(request)
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object")
    datasets = _names(data.get("datasets"), "datasets")
    if not datasets:
        raise BadRequest("datasets: at least one dataset id is required")
    logged = log_downloads(principal.username, datasets, _names(data.get("projects"), "projects"))
    return json_response(logged, status=201)


@route(
    bp,
    "/sync-file-status",
    methods=["GET"],
    openapi={
        "responses": {"200": answer("the files still due", {"type": "array", "items": {"type": "object"}})}
    },
)
def sync_file_status() -> Response:
    """The files a central repository does not hold yet (Alyx's dry-run sync status); ``lab=`` narrows
    it to one lab. onecloud's store registers files as they arrive, so this lists what is still due."""
    request = bp.current_request
    require_read(principal_of(request))
    lab = (request.query_params or {}).get("lab")
    return json_response(awaiting_central_copy(lab))

"""File downloads: ``/<lab>/Subjects/<subject>/<date>/<number>/[collection.../][#revision#/]<name.uuid.ext>``
answers 302 to a short-lived presigned S3 GET. API Gateway has no greedy path here, so one route per
folder depth (collections up to four folders, plus a revision)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.downloads import presigned_download
from chalicelib.errors import NotAuthenticated
from chalicelib.handlers.edge import error_response, principal_of, route

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

    @route(bp, f"{SESSION}{folders}/{{filename}}", name=f"download_{depth}", methods=["GET"])
    def download(lab: str, subject: str, date: str, number: str, filename: str, **folders: str) -> Response:
        """Redirect to a short-lived presigned GET of the file (if you may read it; 404 otherwise)."""
        ordered = [folders[f"folder{i}"] for i in range(len(folders))]
        return _download(lab, subject, date, number, *ordered, filename)


for _depth in range(MAX_FOLDERS + 1):
    _route(_depth)

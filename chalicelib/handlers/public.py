"""Public data releases: publishing one (``POST /releases``, superusers; ``draft: true`` keeps it as a draft
to check with ``GET /releases/<name>/draft`` and publish with ``POST /releases/<name>/publish``) and
everything the public reaches
without an account, under ``/public``: the releases, their sessions, datasets and ONE cache tables, and
their files at ``/public/<lab>/Subjects/...`` (302 to a presigned GET; anything not released is a 404).

The anonymous routes never read the Authorization header: a stale token cannot lock anyone out of public
data. API Gateway has no greedy path parameter, so files get one route per folder depth, as in
``handlers/downloads.py``.
"""

from __future__ import annotations

import json

from chalice import Blueprint, Response

from chalicelib import releases
from chalicelib.handlers.edge import answer, base_url, body, context, json_response, query, route

bp = Blueprint(__name__)
SESSION = "/public/{lab}/Subjects/{subject}/{date}/{number}"
MAX_FOLDERS = 5
PAGING = [
    {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "maximum": 1000}},
    {"name": "offset", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}},
]
_TEXTS = {"type": "array", "items": {"type": "string"}}
_RELEASE = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "pattern": r"^[A-Za-z0-9][\w.-]{0,99}$"},
        "description": {"type": "string"},
        "supersedes": {"type": "string", "description": "the published release this one replaces"},
        "title": {"type": "string"},
        "contributors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "'Last, First' for a person"},
                    "orcid": {"type": "string"},
                    "affiliation": {"type": "string"},
                    "organisation": {"type": "boolean"},
                },
            },
        },
        "licence": {"type": "string", "enum": ["CC-BY-4.0", "CC0-1.0"], "default": "CC-BY-4.0"},
        "keywords": _TEXTS,
        "nwb": {"type": "boolean", "description": "export each session to NWB and release the files too"},
        "draft": {"type": "boolean", "description": "keep it as a draft to check and publish later"},
        "force": {"type": "boolean", "description": "release datasets whose QC is CRITICAL"},
        "datasets": {**_TEXTS, "description": "dataset ids (or give query)"},
        "query": {
            "type": "object",
            "properties": {
                "sessions": {**_TEXTS, "description": "session ids"},
                "projects": _TEXTS,
                "dataset_types": _TEXTS,
                "collections": _TEXTS,
                "qc_lte": {"type": "string", "description": "QC at most this level (PASS, WARNING...)"},
                "default_revisions_only": {"type": "boolean", "default": True},
            },
        },
    },
}


def _redirect(url: str) -> Response:
    return Response(body="", status_code=302, headers={"Location": url})


@route(
    bp,
    "/releases",
    methods=["POST"],
    content_types=["application/json"],
    openapi={
        "body": _RELEASE,
        "body_name": "release",
        "responses": {"201": answer("the published release", {"type": "object"})},
    },
)
def create_release() -> Response:
    """Publish a release (superusers): its datasets become public and protected, their files frozen."""
    request = bp.current_request
    ctx = context(request)
    return json_response(releases.publish(ctx.principal, body(request), ctx.base_url), status=201)


@route(bp, "/releases/{name}/draft", methods=["GET"])
def show_draft(name: str) -> dict:
    """A draft release as it would be published (superusers): counts, citation, and each dataset that
    would stop it (missing or changed file, non-ALF name, CRITICAL QC), and sessions awaiting NWB."""
    ctx = context(bp.current_request)
    return releases.draft_preview(ctx.principal, name, ctx.base_url)


@route(
    bp,
    "/releases/{name}/publish",
    methods=["POST"],
    content_types=["application/json"],
    openapi={
        "body": {"type": "object", "properties": {"force": {"type": "boolean"}}},
        "body_name": "publish",
    },
)
def publish_draft(name: str) -> Response:
    """Publish a draft (superusers): refused with the list of failing datasets unless all pass."""
    request = bp.current_request
    ctx = context(request)
    return json_response(releases.publish_draft(ctx.principal, name, body(request), ctx.base_url), status=201)


@route(
    bp,
    "/public/releases/{name}/jsonld",
    methods=["GET"],
    anonymous=True,
    openapi={
        "responses": {
            "200": {
                "description": "the release as schema.org JSON-LD",
                "content": {"application/ld+json": {"schema": {"type": "object"}}},
            }
        },
        "errors": ("400", "404"),
    },
)
def release_json_ld(name: str) -> Response:
    """The release as a schema.org ``Dataset`` (JSON-LD), as its landing page embeds it."""
    request = bp.current_request
    return Response(
        body=json.dumps(releases.json_ld(releases.published(name), base_url(request))),
        status_code=200,
        headers={"Content-Type": "application/ld+json"},
    )


@route(bp, "/public/releases", methods=["GET"], anonymous=True, openapi={"query": PAGING})
def list_releases() -> dict:
    """Published releases, newest first (no account needed)."""
    request = bp.current_request
    return releases.list_releases(query(request), base_url(request))


@route(bp, "/public/releases/{name}", methods=["GET"], anonymous=True)
def show_release(name: str) -> dict:
    """A release: description, sizes, what it supersedes or is superseded by, and its links."""
    return releases.release_detail(name, base_url(bp.current_request))


@route(bp, "/public/releases/{name}/sessions", methods=["GET"], anonymous=True, openapi={"query": PAGING})
def release_sessions(name: str) -> dict:
    """The sessions of a release, with their dataset counts and sizes."""
    request = bp.current_request
    return releases.release_sessions(name, query(request), base_url(request))


@route(
    bp,
    "/public/releases/{name}/datasets",
    methods=["GET"],
    anonymous=True,
    openapi={
        "query": [
            *PAGING,
            {"name": "session", "in": "query", "required": False, "schema": {"type": "string"}},
        ]
    },
)
def release_datasets(name: str) -> dict:
    """The datasets of a release (of one session, given ``session``), each with its download URL."""
    request = bp.current_request
    return releases.release_datasets(name, query(request), base_url(request))


@route(
    bp,
    "/public/releases/{name}/cache",
    methods=["GET"],
    anonymous=True,
    openapi={"responses": {"302": answer("to the cache zip")}, "errors": ("400", "404")},
)
def release_cache(name: str) -> Response:
    """Redirect to the release's ONE cache zip (``sessions.pqt``, ``datasets.pqt``, ``cache_info.json``)."""
    return _redirect(releases.release_cache_url(name))


def _route(depth: int) -> None:
    folders = "".join(f"/{{folder{i}}}" for i in range(depth))

    @route(
        bp,
        f"{SESSION}{folders}/{{filename}}",
        name=f"public_download_{depth}",
        methods=["GET"],
        anonymous=True,
        openapi={"responses": {"302": answer("to a presigned GET")}, "errors": ("400", "404")},
    )
    def download(lab: str, subject: str, date: str, number: str, filename: str, **folders: str) -> Response:
        """Redirect to a short-lived presigned GET of a released file (404 for anything else)."""
        ordered = [folders[f"folder{i}"] for i in range(len(folders))]
        path = "/".join([lab, "Subjects", subject, date, number, *ordered, filename])
        return _redirect(releases.public_download(path))


for _depth in range(MAX_FOLDERS + 1):
    _route(_depth)

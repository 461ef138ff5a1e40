"""ONE's cache tables for collaborators: ``GET /cache/info`` (the whole database), ``GET /cache/info/<tag>``
(a release, as ``one.load_cache(tag=...)`` asks), ``POST /cache`` (export now, superusers), and the
``export_cache`` schedule that keeps the database's tables fresh."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib import cache, releases
from chalicelib.handlers.edge import answer, principal_of, query, route
from chalicelib.observability import logger

bp = Blueprint(__name__)
EXPORT_RATE = "rate(1 hour)"


@route(bp, "/cache/info", methods=["GET"])
def cache_info() -> dict:
    """date_created, location (the zip of sessions.pqt and datasets.pqt), origin, min_api_version,
    database_tags: what ONE's load_cache reads before downloading the tables."""
    request = bp.current_request
    return cache.database_info(principal_of(request), releases.public_url_seconds())


@route(bp, "/cache.zip", methods=["GET"], openapi={"responses": {"302": answer("to the cache zip")}})
def cache_zip() -> Response:
    """The database's cache tables (Alyx's ``/cache.zip``): a redirect to the zip ``/cache/info`` names."""
    info = cache.database_info(principal_of(bp.current_request), releases.public_url_seconds())
    return Response(body="", status_code=302, headers={"Location": info["location"]})


@route(bp, "/cache/info/{tag}", methods=["GET"])
def release_cache_info(tag: str) -> dict:
    """The cache info of a release (its name is the tag of its datasets)."""
    return releases.release_cache_info(principal_of(bp.current_request), tag)


@route(
    bp,
    "/cache",
    methods=["POST"],
    content_types=["application/json"],
    openapi={
        "query": [
            {
                "name": "force",
                "in": "query",
                "required": False,
                "schema": {"type": "boolean"},
                "description": "write the tables even when nothing changed",
            }
        ]
    },
)
def rebuild_cache() -> dict:
    """Export the database's cache tables now (superusers)."""
    request = bp.current_request
    force = query(request).get("force", "false").lower() == "true"
    return cache.rebuild(principal_of(request), force=force, expires=releases.public_url_seconds())


@bp.schedule(EXPORT_RATE, name="export_cache")
def export_cache(event: Any) -> None:
    """Rebuild the database's cache tables (a no-op write when nothing changed)."""
    info = cache.export_database()
    logger.info("cache tables exported", date_created=info["date_created"], datasets=info.get("datasets"))

"""``GET /brain-regions``: the Allen brain-region table (chalicelib.atlas), with Alyx's filters."""

from __future__ import annotations

from urllib.parse import urlencode

from chalice import Blueprint, Response

from chalicelib import atlas
from chalicelib.errors import BadRequest
from chalicelib.handlers.edge import context, json_response, query, route, warn_ignored
from chalicelib.permissions import require_read
from chalicelib.rest import DEFAULT_LIMIT, MAX_LIMIT

bp = Blueprint(__name__)

FILTERS = {
    "id": "an Allen region id",
    "acronym": "acronym, ignoring case",
    "name": "name contains, ignoring case",
    "description": "description contains, ignoring case",
    "parent": "the regions directly below this region id",
    "ancestors": "this region (id or acronym) and every region above it",
    "descendants": "this region (id or acronym) and every region below it",
}
_QUERY = [
    {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": text}
    for name, text in {**FILTERS, "limit": "page size", "offset": "first result"}.items()
]


def _matches(region: atlas.BrainRegion, name: str, value: str) -> bool:
    if name in ("id", "parent"):
        number = getattr(region, name)
        return number is not None and str(number) == value.strip()
    if name == "acronym":
        return region.acronym.lower() == value.lower()
    if name == "name":
        return value.lower() in region.name.lower()
    return False  # description: the shipped table has none


@route(bp, "/brain-regions", methods=["GET"], openapi={"query": _QUERY})
def brain_regions() -> Response:
    """The Allen CCF brain regions (ids as channels name them), filtered and paged as Alyx does."""
    request = bp.current_request
    ctx = context(request)
    require_read(ctx.principal)
    asked = query(request)
    try:
        limit = min(int(asked.get("limit", DEFAULT_LIMIT)), MAX_LIMIT)
        offset = int(asked.get("offset", 0))
    except ValueError:
        raise BadRequest("limit and offset must be whole numbers") from None
    found = list(atlas.regions().values())
    if "descendants" in asked:
        wanted = set(atlas.descendants(atlas.region(asked["descendants"]).id)) - {0}
        found = [r for r in found if r.id in wanted]
    if "ancestors" in asked:
        wanted = set(atlas.ancestors(atlas.region(asked["ancestors"]).id)) - {0}
        found = [r for r in found if r.id in wanted]
    for name in ("id", "acronym", "name", "description", "parent"):
        if name in asked:
            found = [r for r in found if _matches(r, name, asked[name])]
    page = found[offset : offset + limit]

    def link(start: int) -> str:
        return f"{ctx.base_url}/brain-regions?{urlencode({**asked, 'limit': limit, 'offset': start})}"

    answer = json_response(
        {
            "count": len(found),
            "next": link(offset + limit) if offset + limit < len(found) else None,
            "previous": link(max(offset - limit, 0)) if offset > 0 else None,
            "results": [region.as_dict() for region in page],
        }
    )
    return warn_ignored(answer, sorted(set(asked) - set(FILTERS) - {"limit", "offset"}))


@route(bp, "/brain-regions/{region_id}", methods=["GET"])
def brain_region(region_id: str) -> dict:
    """One region by its Allen id."""
    require_read(context(bp.current_request).principal)
    if not region_id.lstrip("-").isdigit():
        raise BadRequest(f"{region_id!r} is not an Allen region id")
    return atlas.region(region_id).as_dict()

"""The REST resources of the Alyx contract: the same six routes for every registered resource."""

from __future__ import annotations

from chalice import Blueprint, Response

import chalicelib.resources  # noqa: F401 - registers every resource
from chalicelib import history, rest
from chalicelib.forms import Upload
from chalicelib.handlers.edge import body, context, json_response, query, route, warn_ignored

bp = Blueprint(__name__)
JSON = ["application/json"]
FILES = ["multipart/form-data"]


def _with_files(resource: rest.Resource, data: dict) -> tuple[dict, dict]:
    """A multipart create (Alyx's ``files=``): files become field values through the resource's hook,
    checked by the same validation as the other fields. Returns the data and the stored values."""
    files = {name: value for name, value in data.items() if isinstance(value, Upload)}
    if not files:
        return data, {}
    stored = resource.store_files(files)
    return {**{k: v for k, v in data.items() if k not in files}, **stored}, stored


def _routes(resource: rest.Resource) -> None:
    name, slug = resource.name, resource.name.replace("-", "_")
    creates = JSON + (FILES if resource.store_files else [])

    def list_items() -> Response:
        request = bp.current_request
        asked = query(request)
        answer = json_response(rest.list_items(resource, asked, context(request), f"/{name}"))
        return warn_ignored(answer, rest.ignored_filters(resource, asked))

    def create_item() -> Response:
        request = bp.current_request
        data, stored = body(request), {}
        if resource.store_files and isinstance(data, dict):
            data, stored = _with_files(resource, data)
        try:
            return json_response(rest.create_items(resource, data, context(request)), status=201)
        except Exception:
            if stored and resource.discard_files:
                resource.discard_files(stored)  # a request that fails leaves nothing behind
            raise

    def read_item(key: str) -> Response:
        request = bp.current_request
        return _versioned(*rest.read_versioned(resource, key, context(request), query(request)))

    def update_item(key: str) -> Response:
        return _update(key, partial=False)

    def partial_update_item(key: str) -> Response:
        return _update(key, partial=True)

    def delete_item(key: str) -> Response:
        request = bp.current_request
        based_on = history.parse_if_match(request.headers.get("if-match"))
        rest.delete_item(resource, key, context(request), based_on=based_on, scope=query(request))
        return Response(body="", status_code=204)

    def item_history(key: str) -> dict:
        request = bp.current_request
        return rest.item_history(resource, key, context(request), query(request))

    def _update(key: str, *, partial: bool) -> Response:
        request = bp.current_request
        based_on = history.parse_if_match(request.headers.get("if-match"))
        scope = query(request)
        changed = rest.update_item(
            resource, key, body(request), context(request), partial=partial, based_on=based_on, scope=scope
        )
        return _versioned(changed, rest.version_of(resource, key, scope))

    def _versioned(payload: dict, version: int) -> Response:
        """The record with its version as the ETag a later ``If-Match`` names."""
        response = json_response(payload)
        response.headers["ETag"] = history.etag(version)
        return response

    # every route exists: a write a resource does not take answers 403 (rest._allow), as Alyx's
    for _action, suffix, view, path, method, options in (
        ("list", "list", list_items, f"/{name}", "GET", {}),
        ("create", "create", create_item, f"/{name}", "POST", {"content_types": creates}),
        ("read", "read", read_item, f"/{name}/{{key}}", "GET", {}),
        ("update", "update", update_item, f"/{name}/{{key}}", "PUT", {"content_types": JSON}),
        (
            "partial_update",
            "partial_update",
            partial_update_item,
            f"/{name}/{{key}}",
            "PATCH",
            {"content_types": JSON},
        ),
        ("delete", "delete", delete_item, f"/{name}/{{key}}", "DELETE", {}),
        ("read", "history", item_history, f"/{name}/{{key}}/history", "GET", {}),
    ):
        route(bp, path, name=f"{slug}_{suffix}", methods=[method], **options)(view)


for _resource in list(rest.REGISTRY.values()):
    _routes(_resource)

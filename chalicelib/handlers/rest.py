"""The REST resources of the Alyx contract: the same six routes for every registered resource."""

from __future__ import annotations

from chalice import Blueprint, Response

import chalicelib.resources  # noqa: F401 - registers every resource
from chalicelib import history, rest
from chalicelib.forms import Upload
from chalicelib.handlers.edge import body, context, json_response, query, route

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

    @route(bp, f"/{name}", name=f"{slug}_list", methods=["GET"])
    def list_items() -> dict:
        request = bp.current_request
        return rest.list_items(resource, query(request), context(request), f"/{name}")

    creates = JSON + (FILES if resource.store_files else [])

    @route(bp, f"/{name}", name=f"{slug}_create", methods=["POST"], content_types=creates)
    def create_item() -> Response:
        request = bp.current_request
        data, stored = body(request), {}
        if resource.store_files and isinstance(data, dict):
            data, stored = _with_files(resource, data)
        try:
            return json_response(rest.create_item(resource, data, context(request)), status=201)
        except Exception:
            if stored and resource.discard_files:
                resource.discard_files(stored)  # a request that fails leaves nothing behind
            raise

    @route(bp, f"/{name}/{{key}}", name=f"{slug}_read", methods=["GET"])
    def read_item(key: str) -> Response:
        request = bp.current_request
        return _versioned(*rest.read_versioned(resource, key, context(request), query(request)))

    @route(bp, f"/{name}/{{key}}", name=f"{slug}_update", methods=["PUT"], content_types=JSON)
    def update_item(key: str) -> Response:
        return _update(key, partial=False)

    @route(bp, f"/{name}/{{key}}", name=f"{slug}_partial_update", methods=["PATCH"], content_types=JSON)
    def partial_update_item(key: str) -> Response:
        return _update(key, partial=True)

    @route(bp, f"/{name}/{{key}}", name=f"{slug}_delete", methods=["DELETE"])
    def delete_item(key: str) -> Response:
        request = bp.current_request
        based_on = history.parse_if_match(request.headers.get("if-match"))
        rest.delete_item(resource, key, context(request), based_on=based_on, scope=query(request))
        return Response(body="", status_code=204)

    @route(bp, f"/{name}/{{key}}/history", name=f"{slug}_history", methods=["GET"])
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


for _resource in list(rest.REGISTRY.values()):
    _routes(_resource)

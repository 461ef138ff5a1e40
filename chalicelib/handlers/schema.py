"""``GET /api/schema`` (OpenAPI 3, generated from the app's own routes and the resources' fields) and
``GET /`` (the endpoints). ONE reads the schema to learn which endpoints, actions and filters exist."""

from __future__ import annotations

import re
from typing import Any

from chalice import Blueprint

import chalicelib
from chalicelib import rest
from chalicelib.handlers.edge import context, route
from chalicelib.permissions import require_read
from chalicelib.web.pages import is_page

bp = Blueprint(__name__)

_ACTIONS = {
    ("GET", False): "list",
    ("GET", True): "read",
    ("POST", False): "create",
    ("PUT", True): "update",
    ("PATCH", True): "partial_update",
    ("DELETE", True): "delete",
}


def _component(resource: rest.Resource) -> dict[str, Any]:
    component = {
        "type": "object",
        "description": resource.description,
        "properties": {f.name: f.openapi() for f in resource.fields},
    }
    required = [f.name for f in resource.fields if f.required]
    if required:  # OpenAPI 3.0 wants a non-empty list, or none
        component["required"] = required
    return component


def _query_parameters(resource: rest.Resource) -> list[dict[str, Any]]:
    paging = [
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "maximum": rest.MAX_LIMIT},
            "description": f"page size (default {rest.DEFAULT_LIMIT})",
        },
        {"name": "offset", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}},
        {
            "name": "django",
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": "lookup,value[,lookup,value...]: __in __icontains __gte __lte __lt __gt __date, ~",
        },
    ]
    if not resource.django:
        paging = paging[:2]
    return paging + [
        {
            "name": p.name,
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": p.description,
        }
        for p in resource.filters().values()
    ]


def _body(ref: str) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


def openapi(routes: dict[str, dict[str, Any]], base_url: str) -> dict[str, Any]:
    """The OpenAPI document of ``routes`` (Chalice's route table): every path, method, query parameter
    and request body, with the resources' fields as component schemas."""
    schemas = {resource.name: _component(resource) for resource in rest.REGISTRY.values()}
    paths: dict[str, Any] = {}
    for path, methods in sorted(routes.items()):
        if is_page(path):
            continue  # the web pages (HTML) are not part of the REST API
        segments = path.strip("/").split("/")
        resource = rest.REGISTRY.get(segments[0])
        keyed = len(segments) == 2 and segments[1].startswith("{")
        item: dict[str, Any] = {}
        for method, entry in sorted(methods.items()):
            view = entry.view_function
            extra = dict(getattr(view, "openapi", {}))
            operation: dict[str, Any] = {
                "operationId": f"{entry.view_name}_{method.lower()}" if len(methods) > 1 else entry.view_name,
                "description": (view.__doc__ or (resource.description if resource else "")).strip(),
                "responses": {"200": {"description": "OK"}, "400": {"description": "bad input: {detail}"}},
                "parameters": [
                    {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                    for name in re.findall(r"{(\w+)}", path)
                ],
            }
            action = _ACTIONS.get((method, keyed)) if resource and len(segments) <= 2 else None
            if action == "list":
                operation["parameters"] += _query_parameters(resource)
            if action in ("create", "update", "partial_update"):
                operation["requestBody"] = _body(resource.name)
            if "body" in extra:
                schemas[extra["body_name"]] = extra["body"]
                operation["requestBody"] = _body(extra["body_name"])
            operation["parameters"] += extra.get("query", [])
            item[method.lower()] = operation
        paths[path] = item
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "onecloud",
            "version": chalicelib.__version__,
            "description": "The Alyx-compatible REST API of onecloud",
        },
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"Token": {"type": "apiKey", "in": "header", "name": "Authorization"}},
        },
        "security": [{"Token": []}],
    }


@route(bp, "/api/schema", methods=["GET"])
def api_schema() -> dict:
    """This document."""
    ctx = context(bp.current_request)
    require_read(ctx.principal)
    return openapi(bp.current_app.routes, ctx.base_url)


@route(bp, "/", methods=["GET"])
def root() -> dict:
    """Every endpoint that answers a GET without parameters, by name, with its URL."""
    ctx = context(bp.current_request)
    require_read(ctx.principal)
    names = sorted(
        path.strip("/")
        for path, methods in bp.current_app.routes.items()
        if path != "/" and "GET" in methods and "{" not in path
    )
    return {name: f"{ctx.base_url}/{name}" for name in names}

"""``GET /api/schema`` (OpenAPI 3, generated from the app's own routes and the resources' fields) and
``GET /`` (the endpoints). ONE reads the schema to learn which endpoints, actions and filters exist."""

from __future__ import annotations

import re
from typing import Any

from chalice import Blueprint

import chalicelib
from chalicelib import rest
from chalicelib.fields import Field
from chalicelib.handlers.edge import answer, context, route
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
    properties = {f.name: f.openapi() for f in resource.fields}
    if "password" in properties:
        properties["password"]["writeOnly"] = True
    component = {
        "type": "object",
        "description": resource.description,
        "properties": properties,
    }
    required = [f.name for f in resource.fields if f.required]
    if required:  # OpenAPI 3.0 wants a non-empty list, or none
        component["required"] = required
    return component


_SHAPES = {"integer": "integer", "number": "number", "boolean": "boolean"}


def _shape(f: Field) -> dict[str, Any]:
    """What a record's field reads as: its JSON type (relations read as names or URLs, dates as text)."""
    if f.kind == "json":
        return {"nullable": True}
    if f.kind == "list":
        return {"type": "array", "items": {"type": "string"}, "nullable": True}
    return {"type": _SHAPES.get(f.kind, "string"), "nullable": True}


def _record(resource: rest.Resource) -> dict[str, Any]:
    """A record as the API answers it: ``id``, ``url`` and every field but the write-only ones (a
    resource may add more: a subject's water, a session's datasets)."""
    properties = {"id": {"type": "string"}, "url": {"type": "string"}}
    properties.update({f.name: _shape(f) for f in resource.fields if f.name not in WRITE_ONLY})
    return {"type": "object", "required": ["id"], "properties": properties}


def _page(ref: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["count", "next", "previous", "results"],
        "properties": {
            "count": {"type": "integer", "minimum": 0},
            "next": {"type": "string", "nullable": True},
            "previous": {"type": "string", "nullable": True},
            "results": {"type": "array", "items": {"$ref": f"#/components/schemas/{ref}"}},
        },
    }


_ERRORS = {
    "400": "bad input: the detail names the field and what it accepts",
    "401": "no credentials",
    "403": "not allowed, or an invalid token",
    "404": "no such record",
    "409": "a duplicate, or a change the record's state forbids",
}
WRITES = ("POST", "PUT", "PATCH", "DELETE")
WRITE_ONLY = ("password",)


def _responses(
    method: str, anonymous: bool, successes: dict[str, Any], errors: tuple[str, ...] | None
) -> dict[str, Any]:
    """Each status the operation answers, with its body: the successes it declares, and the errors
    every operation of its kind can answer, all ``{"detail": ...}``."""
    if errors is None:
        errors = (
            ("400", "403", "404") + (() if anonymous else ("401",)) + (("409",) if method in WRITES else ())
        )
    responses = dict(successes)
    for status in sorted(errors):
        responses[status] = answer(_ERRORS[status], {"$ref": "#/components/schemas/error"})
    return responses


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


def _default_success(view: Any) -> dict[str, Any]:
    """What a route that declares nothing answers: a JSON array when its view is annotated to return a
    list, else a JSON object (so a new endpoint's schema is right without an ``openapi=`` of its own)."""
    returns = getattr(getattr(view, "__wrapped__", view), "__annotations__", {}).get("return")
    if str(returns).startswith("list"):
        return {"200": answer("OK", {"type": "array"})}
    return {"200": answer("OK", {"type": "object"})}


def openapi(routes: dict[str, dict[str, Any]], base_url: str) -> dict[str, Any]:
    """The OpenAPI document of ``routes`` (Chalice's route table): every path, method, query parameter
    and request body, with the resources' fields as component schemas."""
    schemas = {resource.name: _component(resource) for resource in rest.REGISTRY.values()}
    schemas.update({f"{resource.name}-record": _record(resource) for resource in rest.REGISTRY.values()})
    schemas["error"] = {
        "type": "object",
        "required": ["detail"],
        "properties": {"detail": {"type": "string"}},
    }
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
                "parameters": [
                    {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                    for name in re.findall(r"{(\w+)}", path)
                ],
            }
            action = _ACTIONS.get((method, keyed)) if resource and len(segments) <= 2 else None
            successes = extra.get("responses") or _default_success(view)
            if action == "list":
                operation["parameters"] += _query_parameters(resource)
            if action in ("create", "update", "partial_update"):
                operation["requestBody"] = _body(resource.name)
            if action:
                record = {"$ref": f"#/components/schemas/{resource.name}-record"}
                successes = {
                    "list": {"200": answer("a page of records", _page(f"{resource.name}-record"))},
                    "read": {"200": answer("the record", record)},
                    "create": {"201": answer("the new record", record)},
                    "update": {"200": answer("the record as saved", record)},
                    "partial_update": {"200": answer("the record as saved", record)},
                    "delete": {"204": answer("deleted")},
                }[action]
            if "body" in extra:
                schemas[extra["body_name"]] = extra["body"]
                operation["requestBody"] = _body(extra["body_name"])
            operation["parameters"] += extra.get("query", [])
            operation["responses"] = _responses(
                method, getattr(view, "anonymous", False), successes, extra.get("errors")
            )
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

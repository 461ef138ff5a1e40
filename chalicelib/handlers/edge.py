"""The edge between HTTP and the domain: where onecloud's one error type becomes an HTTP answer.

Chalice turns any exception escaping a view into a 500 before middleware sees it, so each view is wrapped
here instead: every ``OnecloudError`` becomes its 4xx JSON ``{"detail": ...}``, and Chalice's own errors
(malformed JSON bodies...) get the same shape.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response
from chalice.app import ChaliceViewError, Request

from chalicelib.auth import Principal, authenticate
from chalicelib.errors import NotFound, OnecloudError
from chalicelib.fields import NAME_LENGTH, FormText, parse_json
from chalicelib.forms import parse_form
from chalicelib.observability import logger
from chalicelib.permissions import require_read
from chalicelib.rest import Context


def principal_of(request: Request) -> Principal | None:
    """The caller behind the Authorization header, read from the account as it is now (once per request);
    None when there is none (the permission check then answers 401 wherever an account is needed)."""
    if not hasattr(request, "onecloud_principal"):
        header = request.headers.get("authorization")
        request.onecloud_principal = authenticate(header) if header else None
    return request.onecloud_principal


def base_url(request: Request) -> str:
    """The URL the client used to reach the API (records carry absolute URLs built from it)."""
    headers = request.headers
    host = headers.get("host", "localhost")
    scheme = headers.get("x-forwarded-proto", "https" if host.endswith("amazonaws.com") else "http")
    stage = request.context.get("stage", "")
    prefix = f"/{stage}" if stage and host.endswith("amazonaws.com") else ""
    return f"{scheme}://{host}{prefix}"


def context(request: Request) -> Context:
    return Context(principal=principal_of(request), base_url=base_url(request))


def body(request: Request) -> Any:
    """The JSON body (or a form-encoded one), as a 400 naming the problem when it cannot be read."""
    raw = request.raw_body or b""
    if not raw.strip():
        return {}
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = parse_form(raw, content_type)
        return {key: FormText(v[-1]) if isinstance(v[-1], str) else v[-1] for key, v in form.items()}
    return parse_json(raw)


def query(request: Request) -> dict[str, str]:
    return dict(request.query_params or {})


def json_response(payload: Any, status: int = 200) -> Response:
    """JSON. The Content-Length the contract asks for on every body is API Gateway's to send (a second
    one from the app would be repeated in the answer)."""
    return Response(
        body=json.dumps(payload, default=str),
        status_code=status,
        headers={"Content-Type": "application/json"},
    )


def route_not_found(path: str) -> str:
    """The detail of the 404 for a path no route matches (API Gateway answers it, not the app)."""
    return f"no endpoint at {path}: GET / lists the endpoints"


def warn_ignored(answer: Response, ignored: list[str]) -> Response:
    """Name the query parameters no filter declares in a ``Warning`` header: they are ignored, as Alyx
    (django-filter) ignores them, but never silently. Only printable ASCII goes into the header."""
    if ignored:
        shown = ", ".join(ignored).encode("ascii", "backslashreplace").decode()
        shown = "".join(c if c.isprintable() and c not in '"\\' else "?" for c in shown)
        answer.headers["Warning"] = f'299 onecloud "ignored unknown filters: {shown}"'
    return answer


def error_response(status: int, payload: dict[str, Any]) -> Response:
    return json_response(payload, status)


def json_errors(view: Callable[..., Any], current: Callable[[], Request] | None = None) -> Callable[..., Any]:
    """``current`` (the blueprint's current request) makes the view authenticate its caller first: an
    anonymous or unknown caller gets 401/403 before anything of the request (its body) is read."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            if current is not None:
                require_read(principal_of(current()))
            too_long = [name for name, value in kwargs.items() if len(str(value)) > NAME_LENGTH]
            if too_long:  # no key, name or file name is that long: DynamoDB would refuse to look it up
                raise NotFound(f"{too_long[0]}: nothing is named with over {NAME_LENGTH} characters")
            response = view(*args, **kwargs)
            return response if isinstance(response, Response) else json_response(response)
        except OnecloudError as error:
            logger.info("request refused", status=error.status, detail=error.detail)
            return error_response(error.status, error.body())
        except ChaliceViewError as error:
            message = str(error).split(": ", 1)[-1]
            return error_response(error.STATUS_CODE, {"detail": message})

    return wrapper


def answer(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """An OpenAPI response: what a route's ``openapi={"responses": {status: answer(...)}}`` declares."""
    declared: dict[str, Any] = {"description": description}
    if schema is not None:
        declared["content"] = {"application/json": {"schema": schema}}
    return declared


def route(
    blueprint: Blueprint,
    path: str,
    *,
    openapi: dict[str, Any] | None = None,
    anonymous: bool = False,
    **options: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``blueprint.route`` with errors mapped once (use this, not ``blueprint.route``). Callers are
    authenticated before the view runs unless ``anonymous`` (the open endpoints, which decide themselves).
    ``openapi`` adds to what /api/schema says of the route: a request body, query parameters, its
    successful ``responses`` (200 with a JSON object unless declared) and its ``errors`` if not the usual;
    Chalice's ``name`` option names views generated in a loop."""

    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        wrapped = json_errors(view, None if anonymous else lambda: blueprint.current_request)
        wrapped.openapi = openapi or {}
        wrapped.anonymous = anonymous
        blueprint.route(path, **options)(wrapped)
        return wrapped

    return register

"""What API Gateway does in front of the app, for the local stack and the tests.

Chalice's local gateway differs from API Gateway's REST API in two ways that users meet: it hands path
parameters to the app still percent-encoded (API Gateway decodes them, so ``/procedures/Headplate%20implant``
names "Headplate implant" and ``%2F`` a ``/`` inside one name), and it answers a path no route matches
with API Gateway's default 403 "Missing Authentication Token", which the deployed API replaces by a JSON
404 (``infrastructure/api_stack.py`` declares that gateway response). This gateway does both as deployed.

It also keeps the request being handled apart for each request, as Lambda runs concurrent requests in
separate containers: Chalice keeps it on the app object (``app.current_request``), so two requests of the
threaded local server at once read each other's (a demo sending four sessions at a time got 409s for
records that did not exist, and sessions created from another request's body). Here the app's current
request (and Lambda context) belongs to the thread that handles it, so requests run side by side as on
AWS, where one at a time made the local API a queue.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import unquote, urlparse

from chalice import Chalice
from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    LambdaEventConverter,
    LocalDevServer,
    LocalGateway,
    LocalGatewayException,
    MatchResult,
    RouteMatcher,
)

from chalicelib.handlers.edge import route_not_found


class DecodingRouteMatcher(RouteMatcher):
    """Routes match on the encoded path (an encoded ``/`` stays inside its segment); the parameters
    are then decoded."""

    def match_route(self, url: str) -> MatchResult:
        match = super().match_route(url)
        captured = {name: unquote(value) for name, value in match.captured.items()}
        return MatchResult(match.route, captured, match.query_params)


class RouteNotFound(LocalGatewayException):
    CODE = 404


class _PerThread:
    """An attribute of the app whose value belongs to the thread that sets it."""

    _values = threading.local()

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, app: Any, owner: type | None = None) -> Any:
        return self if app is None else getattr(self._values, self.name, None)

    def __set__(self, app: Any, value: Any) -> None:
        setattr(self._values, self.name, value)


def per_thread_requests(app: Chalice) -> None:
    """Make ``app.current_request`` and ``app.lambda_context`` the handling thread's own (idempotent)."""
    cls = type(app)
    if isinstance(cls.__dict__.get("current_request"), _PerThread):
        return
    app.__class__ = type(
        cls.__name__,
        (cls,),
        {"current_request": _PerThread("current_request"), "lambda_context": _PerThread("lambda_context")},
    )


class ApiGateway(LocalGateway):
    def __init__(self, app_object: Chalice, config: Config) -> None:
        per_thread_requests(app_object)
        super().__init__(app_object, config)
        self.event_converter = LambdaEventConverter(
            DecodingRouteMatcher(list(app_object.routes)), app_object.api.binary_types
        )

    def _generate_lambda_event(self, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        try:
            return super()._generate_lambda_event(method, path, headers, body)
        except ValueError:
            raise RouteNotFound(
                {"Content-Type": "application/json"},
                json.dumps({"detail": route_not_found(urlparse(path).path)}).encode(),
            ) from None


class RequestHandler(ChaliceRequestHandler):
    def __init__(
        self, request: bytes, client_address: Any, server: HTTPServer, app_object: Chalice, config: Config
    ) -> None:
        self.local_gateway = ApiGateway(app_object, config)
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)  # type: ignore[arg-type]


def local_server(app: Chalice, config: Config, host: str, port: int) -> LocalDevServer:
    return LocalDevServer(app, config, host, port, handler_cls=RequestHandler)


def gateway_client(app: Chalice) -> Any:
    """Chalice's test client, in front of which this gateway stands instead of Chalice's."""
    from chalice.test import Client

    client = Client(app)
    client.http._local_gateway = ApiGateway(app, client.http._config)
    return client

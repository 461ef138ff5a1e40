"""What API Gateway does in front of the app, for the local stack and the tests.

Chalice's local gateway differs from API Gateway's REST API in two ways that users meet: it hands path
parameters to the app still percent-encoded (API Gateway decodes them, so ``/procedures/Headplate%20implant``
names "Headplate implant" and ``%2F`` a ``/`` inside one name), and it answers a path no route matches
with API Gateway's default 403 "Missing Authentication Token", which the deployed API replaces by a JSON
404 (``infrastructure/api_stack.py`` declares that gateway response). This gateway does both as deployed.

It also hands the app one request at a time, as a Lambda container does: Chalice keeps the request being
handled on the app object (``app.current_request``), so two requests of the threaded local server at once
read each other's (a demo sending four sessions at a time got 409s for records that did not exist, and
sessions created from another request's body).
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


_ONE_AT_A_TIME = threading.Lock()


class ApiGateway(LocalGateway):
    def __init__(self, app_object: Chalice, config: Config) -> None:
        super().__init__(app_object, config)
        self.event_converter = LambdaEventConverter(
            DecodingRouteMatcher(list(app_object.routes)), app_object.api.binary_types
        )

    def handle_request(self, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        with _ONE_AT_A_TIME:
            return super().handle_request(method, path, headers, body)

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

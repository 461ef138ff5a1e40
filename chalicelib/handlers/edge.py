"""The edge between HTTP and the domain: where onecloud's one error type becomes an HTTP answer.

Chalice turns any exception escaping a view into a 500 before middleware sees it, so each view is wrapped
here instead: every ``OnecloudError`` becomes its 4xx JSON ``{"detail": ...}``, and Chalice's own errors
(malformed JSON bodies...) get the same shape.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response
from chalice.app import ChaliceViewError

from chalicelib.errors import OnecloudError
from chalicelib.observability import logger


def error_response(status: int, body: dict[str, Any]) -> Response:
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


def json_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except OnecloudError as error:
            logger.info("request refused", status=error.status, detail=error.detail)
            return error_response(error.status, error.body())
        except ChaliceViewError as error:
            message = str(error).split(": ", 1)[-1]
            return error_response(error.STATUS_CODE, {"detail": message})

    return wrapper


def route(
    blueprint: Blueprint, path: str, **options: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``blueprint.route`` with errors mapped once (use this, not ``blueprint.route``)."""

    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        wrapped = json_errors(view)
        blueprint.route(path, **options)(wrapped)
        return wrapped

    return register

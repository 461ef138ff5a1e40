"""Logging in (``POST /auth-token``) and who am I (``GET /me``)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import auth
from chalicelib.handlers.edge import answer, body, principal_of, route
from chalicelib.permissions import require_read

bp = Blueprint(__name__)


@route(
    bp,
    "/auth-token",
    methods=["POST"],
    anonymous=True,
    openapi={
        "responses": {
            "200": answer(
                "a token for the Authorization header",
                {"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}},
            )
        },
        "errors": ("400",),
    },
    content_types=["application/x-www-form-urlencoded", "application/json"],
)
def auth_token() -> dict:
    """Exchange a username and password (form-encoded or JSON) for a token: {"token": "..."}."""
    data = body(bp.current_request)
    if not isinstance(data, dict):
        data = {}
    return {"token": auth.log_in(str(data.get("username") or ""), str(data.get("password") or ""))}


@route(bp, "/me", methods=["GET"], openapi={"errors": ("401", "403")})
def me() -> dict:
    """The current user: username, labs, roles."""
    principal = require_read(principal_of(bp.current_request))
    return {
        "username": principal.username,
        "labs": sorted(principal.labs),
        "is_superuser": principal.is_superuser,
        "is_public_user": principal.is_public_user,
    }

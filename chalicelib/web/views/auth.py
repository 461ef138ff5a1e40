"""Logging in and out of the web pages (the same accounts and password check as ``POST /auth-token``)."""

from __future__ import annotations

from chalice import Response

from chalicelib.auth import check_credentials
from chalicelib.errors import BadRequest
from chalicelib.web.pages import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_HOURS,
    Web,
    end_session,
    page,
    redirect,
    render,
    start_session,
)


def _safe_next(target: str) -> str:
    """Only a path of these pages: never an open redirect to another site."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@page("/login", ("GET", "POST"), public=True)
def login(web: Web) -> Response:
    target = _safe_next(web.query.get("next") or web.value("next") or "/")
    if web.request.method == "GET":
        if web.principal is not None:
            return redirect(web, target)
        return render(web, "login.html", next=target, username="", error=None)
    username = web.value("username")
    try:
        user = check_credentials(username, web.value("password"))
    except BadRequest as error:
        return render(web, "login.html", status=400, next=target, username=username, error=error.detail)
    web.set_cookie(SESSION_COOKIE, start_session(user.username), max_age=SESSION_HOURS * 3600)
    web.set_cookie(CSRF_COOKIE, "", max_age=0)
    path, _, query = target.partition("?")
    return redirect(web, path + (f"?{query}" if query else ""))


@page("/logout", ("POST",))
def logout(web: Web) -> Response:
    key = web.cookie_value(SESSION_COOKIE)
    if key:
        end_session(key)
    web.set_cookie(SESSION_COOKIE, "", max_age=0)
    return redirect(web, "/login")

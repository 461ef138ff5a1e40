"""The machinery every web page shares: routing under ``/ui/``, cookie sessions, CSRF, rendering.

A page is a plain function decorated with ``@page(path)``. It receives a ``Web`` (who is logged in, the
query, the submitted form, the CSRF token) and returns ``render(...)`` or ``redirect(...)``. Pages call
the same domain functions the REST API calls (``chalicelib.rest`` with ``web.ctx``, ``chalicelib.husbandry``,
``chalicelib.water``...), so the permission check and every rule run once, for both faces.

Sessions: the cookie holds a random key whose salted hash is stored in the token table (``AuthToken``);
the salt means a web session key is never accepted as an API token and vice versa. The cookie is HttpOnly,
SameSite=Lax, and Secure when the page is served over HTTPS. CSRF: every POST carries ``csrf_token``,
derived from the session key (or, before log-in, from a random cookie), and compared in constant time.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
import mimetypes
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.auth import Principal, principal_for
from chalicelib.errors import NotAuthenticated, OnecloudError, PermissionDenied
from chalicelib.forms import Upload, parse_form
from chalicelib.models import AuthToken, User
from chalicelib.observability import logger
from chalicelib.rest import Context

HERE = Path(__file__).resolve().parent
TEMPLATES, STATIC = HERE / "templates", HERE / "static"
SESSION_COOKIE, CSRF_COOKIE = "onecloud_session", "onecloud_csrf"
SESSION_HOURS = 12
FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data"]

bp = Blueprint(__name__)
PUBLIC_PAGES: set[str] = set()  # routes open without an account (the public release pages)
templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class NavEntry:
    label: str
    path: str
    order: int


NAV: list[NavEntry] = []


def nav(label: str, path: str, order: int = 50) -> None:
    """Add an entry to the navigation bar (``path`` under /ui, e.g. ``/subjects``); lower order first."""
    NAV.append(NavEntry(label, path, order))
    NAV.sort(key=lambda entry: (entry.order, entry.label))


def is_page(path: str) -> bool:
    """Whether a route is one of the web pages (HTML under /ui), not the REST API."""
    return path == "/ui" or path.startswith("/ui/")


def _digest(key: str) -> str:
    return hashlib.sha256(f"web-session:{key}".encode()).hexdigest()


def start_session(username: str) -> str:
    """A new session key for ``username`` (only its salted hash is stored)."""
    key = secrets.token_urlsafe(32)
    AuthToken(token_hash=_digest(key), username=username).save()
    return key


def end_session(key: str) -> None:
    try:
        AuthToken(token_hash=_digest(key)).delete()
    except Exception:  # noqa: BLE001 - logging out of a session that is already gone is fine
        logger.info("session already gone at log-out")


def session_principal(key: str | None) -> Principal | None:
    """The user behind a session cookie, or None when it is absent, unknown, expired or deactivated."""
    if not key:
        return None
    try:
        record = AuthToken.get(_digest(key))
        user = User.get(record.username)
    except (AuthToken.DoesNotExist, User.DoesNotExist):
        return None
    age = datetime.datetime.now() - datetime.datetime.fromisoformat(record.created)
    if not user.is_active or age > datetime.timedelta(hours=SESSION_HOURS):
        return None
    return principal_for(user)


def csrf_for(secret: str) -> str:
    return hmac.new(secret.encode(), b"onecloud-csrf", hashlib.sha256).hexdigest()


def _is_https(request: Request) -> bool:
    headers = request.headers
    host = headers.get("host", "")
    return headers.get("x-forwarded-proto", "https" if host.endswith("amazonaws.com") else "http") == "https"


def _root(request: Request) -> str:
    """The path prefix of the stage on API Gateway (``/api``), empty locally."""
    stage = request.context.get("stage", "")
    return f"/{stage}" if stage and request.headers.get("host", "").endswith("amazonaws.com") else ""


def cookie(name: str, value: str, request: Request, *, max_age: int | None = None) -> str:
    parts = [f"{name}={value}", f"Path={_root(request) or '/'}", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if _is_https(request):
        parts.append("Secure")
    return "; ".join(parts)


def _form(request: Request) -> dict[str, list[Any]]:
    """The submitted form: field -> list of values (text, or ``Upload`` for files)."""
    return parse_form(request.raw_body or b"", request.headers.get("content-type", ""))


@dataclass
class Web:
    """One page request: who asks, what they sent, and what the page hands to its template."""

    request: Request
    principal: Principal | None
    csrf_token: str
    root: str
    form: dict[str, list[Any]] = field(default_factory=dict)
    cookies_out: list[str] = field(default_factory=list)

    @property
    def ctx(self) -> Context:
        """The context the REST engine takes: the same permission check as the API."""
        scheme = "https" if _is_https(self.request) else "http"
        return Context(
            self.principal, f"{scheme}://{self.request.headers.get('host', 'localhost')}{self.root}"
        )

    @property
    def user(self) -> Principal:
        if self.principal is None:
            raise NotAuthenticated("log in first")
        return self.principal

    @property
    def query(self) -> dict[str, str]:
        return dict(self.request.query_params or {})

    def value(self, name: str, default: str = "") -> str:
        """A submitted text field (the last one when repeated), stripped."""
        values = [v for v in self.form.get(name, []) if isinstance(v, str)]
        return values[-1].strip() if values else default

    def values(self, name: str) -> list[str]:
        return [v.strip() for v in self.form.get(name, []) if isinstance(v, str) and v.strip()]

    def upload(self, name: str) -> Upload | None:
        files = [v for v in self.form.get(name, []) if isinstance(v, Upload)]
        return files[-1] if files else None

    def cookie_value(self, name: str) -> str | None:
        return _cookies(self.request).get(name)

    def set_cookie(self, name: str, value: str, *, max_age: int | None = None) -> None:
        self.cookies_out.append(cookie(name, value, self.request, max_age=max_age))

    def url(self, path: str, **params: Any) -> str:
        """An absolute path under /ui (stage prefix included), with query parameters when given."""
        query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
        path = "" if path == "/" else path
        return f"{self.root}/ui{path}" + (f"?{query}" if query else "")

    def can_write(self, lab: str | None) -> bool:
        """Whether the permission check would let this user write a record of ``lab`` (to hide forms)."""
        p = self.principal
        return bool(p and (p.is_superuser or (not p.is_public_user and lab in p.labs)))


def _cookies(request: Request) -> dict[str, str]:
    jar = SimpleCookie()
    try:
        jar.load(request.headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 - a malformed cookie header means no cookies, not a 500
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def render(web: Web, template: str, *, status: int = 200, **values: Any) -> Response:
    html = templates.get_template(template).render(
        web=web,
        user=web.principal,
        nav=NAV,
        csrf_token=web.csrf_token,
        url=web.url,
        static=lambda name: f"{web.root}/ui/static/{name}?v={_static_version(name)}",
        **values,
    )
    return _respond(web, html, status)


def _respond(web: Web, html: str, status: int) -> Response:
    headers: dict[str, Any] = {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data: http: https:; "
        "connect-src 'self' http: https:; frame-ancestors 'none'; form-action 'self'",
    }
    if web.cookies_out:
        headers["Set-Cookie"] = list(web.cookies_out)
    return Response(body=html, status_code=status, headers=headers)


def redirect(web: Web, path: str, **params: Any) -> Response:
    """303 See Other to a path under /ui (after a POST the browser then GETs it)."""
    headers: dict[str, Any] = {"Location": web.url(path, **params), "Cache-Control": "no-store"}
    if web.cookies_out:
        headers["Set-Cookie"] = list(web.cookies_out)
    return Response(body="", status_code=303, headers=headers)


@functools.cache
def _static_version(name: str) -> str:
    path = STATIC / name
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path.is_file() else "0"


def _web(request: Request) -> Web:
    principal = session_principal(_cookies(request).get(SESSION_COOKIE))
    web = Web(request=request, principal=principal, csrf_token="", root=_root(request))
    secret = _cookies(request).get(SESSION_COOKIE) if principal else _cookies(request).get(CSRF_COOKIE)
    if not secret:
        secret = secrets.token_urlsafe(32)
        web.set_cookie(CSRF_COOKIE, secret)
    web.csrf_token = csrf_for(secret)
    return web


def _csrf_ok(web: Web) -> bool:
    sent = web.value("csrf_token") or web.request.headers.get("x-csrf-token", "")
    return bool(sent) and hmac.compare_digest(sent, web.csrf_token)


def page(
    path: str, methods: tuple[str, ...] = ("GET",), *, public: bool = False, name: str | None = None
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Register a page at ``/ui<path>``. Anonymous visitors of a non-public page are sent to log in;
    a POST without the right CSRF token is refused (403) before the view runs; onecloud's errors become
    an error page with their status (a 404 for a missing subject, a 403 for another lab's form)."""

    def register(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(**kwargs: Any) -> Response:
            request = bp.current_request
            web = _web(request)
            if not public and web.principal is None:
                return redirect(web, "/login", next=asked_path(request))
            if request.method == "POST":
                web.form = _form(request)
                if not _csrf_ok(web):
                    return error_page(
                        web,
                        PermissionDenied(
                            "the form expired or came from another site: reload the page and submit it again"
                        ),
                    )
            try:
                return view(web, **kwargs)
            except OnecloudError as error:
                return error_page(web, error)

        route = f"/ui{path}" if path != "/" else "/ui"
        if public:
            PUBLIC_PAGES.add(route)
        for method in methods:  # forms post form bodies; a GET has none (Chalice then assumes JSON)
            options = {"content_types": FORM_TYPES} if method == "POST" else {}
            bp.route(route, methods=[method], name=f"{name or view.__name__}_{method.lower()}", **options)(
                wrapper
            )
        return wrapper

    return register


def asked_path(request: Request) -> str:
    """The path under /ui that was asked for, with its query (Chalice gives the route's template)."""
    path = request.path.format(**{k: quote(v, safe="") for k, v in (request.uri_params or {}).items()})
    query = urlencode(request.query_params or {})
    return path.removeprefix("/ui") + (f"?{query}" if query else "")


def error_page(web: Web, error: OnecloudError) -> Response:
    if isinstance(error, NotAuthenticated):
        return redirect(web, "/login")
    titles = {403: "Not allowed", 404: "Not found"}
    return render(
        web, "error.html", status=error.status, title=titles.get(error.status, "Cannot do that"), error=error
    )


def field_errors(
    error: OnecloudError, fields: tuple[str, ...], hints: dict[str, str] | None = None
) -> dict[str, str]:
    """Put an error next to its field: domain errors name the field first (``weight: must be ...``);
    ``hints`` maps a phrase of an error that names no field to the field it is about."""
    head, _, rest = error.detail.partition(":")
    name = head.strip()
    if rest and name in fields:
        return {name: rest.strip()}
    for phrase, target in (hints or {}).items():
        if phrase in error.detail:
            return {target: error.detail}
    return {"__all__": error.detail}


@bp.route("/ui/static/{name}", methods=["GET"])
def static_file(name: str) -> Response:
    """The pages' own CSS, JS and images, from the package (no CDN); cached by content version."""
    path = (STATIC / name).resolve()
    if path.parent != STATIC or not path.is_file():
        return Response(body="not found", status_code=404, headers={"Content-Type": "text/plain"})
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Response(
        body=path.read_text(),
        status_code=200,
        headers={"Content-Type": f"{content_type}; charset=utf-8", "Cache-Control": "public, max-age=86400"},
    )


def quoted(value: str) -> str:
    return quote(value, safe="")

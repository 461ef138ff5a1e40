"""Test harness of the web pages (``/ui/``): an in-process browser-like client, and real Chromium.

* ``WebClient`` (fixture ``web``): the Chalice app in process, with cookies and CSRF handled as a browser
  does; fast, for what the HTML says and what gets written.
* The fixtures ``ui_stack`` / ``ui`` (marked e2e): the local stack (``make up``) and Debian's headless
  Chromium driven by Playwright; ``ui.page("alice")`` is a logged-in page, ``ui.shot(page, "name")`` saves a
  screenshot under ``test-output/screenshots/`` (``ONECLOUD_TEST_OUTPUT`` moves it).

Chromium missing: the browser tests skip on a developer machine, and fail in CI (``CI`` set), where
``.ci/run`` installs it.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from tests.localstack import ROOT, Stack

CHROMIUM = os.environ.get("ONECLOUD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT = Path(os.environ.get("ONECLOUD_TEST_OUTPUT", ROOT / "test-output"))
PASSWORDS = {"admin": "admin-pw", "alice": "alice-pw", "bob": "bob-pw", "pub": "pub-pw"}


class Page:
    """An HTML answer: status, headers, text, and the few lookups tests need."""

    def __init__(self, response: Any) -> None:
        self.status = response.status_code
        self.headers = response.headers
        body = response.body
        self.text = body.decode() if isinstance(body, bytes) else (body or "")

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    def csrf(self) -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', self.text)
        assert found, "the page has no form with a CSRF token"
        return found.group(1)

    @property
    def plain(self) -> str:
        """The text a reader sees: tags dropped, entities decoded."""
        return html.unescape(re.sub(r"<[^>]+>", "", self.text))

    def __contains__(self, text: str) -> bool:
        return text in self.plain


class WebClient:
    """The app's pages through Chalice's test client, keeping cookies like a browser."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.cookies: dict[str, str] = {}

    def _keep(self, response: Any) -> None:
        sent = response.headers.get("Set-Cookie") or []
        for header in sent if isinstance(sent, list) else [sent]:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {**({"Cookie": cookie} if cookie else {}), **(extra or {})}

    def get(self, path: str, **params: str) -> Page:
        query = f"?{urlencode(params)}" if params else ""
        response = self.client.http.get(path + query, headers=self._headers())
        self._keep(response)
        return Page(response)

    def post(self, path: str, data: dict[str, Any], *, csrf: str | None = None) -> Page:
        """POST a form; the CSRF token is read from a GET of the same path unless given."""
        token = csrf if csrf is not None else self.get(path.split("?")[0]).csrf()
        pairs = [
            (k, v) for k, values in data.items() for v in (values if isinstance(values, list) else [values])
        ]
        response = self.client.http.post(
            path,
            headers=self._headers({"Content-Type": "application/x-www-form-urlencoded"}),
            body=urlencode([("csrf_token", token), *pairs]),
        )
        self._keep(response)
        return Page(response)

    def login(self, username: str, password: str | None = None) -> WebClient:
        self.cookies.pop("onecloud_session", None)  # another user on the same browser
        answer = self.post("/ui/login", {"username": username, "password": password or PASSWORDS[username]})
        assert answer.status == 303, answer.text
        return self


@pytest.fixture
def web(api) -> WebClient:
    """The pages of the app seeded as ``api`` (two labs, users of every role); log in with ``.login``."""
    return WebClient(api.client)


def chromium_or_fail() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    message = f"Debian's chromium is missing at {CHROMIUM} (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


class BrowserStack:
    """The running local stack, its seeded accounts, and a REST session per user."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.url = stack.url
        self.tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self.tokens:
            answer = requests.post(
                f"{self.url}/auth-token",
                json={"username": username, "password": PASSWORDS[username]},
                timeout=30,
            )
            answer.raise_for_status()
            self.tokens[username] = answer.json()["token"]
        return self.tokens[username]

    def rest(self, method: str, path: str, user: str = "admin", **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Token {self.token(user)}"}
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)


@pytest.fixture(scope="session")
def ui_stack(tmp_path_factory) -> Iterator[BrowserStack]:
    """One local stack for every browser test of the run, with two labs and users of every role (the
    passwords in ``PASSWORDS``); tests add what they need through ``rest`` with unique names."""
    chromium_or_fail()
    state = tmp_path_factory.mktemp("ui-stack") / "state"
    state.mkdir()
    stack = Stack(state, ONECLOUD_ADMIN_USER="admin", ONECLOUD_ADMIN_PASSWORD="admin-pw")
    stack.start()
    try:
        seeded = BrowserStack(stack)
        for lab in ("cortexlab", "churchlandlab"):
            answer = seeded.rest(
                "post", "/labs", json={"name": lab, "reference_weight_pct": 0.8, "zscore_weight_pct": 0}
            )
            assert answer.status_code in (201, 400), answer.text
        for user, fields in (
            ("alice", {"lab": ["cortexlab"]}),
            ("bob", {"lab": ["churchlandlab"]}),
            ("pub", {"is_public_user": True}),
        ):
            answer = seeded.rest(
                "post", "/users", json={"username": user, "password": PASSWORDS[user], **fields}
            )
            assert answer.status_code == 201, answer.text
        yield seeded
    finally:
        stack.interrupt()


class Browser:
    """Fresh Chromium profiles (one per user) on the stack; screenshots under ``OUTPUT/screenshots``."""

    def __init__(self, playwright: Any, stack: BrowserStack, name: str) -> None:
        self.playwright, self.stack, self.name = playwright, stack, name
        self.contexts: list[Any] = []
        self.profiles: list[str] = []
        self.shots = OUTPUT / "screenshots"
        self.shots.mkdir(parents=True, exist_ok=True)

    def new_page(self, *, width: int = 1280, height: int = 900) -> Any:
        profile = tempfile.mkdtemp(prefix="onecloud-chromium-")
        self.profiles.append(profile)
        context = self.playwright.chromium.launch_persistent_context(
            profile,
            executable_path=chromium_or_fail(),
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport={"width": width, "height": height},
        )
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        return context.pages[0] if context.pages else context.new_page()

    def page(self, username: str, **size: int) -> Any:
        """A page logged in as ``username`` (through the login form), showing the home page."""
        page = self.new_page(**size)
        page.goto(f"{self.stack.url}/ui/login")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORDS[username])
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{self.stack.url}/ui")
        return page

    def goto(self, page: Any, path: str) -> Any:
        """Open a path under /ui and check it answered without a server error."""
        answer = page.goto(f"{self.stack.url}/ui{path}")
        assert answer is not None and answer.status < 500, f"{path}: {answer and answer.status}"
        return answer

    def shot(self, page: Any, name: str) -> Path:
        """A full-page screenshot named ``<name>.png`` for reviewers (README images come from here)."""
        path = self.shots / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        for profile in self.profiles:
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def _playwright() -> Iterator[Any]:
    chromium_or_fail()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture
def ui(_playwright, ui_stack, request) -> Iterator[Browser]:
    """Chromium on the local stack: ``ui.page(user)``, ``ui.goto(page, path)``, ``ui.shot(page, name)``."""
    browser = Browser(_playwright, ui_stack, request.node.name)
    try:
        yield browser
    finally:
        browser.close()


def png(width: int = 64, height: int = 48, colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A real PNG image (a plain rectangle), for notes with images."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(colour) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )

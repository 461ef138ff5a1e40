"""A small HTTP client for the onecloud API, and the tokens ``onecloud login`` keeps.

Lab machines upload through the API and presigned URLs only: no AWS credentials and no server code, so
the same command works against the local stack and a deployed stage.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

TIMEOUT = (10, 120)  # connect, read: a cold Lambda can take seconds to answer


class ApiError(Exception):
    """The API refused a request or could not be reached; the message is what the user needs to read."""

    def __init__(self, message: str, *, status: int | None = None, payload: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.payload = payload


def api_url(url: str | None) -> str:
    """The API's base URL from ``--url``, then ``ONECLOUD_URL``, else the local stack's (on
    ``ONECLOUD_PORT``), without a trailing slash so that tokens saved for ``http://host/`` and
    ``http://host`` are the same."""
    local = f"http://127.0.0.1:{os.environ.get('ONECLOUD_PORT', '8000')}"
    return (url or os.environ.get("ONECLOUD_URL") or local).rstrip("/")


class Api:
    """Token-authenticated JSON requests; every failure becomes an :class:`ApiError` naming the request."""

    def __init__(self, url: str, token: str | None = None, *, connections: int = 10) -> None:
        self.url = url
        self.http = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=connections)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        if token:
            self.http.headers["Authorization"] = f"Token {token}"

    def request(self, method: str, path: str, *, json: Any = None, params: Any = None) -> Any:
        try:
            answer = self.http.request(method, f"{self.url}{path}", json=json, params=params, timeout=TIMEOUT)
        except requests.ConnectionError:
            raise ApiError(f"cannot reach the onecloud API at {self.url}: is it running?") from None
        except requests.Timeout:
            raise ApiError(f"{method} {path}: the API at {self.url} did not answer in time") from None
        try:
            payload = answer.json() if answer.content else None
        except ValueError:
            payload = None
        if answer.ok:
            return payload
        detail = payload.get("detail") if isinstance(payload, dict) else None
        raise ApiError(
            f"{method} {path}: {answer.status_code} {detail or answer.text[:200] or answer.reason}",
            status=answer.status_code,
            payload=payload,
        )

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, json: Any = None) -> Any:
        return self.request("POST", path, json=json if json is not None else {})

    def download(self, url: str) -> bytes:
        """A file the API serves (a note's image): its URL must be the API's own, so the token is never
        sent elsewhere (a redirect to a presigned store URL drops it, as requests does across hosts)."""
        if not url.startswith(f"{self.url}/"):
            raise ApiError(f"{url} is not served by {self.url}")
        try:
            answer = self.http.get(url, timeout=TIMEOUT)
        except (requests.ConnectionError, requests.Timeout):
            raise ApiError(f"GET {url}: no answer from {self.url}") from None
        if not answer.ok:
            raise ApiError(f"GET {url}: {answer.status_code} {answer.reason}", status=answer.status_code)
        return answer.content

    def log_in(self, username: str, password: str) -> str:
        """A new token for the account, which this client then sends with every request."""
        try:
            token = self.post("/auth-token", {"username": username, "password": password})["token"]
        except ApiError as error:
            if error.status == 400:
                raise ApiError(f"cannot log in to {self.url} as {username!r} ({error})") from None
            raise
        self.http.headers["Authorization"] = f"Token {token}"
        return token


def tokens_file() -> Path:
    """``$XDG_CONFIG_HOME/onecloud/tokens.json`` (``~/.config`` by default): one token per API URL."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "onecloud" / "tokens.json"


def _saved_tokens() -> dict[str, str]:
    try:
        return json.loads(tokens_file().read_text())
    except FileNotFoundError:
        return {}


def saved_token(url: str) -> str | None:
    return _saved_tokens().get(url)


def save_token(url: str, token: str) -> Path:
    """Keep the token for ``url`` beside those of other APIs, readable by the user alone (it is a
    password in all but name); the file is replaced whole so a crash never leaves half of it."""
    path = tokens_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tokens = {**_saved_tokens(), url: token}
    partial = path.with_suffix(".tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(tokens, file, indent=2)
    os.chmod(partial, 0o600)  # O_CREAT's mode does not apply to a file left over from a crash
    os.replace(partial, path)
    return path


def authenticated(url: str, *, connections: int = 10) -> Api:
    """A client logged in with ``ONECLOUD_USERNAME``/``ONECLOUD_PASSWORD``, else with the token saved by
    ``onecloud login``; the token is tried at once so a stale one fails before any long work starts."""
    username, password = os.environ.get("ONECLOUD_USERNAME"), os.environ.get("ONECLOUD_PASSWORD")
    if username and password:
        api = Api(url, connections=connections)
        api.log_in(username, password)
        return api
    token = saved_token(url)
    if token is None:
        raise ApiError(
            f"not logged in to {url}: run `onecloud login --url {url}` "
            "or set ONECLOUD_USERNAME and ONECLOUD_PASSWORD"
        )
    api = Api(url, token, connections=connections)
    try:
        api.get("/me")
    except ApiError as error:
        if error.status not in (401, 403):
            raise
        raise ApiError(
            f"the token saved for {url} was refused ({error}): run `onecloud login --url {url}`"
        ) from None
    return api

"""The real ONE client pointed at a onecloud API in one call, with or without an account.

ONE downloads files from its ``HTTP_DATA_SERVER`` parameter, which defaults to IBL's server: left alone,
every download fails with "Name or service not known". These functions write ONE's parameters for the
API (through ``one.params``, as ONE's own set-up does) so that users never edit ONE's parameter files.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

TIMEOUT = (10, 300)


def connect(
    url: str, username: str, password: str, cache_dir: str | Path | None = None, **options: Any
) -> Any:
    """ONE for an account of the API at ``url``: searches and REST calls go to the API, and files come
    from it too (a redirect to the store), sent with the account's token (never its password: ONE keeps
    its data-server credentials in plain text)."""
    import one.params
    from one.api import ONE

    url = url.rstrip("/")
    answer = requests.post(
        f"{url}/auth-token", data={"username": username, "password": password}, timeout=TIMEOUT
    )
    if answer.status_code != 200:
        raise PermissionError(f"{url} refused the log-in of {username!r}: {answer.text}")
    token = answer.json()["token"]
    one.params.setup(client=url, silent=True, username=username)
    params = one.params.get(client=url, silent=True, username=username)
    tokens = dict(getattr(params, "TOKEN", None) or {})
    tokens[username] = {"token": token}
    one.params.save(
        params.set("HTTP_DATA_SERVER", url)
        .set("HTTP_DATA_SERVER_LOGIN", username)
        .set("HTTP_DATA_SERVER_PWD", token)
        .set("TOKEN", tokens),
        url,
    )
    options.setdefault("mode", "remote")  # every search asks the API: what was just uploaded is found
    return ONE(base_url=url, username=username, silent=True, cache_dir=cache_dir, **options)


def open_release(url: str, release: str, cache_dir: str | Path | None = None) -> Any:
    """ONE on a public release of the API at ``url``, with no account: the release's cache tables are
    downloaded into ``cache_dir`` (by default ONE's download folder, ``<host>/<release>``) and searched
    there; files come from the public endpoint as they are loaded."""
    import one.params
    from one.api import ONE

    public = f"{url.rstrip('/')}/public"
    folder = Path(
        cache_dir or Path(one.params.CACHE_DIR_DEFAULT, urlsplit(url).netloc.replace(":", "_"), release)
    )
    archive = requests.get(f"{public}/releases/{release}/cache", timeout=TIMEOUT)
    if archive.status_code != 200:
        raise LookupError(f"{url} has no public release {release!r} ({archive.status_code})")
    folder.mkdir(parents=True, exist_ok=True)
    zipfile.ZipFile(io.BytesIO(archive.content)).extractall(folder)
    one.params.setup(client=public, silent=True)
    one.params.save(one.params.get(client=public, silent=True).set("HTTP_DATA_SERVER", public), public)
    found = ONE(base_url=public, cache_dir=folder, mode="local", silent=True)
    # Searches stay on the release's tables; "auto" lets ONE download what is loaded, where "local"
    # would only read files already on disk. It never logs in: the files are public.
    found.mode = "auto"
    return found

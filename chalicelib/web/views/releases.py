"""Public release pages, open without an account: every release with its counts, and a landing page per
release (citation, licence, DOI, contributors, a file browser lab / subject / date / number / collection
whose files download through the public presigned redirect, the NWB exports, and a ONE snippet that loads
the release when pasted). The landing page embeds the release's schema.org JSON-LD for dataset search.

Everything comes from ``chalicelib.releases``, the functions the ``/public`` API answers with.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from chalice import Response

from chalicelib import releases
from chalicelib.errors import BadRequest
from chalicelib.models import Release, ReleasedDataset, ReleasedSession
from chalicelib.models.release import DRAFT
from chalicelib.sharing.citation import LICENCES
from chalicelib.web.pages import Web, nav, page, redirect, render, templates

nav("Releases", "/releases", order=90)


def human_bytes(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


templates.filters["bytes"] = human_bytes
EVERYTHING = {"limit": "1000"}  # the API's page size cap


def _base(web: Web) -> str:
    return web.ctx.base_url


@page("/releases", public=True)
def release_list(web: Web) -> Response:
    found = releases.list_releases(EVERYTHING, _base(web))
    drafts = []
    if web.principal is not None and web.principal.is_superuser:
        drafts = sorted((r for r in Release.scan() if r.status == DRAFT), key=lambda r: r.name)
    return render(
        web,
        "releases.html",
        title="Public releases",
        releases=found["results"],
        count=found["count"],
        drafts=drafts,
    )


def session_tree(name: str) -> dict[str, dict[str, list[ReleasedSession]]]:
    """lab -> subject -> its sessions (by date and number)."""
    tree: dict[str, dict[str, list[ReleasedSession]]] = defaultdict(lambda: defaultdict(list))
    for session in ReleasedSession.query(name):
        tree[session.lab][session.subject].append(session)
    return {
        lab: {
            subject: sorted(found, key=lambda s: (s.date, int(s.number)))
            for subject, found in sorted(by.items())
        }
        for lab, by in sorted(tree.items())
    }


def by_collection(datasets: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for dataset in datasets:
        folder, _, filename = dataset["rel_path"].rpartition("/")
        grouped[folder or "(session folder)"].append({**dataset, "filename": filename})
    return dict(sorted(grouped.items()))


def nwb_files(name: str, base: str) -> list[dict[str, Any]]:
    """The release's NWB exports (one per session that has one)."""
    return [
        {
            "session": d.session,
            "filename": d.rel_path.rsplit("/", 1)[-1],
            "file_size": int(d.file_size),
            "url": f"{base}/public/{releases.public_path(d)}",
        }
        for d in ReleasedDataset.query(name, filter_condition=ReleasedDataset.rel_path.startswith("nwb/"))
    ]


def one_snippet(base: str, name: str, eid: str | None, datasets: list[dict[str, Any]]) -> str:
    """Python that loads the release with the ONE client alone (``pip install ONE-api``): the release's
    cache tables are searched locally, files download from the public endpoint as they are loaded."""
    trials = any(d["rel_path"].split("/")[-1].startswith(("_ibl_trials.", "trials.")) for d in datasets)
    if trials:
        load = 'trials = one.load_object(eid, "trials")\nprint(len(trials["choice"]), "trials")'
    elif datasets:
        load = f'data = one.load_dataset(eid, "{datasets[0]["rel_path"]}")\nprint(type(data))'
    else:
        load = "print(one.list_datasets(eid))"
    return f'''import io
import zipfile
from pathlib import Path

import one.params
import requests
from one.api import ONE

public = "{base}/public"  # the release's data server
release = "{name}"
cache = Path.home() / "Downloads" / "ONE" / "onecloud" / release
cache.mkdir(parents=True, exist_ok=True)
tables = requests.get(f"{{public}}/releases/{{release}}/cache", timeout=60)
zipfile.ZipFile(io.BytesIO(tables.content)).extractall(cache)
one.params.setup(client=public, silent=True)
one.params.save(one.params.get(client=public, silent=True).set("HTTP_DATA_SERVER", public), public)
one = ONE(base_url=public, cache_dir=cache, mode="local", silent=True)
one.mode = "auto"  # search the release's tables, download each file as it is loaded

eid = "{eid or ""}"
{load}
'''


@page("/releases/{name}", public=True)
def release_page(web: Web, name: str) -> Response:
    base = _base(web)
    release = releases.published(name)
    detail = releases.release_detail(name, base)
    tree = session_tree(name)
    sessions = {s.session: s for by_subject in tree.values() for found in by_subject.values() for s in found}
    chosen = web.query.get("session") or next(iter(sessions), None)
    files: list[dict[str, Any]] = []
    if chosen in sessions:
        files = releases.release_datasets(name, {**EVERYTHING, "session": chosen}, base)["results"]
    document = json.dumps(releases.json_ld(release, base), indent=1).replace("</", "<\\/")
    return render(
        web,
        "release.html",
        title=detail["title"],
        release=detail,
        licence_name=LICENCES[detail["licence"]][0],
        licence_url=LICENCES[detail["licence"]][1],
        tree=tree,
        chosen=sessions.get(chosen),
        collections=by_collection(files),
        nwb=nwb_files(name, base),
        snippet=one_snippet(base, name, chosen, files),
        json_ld=document,
    )


@page("/releases/{name}/draft", ("GET", "POST"))
def draft_page(web: Web, name: str) -> Response:
    """A draft checked against the store (superusers): each dataset that would stop it, sessions still
    awaiting their NWB export, and the button that publishes it (forcing CRITICAL QC when ticked)."""
    base = _base(web)
    refused: dict[str, Any] = {}
    if web.request.method == "POST":
        try:
            releases.publish_draft(web.principal, name, {"force": web.value("force") == "yes"}, base)
            return redirect(web, f"/releases/{name}")
        except BadRequest as error:
            refused = {"detail": error.detail, **error.extra}
    preview = releases.draft_preview(web.principal, name, base)
    return render(
        web,
        "release_draft.html",
        status=400 if refused else 200,
        title=f"Draft {name}",
        draft=preview,
        refused=refused,
    )

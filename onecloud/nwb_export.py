"""``onecloud export-nwb EID``: ask for a session's NWB export, follow its task, download the file."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chalicelib import alf
from onecloud.client import Api, ApiError

FINISHED = ("Complete", "Errored", "Incomplete", "Abandoned", "Empty")


def export(api: Api, eid: str, *, timeout: float, report: Callable[[str], None]) -> dict[str, Any]:
    """Queue the export and wait for its task to finish; the registered NWB dataset (an ApiError names
    the task's log when it errored)."""
    task = api.post(f"/sessions/{eid}/nwb")
    report(f"ExportNWB task {task['id']}: {task['status']}")
    deadline, shown = time.monotonic() + timeout, task["status"]
    while task["status"] not in FINISHED:
        if time.monotonic() > deadline:
            raise ApiError(f"the export did not finish within {timeout:g} s (task {task['id']} is {shown})")
        time.sleep(2)
        task = api.get(f"/tasks/{task['id']}")
        if task["status"] != shown:
            shown = task["status"]
            report(f"ExportNWB task {task['id']}: {shown}")
    if task["status"] != "Complete":
        raise ApiError(f"the export ended {task['status']}:\n{task.get('log') or '(no log)'}")
    found = api.get("/datasets", session=eid, collection="nwb", limit=10)
    found = found["results"] if isinstance(found, dict) else found
    nwb = [
        d for d in found if d["name"].endswith(".nwb") and d.get("default_dataset", d.get("default", True))
    ]
    if not nwb:
        raise ApiError(f"the export finished but session {eid} has no NWB dataset")
    return nwb[0]


def download(api: Api, eid: str, dataset: dict[str, Any], output: Path) -> int:
    """The file through the authenticated download route (a redirect to a presigned GET); its size."""
    session = api.get(f"/sessions/{eid}")
    name = alf.parse_filename(dataset["name"]).with_uuid(dataset["id"])
    path = (
        f"/{session['lab']}/Subjects/{session['subject']}/{session['start_time'][:10]}/"
        f"{int(session['number']):03d}/{dataset['collection']}/{name}"
    )
    with api.http.get(f"{api.url}{path}", stream=True, timeout=600) as answer:
        if not answer.ok:
            raise ApiError(f"GET {path}: {answer.status_code} {answer.text[:200]}", status=answer.status_code)
        size = 0
        with open(output, "wb") as file:
            for block in answer.iter_content(2**20):
                file.write(block)
                size += len(block)
    return size

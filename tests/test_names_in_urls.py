"""Names with spaces, '%', '#' or '/' are addressed by their encoded form, and every URL the API gives
out is encoded so that following it finds the record (or the file)."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

import pytest
import requests

from app import app
from onecloud.pump import EventPump


@pytest.mark.parametrize(
    ("resource", "name"),
    [
        ("procedures", "Headpost implant"),  # not a standard name: those are seeded
        ("water-type", "Citric acid 2% water"),
        ("procedures", "Imaging training/tasks"),
        ("procedures", "50%AB #2"),
    ],
)
def test_a_name_is_read_updated_and_deleted_by_its_encoded_path(api, resource, name):
    created = api.post(f"/{resource}", {"name": name})
    assert created.status_code == 201, created.json_body
    path = f"/{resource}/{quote(name, safe='')}"
    assert created.json_body["url"] == f"http://localhost{path}"
    assert api.get(path).json_body["name"] == name
    if resource == "procedures":
        assert api.patch(path, {"description": "d"}).json_body["description"] == "d"
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404


def test_a_file_in_a_revision_folder_is_downloaded_by_its_data_url(api):
    api.post("/subjects", {"nickname": "KS023", "lab": "cortexlab"})
    api.post("/sessions", {"subject": "KS023", "start_time": "2024-01-31T10:00:00", "number": 1})
    data = b"trials of a later revision"
    path = "alf/#2026-11-30#/_ibl_trials.table.pqt"
    answer = api.post(
        "/uploads",
        {
            "session": "cortexlab/Subjects/KS023/2024-01-31/001",
            "files": [{"path": path, "size": len(data), "md5": hashlib.md5(data).hexdigest()}],
        },
        user="alice",
    ).json_body
    (planned,) = answer["files"]
    assert requests.put(planned["url"], data=data, headers=planned["headers"]).status_code == 200
    EventPump(app).drain()
    (dataset,) = api.get("/datasets?revision=2026-11-30").json_body["results"]
    (url,) = [r["data_url"] for r in dataset["file_records"] if r["data_url"]]
    assert "/alf/#2026-11-30#/_ibl_trials.table." in url  # raw, as Alyx: ONE quotes it itself
    redirect = api.get(quote(url.removeprefix("http://localhost")), user="alice")
    assert redirect.status_code == 302, redirect.body
    assert requests.get(redirect.headers["Location"]).content == data

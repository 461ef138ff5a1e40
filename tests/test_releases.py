"""Public data releases: publishing (superusers), anonymous listing and downloads of released files and of
nothing else, immutability, and protection of released datasets against overwriting."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pandas as pd
import pytest
import requests

from app import app
from chalicelib import aws, releases
from chalicelib.models import Dataset, Release, ReleasedDataset, Tag
from onecloud.pump import EventPump

LAB_PATH = "cortexlab/Subjects/KS023"
FILES = {
    "alf/_ibl_trials.table.pqt": b"trials table of day %d",
    "alf/_ibl_trials.goCue_times.npy": b"go cue times of day %d",
    "alf/probe00/spikes.times.npy": b"spike times of day %d",
}


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def store(api, session_path: str, files: dict[str, bytes], user: str = "alice") -> None:
    """Upload files as a lab member does (intent, PUT to the presigned URLs) and deliver the S3 events."""
    body = {
        "session": session_path,
        "files": [{"path": p, "size": len(d), "md5": md5(d)} for p, d in files.items()],
    }
    answer = api.post("/uploads", body, user=user)
    assert answer.status_code == 201, answer.body
    for planned in answer.json_body["files"]:
        sent = requests.put(planned["url"], data=files[planned["path"]], headers=planned["headers"])
        assert sent.status_code == 200, sent.text
    EventPump(app).drain()


@pytest.fixture
def world(api):
    """Two sessions of KS023, each with the FILES: day 1 in project brainwide, day 2 in none."""
    api.post("/projects", {"name": "brainwide"})
    api.post("/subjects", {"nickname": "KS023", "lab": "cortexlab"})
    sessions = {}
    for day in (1, 2):
        session = api.post(
            "/sessions",
            {
                "subject": "KS023",
                "start_time": f"2024-01-0{day}T10:00:00",
                "number": 1,
                "projects": ["brainwide"] if day == 1 else [],
                "task_protocol": "ephys",
            },
        ).json_body
        store(api, f"{LAB_PATH}/2024-01-0{day}/001", {p: d % day for p, d in FILES.items()})
        sessions[day] = session["id"]
    return sessions


def datasets_of(api, eid: str) -> dict[str, dict]:
    results = api.get(f"/datasets?session={eid}").json_body["results"]
    return {f"{d['collection']}/{d['name']}": d for d in results}


TYPES = ["trials.table", "spikes.times"]


def both_days(world: dict[int, str]) -> dict:
    return {"sessions": [world[1], world[2]], "dataset_types": TYPES}


def release(api, name: str = "2024_Q1", user: str = "admin", **body):
    body = {"name": name, "description": "the first release", **body}
    body.setdefault("query", {"projects": ["brainwide"], "dataset_types": TYPES})
    return api.post("/releases", body, user=user)


def download_path(url: str) -> str:
    return url.removeprefix("http://localhost")


def test_only_superusers_publish_releases(api, world):
    assert release(api, user="alice").status_code == 403
    assert release(api, user="pub").status_code == 403
    assert release(api, user=None).status_code == 401
    assert api.get("/public/releases", user=None).json_body["count"] == 0


def test_a_query_selects_sessions_by_project_then_types_and_stored_default_revisions(api, world):
    answer = release(api)
    assert answer.status_code == 201, answer.body
    summary = answer.json_body
    assert (summary["name"], summary["session_count"], summary["dataset_count"]) == ("2024_Q1", 1, 2)
    expected = len(FILES["alf/_ibl_trials.table.pqt"] % 1) + len(FILES["alf/probe00/spikes.times.npy"] % 1)
    assert summary["total_bytes"] == expected
    listed = api.get("/public/releases/2024_Q1/datasets", user=None).json_body
    assert {d["rel_path"] for d in listed["results"]} == {
        "alf/_ibl_trials.table.pqt",
        "alf/probe00/spikes.times.npy",
    }
    assert {d["session"] for d in listed["results"]} == {world[1]}
    tag = Tag.get("2024_Q1")
    assert tag.public and tag.protected
    released = datasets_of(api, world[1])
    assert released["alf/_ibl_trials.table.pqt"]["tags"] == ["2024_Q1"]
    assert released["alf/_ibl_trials.goCue_times.npy"]["tags"] == []  # not selected: still private


def test_a_release_by_dataset_ids_and_its_manifest_in_the_bucket(api, world):
    chosen = datasets_of(api, world[2])["alf/_ibl_trials.goCue_times.npy"]
    answer = api.post("/releases", {"name": "single", "datasets": [chosen["id"]]})
    assert answer.status_code == 201, answer.body
    manifest = json.loads(
        aws.client("s3")
        .get_object(Bucket=aws.settings().data_bucket, Key="releases/single/manifest.json")["Body"]
        .read()
    )
    (entry,) = manifest["datasets"]
    assert entry["id"] == chosen["id"] and entry["session"] == world[2]
    assert entry["path"] == f"{LAB_PATH}/2024-01-02/001/alf/_ibl_trials.goCue_times.npy"
    assert (entry["size"], entry["md5"]) == (chosen["file_size"], chosen["hash"])
    assert entry["version_id"]


def test_anonymous_users_list_releases_with_their_sessions_datasets_and_sizes(api, world):
    release(api, query=both_days(world))
    listing = api.get("/public/releases", user=None)
    assert listing.status_code == 200
    (shown,) = listing.json_body["results"]
    assert shown["name"] == "2024_Q1" and shown["description"] == "the first release"
    detail = api.get("/public/releases/2024_Q1", user=None).json_body
    assert detail == {**shown, "superseded_by": None}
    sessions = api.get("/public/releases/2024_Q1/sessions", user=None).json_body
    assert sessions["count"] == 2
    assert {(s["id"], s["date"], s["number"], s["dataset_count"]) for s in sessions["results"]} == {
        (world[1], "2024-01-01", 1, 2),
        (world[2], "2024-01-02", 1, 2),
    }
    first = api.get("/public/releases/2024_Q1/datasets?limit=3", user=None).json_body
    assert (first["count"], len(first["results"])) == (4, 3) and first["next"].endswith("limit=3&offset=3")
    rest = api.get(download_path(first["next"]), user=None).json_body
    assert len(rest["results"]) == 1 and rest["previous"]
    of_day_2 = api.get(f"/public/releases/2024_Q1/datasets?session={world[2]}", user=None).json_body
    assert of_day_2["count"] == 2 and {d["session"] for d in of_day_2["results"]} == {world[2]}


def test_listings_are_capped_and_refuse_unknown_parameters(api, world):
    release(api)
    capped = api.get("/public/releases/2024_Q1/datasets?limit=100000", user=None).json_body
    assert "limit=1000" in (capped["next"] or "limit=1000")
    assert api.get("/public/releases?sort=size", user=None).status_code == 400
    assert api.get("/public/releases/2024_Q1/datasets?limit=0", user=None).status_code == 400


def test_anonymous_users_download_released_files_through_a_presigned_redirect(api, world):
    release(api, query=both_days(world))
    (dataset,) = [
        d
        for d in api.get("/public/releases/2024_Q1/datasets", user=None).json_body["results"]
        if d["session"] == world[2] and d["rel_path"] == "alf/_ibl_trials.table.pqt"
    ]
    path = download_path(dataset["url"])
    assert path == f"/public/{LAB_PATH}/2024-01-02/001/alf/_ibl_trials.table.{dataset['id']}.pqt"
    answer = api.get(path, user=None)
    assert answer.status_code == 302  # the server sends Content-Length (tests/test_routes.py)
    location = answer.headers["Location"]
    assert "versionId=" in location and "X-Amz-Expires=3600" in location  # one hour by default
    assert requests.get(location).content == FILES["alf/_ibl_trials.table.pqt"] % 2


def test_the_public_url_lifetime_is_configurable(api, world):
    release(api)
    before = aws.settings()
    aws.configure(before.with_changes(public_url_seconds=120))  # ONECLOUD_PUBLIC_URL_SECONDS
    try:
        url = api.get("/public/releases/2024_Q1/datasets?limit=1", user=None).json_body["results"][0]["url"]
        assert "X-Amz-Expires=120" in api.get(download_path(url), user=None).headers["Location"]
    finally:
        aws.configure(before)


def test_anything_not_released_is_not_found_without_saying_whether_it_exists(api, world):
    release(api)
    private = datasets_of(api, world[1])["alf/_ibl_trials.goCue_times.npy"]
    existing = f"/public/{LAB_PATH}/2024-01-01/001/alf/_ibl_trials.goCue_times.{private['id']}.npy"
    nobody = "00000000-0000-4000-8000-000000000000"
    unknown = f"/public/{LAB_PATH}/2024-01-01/001/alf/_ibl_trials.goCue_times.{nobody}.npy"
    released = datasets_of(api, world[1])["alf/_ibl_trials.table.pqt"]
    elsewhere = (
        f"/public/{LAB_PATH}/2024-01-02/001/alf/_ibl_trials.table.{released['id']}.pqt"  # wrong session
    )
    for path in (existing, unknown, elsewhere, f"/public/{LAB_PATH}/2024-01-01/001/alf/not-alf.npy"):
        answer = api.get(path, user=None)
        assert answer.status_code == 404, path
        assert set(answer.json_body) == {"detail", "status_code"}
        assert "is not a released file" in answer.json_body["detail"]
    assert api.get(existing.removeprefix("/public"), user=None).status_code == 401  # the private route
    assert api.get("/public/releases/nothing", user=None).status_code == 404
    assert api.get("/public/releases/nothing/cache", user=None).status_code == 404


def test_a_released_dataset_cannot_be_overwritten(api, world):
    release(api)
    path = "alf/_ibl_trials.table.pqt"
    refused = api.post(
        "/uploads",
        {"session": f"{LAB_PATH}/2024-01-01/001", "files": [{"path": path, "size": 3, "md5": md5(b"new")}]},
        user="alice",
    )
    assert refused.status_code == 403
    assert refused.json_body["details"] == [{path: [{"": True}]}]  # ONE moves the file to a new revision
    registered = api.post(
        "/register-file",
        {
            "path": f"{LAB_PATH}/2024-01-01/001",
            "filenames": [path],
            "hashes": [md5(b"new")],
            "filesizes": [3],
        },
        user="alice",
    )
    assert registered.status_code == 403
    assert (
        api.patch(
            f"/datasets/{datasets_of(api, world[1])[path]['id']}", {"hash": md5(b"new")}, user="alice"
        ).status_code
        == 403
    )


def test_the_public_gets_the_released_bytes_even_when_the_key_is_written_again(api, world):
    release(api)
    key = f"{LAB_PATH}/2024-01-01/001/alf/_ibl_trials.table.pqt"
    aws.client("s3").put_object(Bucket=aws.settings().data_bucket, Key=key, Body=b"a job wrote this later")
    EventPump(app).drain()
    (rejected,) = api.get("/uploads?status=rejected", user="alice").json_body["results"]
    assert rejected["key"] == key  # refused: the dataset is protected (and not what was declared)
    dataset = datasets_of(api, world[1])["alf/_ibl_trials.table.pqt"]
    public = f"/public/{key.replace('.pqt', '.' + dataset['id'] + '.pqt')}"
    assert (
        requests.get(api.get(public, user=None).headers["Location"]).content
        == FILES["alf/_ibl_trials.table.pqt"] % 1
    )


def test_releases_are_immutable_and_a_new_one_supersedes_an_old_one(api, world):
    release(api)
    assert release(api).status_code == 409
    newer = release(api, name="2024_Q2", supersedes="2024_Q1", query={"projects": "brainwide"})
    assert newer.status_code == 201, newer.body
    assert newer.json_body["supersedes"] == "2024_Q1" and newer.json_body["dataset_count"] == 3
    old = api.get("/public/releases/2024_Q1", user=None).json_body
    assert old["superseded_by"] == "2024_Q2" and old["dataset_count"] == 2
    names = [r["name"] for r in api.get("/public/releases", user=None).json_body["results"]]
    assert sorted(names) == ["2024_Q1", "2024_Q2"]
    table = datasets_of(api, world[1])["alf/_ibl_trials.table.pqt"]
    assert sorted(table["tags"]) == ["2024_Q1", "2024_Q2"]  # a dataset in two releases
    assert {r.release for r in ReleasedDataset.by_dataset.query(table["id"])} == {"2024_Q1", "2024_Q2"}
    assert release(api, name="2024_Q3", supersedes="nothing").status_code == 400


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "bad name"}, "name:"),
        ({"name": "x", "datasets": ["not-a-uuid"]}, "uuids"),
        ({"name": "x", "query": {"dataset_types": ["trials.table"]}}, "sessions"),
        ({"name": "x", "query": {"projects": ["brainwide"], "size": 3}}, "unknown query field: size"),
        ({"name": "x", "query": {"projects": ["brainwide"], "qc_lte": "GOOD"}}, "qc_lte"),
        ({"name": "x", "query": {"projects": ["nothing"]}}, "holds no dataset"),
        ({"name": "x", "datasets": ["00000000-0000-4000-8000-000000000000"]}, "do not exist"),
    ],
)
def test_a_bad_selection_is_refused_and_publishes_nothing(api, body, message):
    answer = api.post("/releases", body)
    assert answer.status_code == 400, answer.body
    assert message in answer.json_body["detail"]
    assert list(Release.scan()) == []


def test_a_dataset_only_on_a_lab_server_cannot_be_released(api, world):
    api.post(
        "/register-file",
        {
            "path": f"{LAB_PATH}/2024-01-01/001",
            "filenames": ["alf/spikes.amps.npy"],
            "hashes": ["0" * 32],
            "filesizes": [10],
            "name": "cortexlab_server",
        },
        user="alice",
    )
    amps = datasets_of(api, world[1])["alf/spikes.amps.npy"]
    answer = api.post("/releases", {"name": "x", "datasets": [amps["id"]]})
    assert answer.status_code == 400 and "no file in the central store" in answer.json_body["detail"]


def test_a_file_changed_in_the_store_fails_the_release_and_leaves_no_trace(api, world):
    key = f"{LAB_PATH}/2024-01-01/001/alf/_ibl_trials.table.pqt"
    aws.client("s3").put_object(Bucket=aws.settings().data_bucket, Key=key, Body=b"not what was registered")
    answer = release(api)  # the S3 event is not delivered yet: the dataset still says the old md5
    assert answer.status_code == 400
    assert key in answer.json_body["detail"] and "size or md5 differ" in answer.json_body["detail"]
    assert list(Release.scan()) == [] and list(ReleasedDataset.scan()) == []
    assert all(not d.tags for d in Dataset.scan())
    assert release(api, query={"sessions": [world[2]]}).status_code == 201  # the name is free again


def test_a_release_cache_zip_holds_one_tables_for_its_datasets(api, world):
    release(api)
    answer = api.get("/public/releases/2024_Q1/cache", user=None)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.rsplit("/", 1)[1] == "aws4_request"  # what ONE names the download: short enough
    archive = zipfile.ZipFile(io.BytesIO(requests.get(location).content))
    assert sorted(archive.namelist()) == ["cache_info.json", "datasets.pqt", "sessions.pqt"]
    info = json.loads(archive.read("cache_info.json"))
    assert info["database_tags"] == ["2024_Q1"] and info["min_api_version"] == "3.0.0"
    sessions = pd.read_parquet(io.BytesIO(archive.read("sessions.pqt")))
    datasets = pd.read_parquet(io.BytesIO(archive.read("datasets.pqt")))
    assert list(sessions.index) == [world[1]]
    assert sessions.loc[world[1], "projects"] == "brainwide" and sessions.loc[world[1], "number"] == 1
    assert len(datasets) == 2 and datasets["exists"].all() and datasets["default_revision"].all()
    assert set(datasets["rel_path"]) == {"alf/_ibl_trials.table.pqt", "alf/probe00/spikes.times.npy"}
    assert list(datasets.index.names) == ["eid", "id"]


def test_logged_in_users_get_a_release_cache_info_by_tag(api, world):
    release(api)
    info = api.get("/cache/info/2024_Q1", user="bob").json_body
    assert info["database_tags"] == ["2024_Q1"] and info["location"].endswith("aws4_request")
    assert info["date_created"] == api.get("/public/releases/2024_Q1", user=None).json_body["published"]
    assert api.get("/cache/info/2024_Q1", user=None).status_code == 401
    assert api.get("/cache/info/nothing", user="bob").status_code == 404


def test_public_accounts_read_released_files_through_the_authenticated_route_too(api, world):
    release(api)
    dataset = datasets_of(api, world[1])["alf/_ibl_trials.table.pqt"]
    (url,) = [r["data_url"] for r in dataset["file_records"] if r["data_url"]]
    assert api.get(download_path(url), user="pub").status_code == 302


def test_released_files_are_reattached_after_the_bucket_is_rebuilt_from_copies(api, world):
    """What the local stack does when it restores a snapshot: the same bytes, new version ids."""
    release(api)
    s3, bucket = aws.client("s3"), aws.settings().data_bucket
    key = f"{LAB_PATH}/2024-01-01/001/alf/_ibl_trials.table.pqt"
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": key, "VersionId": v["VersionId"]} for v in versions]}
    )
    s3.put_object(Bucket=bucket, Key=key, Body=FILES["alf/_ibl_trials.table.pqt"] % 1)
    dataset = datasets_of(api, world[1])["alf/_ibl_trials.table.pqt"]
    public = f"/public/{key.replace('.pqt', '.' + dataset['id'] + '.pqt')}"
    assert requests.get(api.get(public, user=None).headers["Location"]).status_code == 404  # the old version
    assert releases.reattach_versions() == 1
    assert (
        requests.get(api.get(public, user=None).headers["Location"]).content
        == FILES["alf/_ibl_trials.table.pqt"] % 1
    )

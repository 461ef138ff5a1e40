"""ONE cache tables: the standard-library Parquet writer read back by pyarrow, pandas and ONE itself, and the
database's export behind ``GET /cache/info`` (on demand, on a schedule, unchanged exports left alone)."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import uuid
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pyarrow.parquet as pq
import pytest
import requests
from iblutil.io import parquet
from one.alf.cache import (
    DATASETS_COLUMNS,
    EMPTY_DATASETS_FRAME,
    EMPTY_SESSIONS_FRAME,
    QC_TYPE,
    SESSIONS_COLUMNS,
    load_tables,
)

from app import app
from chalicelib import aws, cache
from chalicelib.qc import QC
from onecloud.pump import EventPump

META = {"date_created": "2024-03-01T12:00:00", "origin": "onecloud-test", "min_api_version": "3.0.0"}


def session_rows(count: int = 3) -> list[dict]:
    return [
        {
            "id": str(uuid.UUID(version=4, int=i + 1)),
            "lab": "cortexlab",
            "subject": f"KS{i:03d}",
            "date": f"2024-01-{i % 28 + 1:02d}",
            "number": i % 3 + 1,
            "task_protocol": "ephys µ" if i % 2 else "",
            "projects": "brainwide,repeated" if i % 2 else "",
        }
        for i in range(count)
    ]


def dataset_rows(count: int) -> list[dict]:
    """Every QC level, missing sizes and hashes, revisions: more than 127 bit-packed groups of eight."""
    names = list(QC)
    return [
        {
            "eid": str(uuid.UUID(version=4, int=i % 3 + 1)),
            "id": str(uuid.UUID(version=4, int=10_000 + i)),
            "rel_path": f"alf/#2024-0{i % 9 + 1}-01#/spikes.times.npy"
            if i % 7 == 0
            else f"alf/x{i}.times.npy",
            "file_size": None if i % 11 == 0 else i * 1_000_003,
            "hash": None if i % 13 == 0 else hashlib.md5(str(i).encode()).hexdigest(),
            "exists": i % 2 == 0,
            "qc": names[i % len(names)],
            "default_revision": i % 5 != 0,
        }
        for i in range(count)
    ]


def ones_own(rows: list[dict], columns: dict, index: list[str], tmp_path: Path) -> tuple[pd.DataFrame, dict]:
    """The same rows written by ONE's writer (iblutil.io.parquet, through pyarrow), and read back."""
    frame = pd.DataFrame(rows)
    if "date" in frame:
        frame["date"] = pd.to_datetime(frame["date"]).dt.date
    frame = frame.astype(columns).set_index(index)
    parquet.save(tmp_path / "theirs.pqt", frame, META)
    return parquet.load(tmp_path / "theirs.pqt")


def ours(spec: cache.TableSpec, rows: list[dict], tmp_path: Path) -> tuple[pd.DataFrame, dict]:
    (tmp_path / "ours.pqt").write_bytes(cache.write_parquet(spec, rows, META))
    return parquet.load(tmp_path / "ours.pqt")


@pytest.mark.parametrize("count", [2, 8, 1100])
def test_the_datasets_table_reads_back_as_ones_own_writer_writes_it(tmp_path, count):
    rows = dataset_rows(count)
    theirs = ones_own(rows, {**DATASETS_COLUMNS, "default_revision": bool}, ["eid", "id"], tmp_path)
    mine = ours(cache.DATASETS, rows, tmp_path)
    pd.testing.assert_frame_equal(mine[0], theirs[0])
    assert mine[1] == theirs[1] == META


def test_the_sessions_table_reads_back_as_ones_own_writer_writes_it(tmp_path):
    rows = session_rows(40)
    theirs = ones_own(rows, SESSIONS_COLUMNS, ["id"], tmp_path)
    mine = ours(cache.SESSIONS, rows, tmp_path)
    pd.testing.assert_frame_equal(mine[0], theirs[0])
    assert mine[1] == META


def test_the_tables_have_ones_columns_index_and_dtypes(tmp_path):
    sessions, _ = ours(cache.SESSIONS, session_rows(), tmp_path)
    datasets, _ = ours(cache.DATASETS, dataset_rows(20), tmp_path)
    assert sessions.index.names == EMPTY_SESSIONS_FRAME.index.names == ["id"]
    assert datasets.index.names == EMPTY_DATASETS_FRAME.index.names == ["eid", "id"]
    assert list(sessions.columns) == list(EMPTY_SESSIONS_FRAME.columns)
    assert list(datasets.columns) == [*EMPTY_DATASETS_FRAME.columns, "default_revision"]
    for frame, empty in ((sessions, EMPTY_SESSIONS_FRAME), (datasets, EMPTY_DATASETS_FRAME)):
        for column, dtype in empty.dtypes.items():
            if (
                pd.api.types.is_object_dtype(dtype) and column != "date"
            ):  # text: pandas 3 reads it as its string dtype
                assert pd.api.types.is_string_dtype(frame[column]), column
            else:
                assert frame[column].dtype == dtype, column
    assert datasets["qc"].dtype == QC_TYPE and datasets["default_revision"].dtype == bool
    assert isinstance(sessions["date"].iloc[0], datetime.date)


def test_an_empty_table_keeps_its_columns_and_index(tmp_path):
    datasets, meta = ours(cache.DATASETS, [], tmp_path)
    assert len(datasets) == 0 and meta == META
    assert datasets.index.names == ["eid", "id"]
    assert list(datasets.columns) == [*EMPTY_DATASETS_FRAME.columns, "default_revision"]


def test_one_loads_the_tables_and_searches_them_with_its_qc_order(tmp_path):
    from one.api import One

    rows = dataset_rows(30)
    (tmp_path / "sessions.pqt").write_bytes(cache.write_parquet(cache.SESSIONS, session_rows(), META))
    (tmp_path / "datasets.pqt").write_bytes(cache.write_parquet(cache.DATASETS, rows, META))
    tables = load_tables(tmp_path)
    assert tables["_meta"]["raw"]["datasets"]["date_created"] == META["date_created"]
    assert tables["_meta"]["created_time"] == datetime.datetime.fromisoformat(META["date_created"])
    assert isinstance(tables["datasets"].index[0][0], uuid.UUID)  # ONE recognised the uuids
    one = One(cache_dir=tmp_path, mode="local")
    good = {r["eid"] for r in rows if r["exists"] and QC[r["qc"]] <= QC["WARNING"] and "x2." in r["rel_path"]}
    found = one.search(datasets="x2.times.npy", dataset_qc_lte="WARNING")
    assert {str(eid) for eid in found} == good
    assert {str(eid) for eid in one.search(projects="repeated")} == {str(uuid.UUID(version=4, int=2))}


def test_the_one_download_url_is_the_same_request_with_a_short_file_name(cloud):
    url = cache.one_download_url("cache/cache.zip", 60)
    plain = cache.presigned_get("cache/cache.zip", 60)
    assert url.rsplit("/", 1)[1] == "aws4_request"
    assert parse_qs(urlsplit(url).query) == parse_qs(urlsplit(plain).query)
    assert urlsplit(url).path == urlsplit(plain).path


# The database's export


@pytest.fixture
def catalogue(api):
    """A session with a file in the central store and one known only on the lab server."""
    api.post("/subjects", {"nickname": "KS023", "lab": "cortexlab"})
    session = api.post(
        "/sessions",
        {
            "subject": "KS023",
            "start_time": "2024-01-31T10:00:00",
            "number": 2,
            "projects": [],
            "task_protocol": "p",
        },
    ).json_body
    data = b"trials"
    planned = api.post(
        "/uploads",
        {
            "session": session["id"],
            "files": [
                {"path": "alf/_ibl_trials.table.pqt", "size": len(data), "md5": hashlib.md5(data).hexdigest()}
            ],
        },
        user="alice",
    ).json_body["files"][0]
    assert requests.put(planned["url"], data=data, headers=planned["headers"]).status_code == 200
    EventPump(app).drain()
    api.post(
        "/register-file",
        {
            "path": "cortexlab/Subjects/KS023/2024-01-31/002",
            "filenames": ["raw_ephys_data/probe00/_spikeglx_ephysData_g0_t0.imec0.ap.cbin"],
            "hashes": ["0" * 32],
            "filesizes": [100],
            "name": "cortexlab_server",
        },
        user="alice",
    )
    return session


def download(location: str) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(requests.get(location).content))


def test_cache_info_answers_the_contract_and_points_at_the_tables(api, catalogue):
    info = api.get("/cache/info", user="alice")  # the first request exports
    assert info.status_code == 200
    body = info.json_body
    assert set(body) == {"date_created", "location", "origin", "min_api_version", "database_tags"}
    assert (body["origin"], body["min_api_version"], body["database_tags"]) == ("onecloud-test", "3.0.0", [])
    datetime.datetime.fromisoformat(body["date_created"])
    archive = download(body["location"])
    sessions = pd.read_parquet(io.BytesIO(archive.read("sessions.pqt")))
    datasets = pd.read_parquet(io.BytesIO(archive.read("datasets.pqt")))
    row = sessions.loc[catalogue["id"]]
    assert (row["lab"], row["subject"], row["number"], row["task_protocol"]) == ("cortexlab", "KS023", 2, "p")
    assert row["date"] == datetime.date(2024, 1, 31)
    exists = dict(zip(datasets["rel_path"], datasets["exists"], strict=True))
    assert exists == {
        "alf/_ibl_trials.table.pqt": True,  # in the central store
        "raw_ephys_data/probe00/_spikeglx_ephysData_g0_t0.imec0.ap.cbin": False,  # on the lab server only
    }
    assert set(datasets.index.get_level_values("eid")) == {catalogue["id"]}
    schema = pq.read_schema(io.BytesIO(archive.read("datasets.pqt")))
    meta = json.loads(schema.metadata[b"one_metadata"])
    assert meta == {
        "date_created": body["date_created"],
        "origin": "onecloud-test",
        "min_api_version": "3.0.0",
    }


def test_an_unchanged_catalogue_is_not_exported_again_and_a_change_is(api, catalogue):
    first = api.post("/cache", {}, user="admin").json_body
    digest = cache.read_json(cache.DATABASE_INFO)["digest"]
    again = api.post("/cache", {}, user="admin").json_body
    assert again["date_created"] == first["date_created"]  # ONE will not download the same tables twice
    assert again["location"].split("?")[0] == first["location"].split("?")[0]
    api.patch(f"/sessions/{catalogue['id']}", {"task_protocol": "changed"}, user="alice")
    assert cache.export_database()["digest"] != digest
    changed = download(api.get("/cache/info", user="bob").json_body["location"])
    sessions = pd.read_parquet(io.BytesIO(changed.read("sessions.pqt")))
    assert sessions.loc[catalogue["id"], "task_protocol"] == "changed"


def test_only_accounts_read_the_cache_info_and_only_superusers_export(api, catalogue):
    assert api.get("/cache/info", user=None).status_code == 401
    assert api.post("/cache", {}, user="alice").status_code == 403
    assert api.post("/cache?force=true", {}, user="admin").status_code == 200


def test_the_export_cache_schedule_writes_the_tables(api, catalogue):
    schedules = {s.name: s for s in app.event_sources if getattr(s, "schedule_expression", None)}
    assert schedules["export_cache"].schedule_expression == "rate(1 hour)"
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": "2024-03-01T12:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:000000000000:rule/onecloud-dev-export_cache"],
        "detail": {},
    }
    app.handler_map["export_cache"](event, None)
    info = cache.read_json(cache.DATABASE_INFO)
    assert (info["sessions"], info["datasets"]) == (1, 2)
    archive = zipfile.ZipFile(
        io.BytesIO(
            aws.client("s3")
            .get_object(Bucket=aws.settings().data_bucket, Key=cache.DATABASE_ZIP)["Body"]
            .read()
        )
    )
    assert sorted(archive.namelist()) == ["cache_info.json", "datasets.pqt", "sessions.pqt"]

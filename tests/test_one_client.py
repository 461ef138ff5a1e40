"""The real ONE client (ONE-api, unmodified) against the running local stack: logging in, REST reads,
session and file registration, remote search, protected datasets and a stale token.

The stack runs once for the module (`make up` in a subprocess, tests.localstack). ONE keeps its
parameters and tokens under ``Path.home()/.one``: HOME points at a temporary folder for the whole module,
so nothing here touches the real home.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import requests

from tests.localstack import As, Stack, running

pytestmark = [
    pytest.mark.e2e,
    # ONE warns "Error: Unsupported fields ..." when a filter it sends is missing from /api/schema
    pytest.mark.filterwarnings("error:Error:UserWarning"),
]

ALICE, ALICE_PASSWORD = "alice", "alice-password"
LAB, REPOSITORY, SUBJECT = "cortexlab", "cortexlab_server", "KS023"
FILES = ("alf/_ibl_trials.table.pqt", "alf/_ibl_trials.goCue_times.npy", "alf/probe00/spikes.times.npy")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from running(tmp_path_factory.mktemp("onecloud") / "state")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """HOME for ONE's parameter files; ONE's default download folder, computed from the home at import,
    is moved there too."""
    folder = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(folder))
        import one.params

        patch.setattr(one.params, "CACHE_DIR_DEFAULT", str(folder / "Downloads" / "ONE"))
        yield folder


@pytest.fixture(scope="module")
def root(stack: Stack) -> As:
    """The lab with its server repository, alice (a member) and a subject, created as root."""
    as_root = As(stack.url)
    as_root(
        "POST",
        "/data-repository",
        status=201,
        json={"name": REPOSITORY, "data_url": f"{stack.url}/files", "globus_is_personal": True},
    )
    as_root("POST", "/labs", status=201, json={"name": LAB, "repositories": [REPOSITORY]})
    as_root(
        "POST",
        "/users",
        status=201,
        json={"username": ALICE, "password": ALICE_PASSWORD, "email": "alice@example.org", "lab": [LAB]},
    )
    as_root(
        "POST",
        "/subjects",
        status=201,
        json={"nickname": SUBJECT, "lab": LAB, "sex": "F", "birth_date": "2023-09-01"},
    )
    return as_root


def one_as_alice(stack: Stack, cache_dir: Path, **credentials: Any) -> Any:
    """ONE as alice in remote mode. The REST cache is off: RegistrationClient warns that a cached GET
    can hide what was just registered."""
    from one.api import ONE

    credentials = credentials or {"password": ALICE_PASSWORD}
    return ONE(
        base_url=stack.url,
        username=ALICE,
        silent=True,
        cache_dir=cache_dir,
        mode="remote",
        cache_rest=None,
        **credentials,
    )


@pytest.fixture(scope="module")
def one(stack: Stack, home: Path, root: As, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return one_as_alice(stack, tmp_path_factory.mktemp("one-cache"))


def write_session_files(session_path: Path) -> list[Path]:
    """A trials table, a trials attribute and a probe's spike times, as ALF files of the session."""
    paths = [session_path / name for name in FILES]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    go_cue = np.sort(rng.uniform(0, 3600, 400))
    pd.DataFrame({"goCue_times": go_cue, "choice": rng.choice([-1, 1], 400)}).to_parquet(paths[0])
    np.save(paths[1], go_cue)
    np.save(paths[2], np.sort(rng.uniform(0, 3600, 20_000)))
    return paths


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def new_registered_session(one: Any, root_folder: Path, date: str) -> tuple[Path, str, list[Path]]:
    """What a rig does through ONE: create the session (folder 001 and the record), write the files,
    register them in the lab server's repository."""
    from one.registration import RegistrationClient

    client = RegistrationClient(one)
    session_path, eid = client.create_new_session(
        SUBJECT, session_root=root_folder / LAB / "Subjects", date=date
    )
    files = write_session_files(session_path)
    client.register_files(files, repository=REPOSITORY)
    return session_path, str(eid), files


@pytest.fixture(scope="module")
def registered(one: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, list[Path]]:
    return new_registered_session(one, tmp_path_factory.mktemp("root"), "2024-02-01")


def test_an_invalid_token_answers_the_exact_403_one_relogs_in_on(stack: Stack) -> None:
    answer = requests.get(f"{stack.url}/sessions", headers={"Authorization": "Token 0123abcd"}, timeout=10)
    assert answer.status_code == 403
    assert answer.json() == {"detail": "Invalid token.", "status_code": 403}


def test_the_one_client_logs_in_and_reads_sessions_and_subjects(stack: Stack, root: As, one: Any) -> None:
    session = root(
        "POST",
        "/sessions",
        status=201,
        json={"subject": SUBJECT, "start_time": "2024-01-10T09:30:00", "number": 1, "users": [ALICE]},
    )

    sessions = one.alyx.rest("sessions", "list", subject=SUBJECT, date_range="2024-01-10,2024-01-10")
    subject = one.alyx.rest("subjects", "read", id=SUBJECT)

    assert one.alyx.user == ALICE and one.alyx.is_logged_in
    assert [s["id"] for s in sessions] == [session["id"]]
    assert sessions[0]["url"].endswith(session["id"]) and sessions[0]["lab"] == LAB
    assert subject["nickname"] == SUBJECT and subject["lab"] == LAB
    assert one.get_details(session["id"])["date"] == datetime.date(2024, 1, 10)


def test_a_wrong_password_is_refused_by_the_one_client(
    stack: Stack, root: As, home: Path, tmp_path: Path
) -> None:
    with pytest.raises(requests.HTTPError, match="authentication failed"):
        one_as_alice(stack, tmp_path / "cache", password="not-her-password")


def test_the_one_client_registers_a_session_and_its_files(
    root: As, registered: tuple[Path, str, list[Path]]
) -> None:
    session_path, eid, files = registered

    assert session_path.parts[-5:] == (LAB, "Subjects", SUBJECT, "2024-02-01", "001")
    session = root("GET", f"/sessions/{eid}")
    assert (session["subject"], session["lab"], session["number"]) == (SUBJECT, LAB, 1)
    assert session["start_time"].startswith("2024-02-01") and session["users"] == [ALICE]
    datasets = root("GET", "/datasets", params={"session": eid})["results"]
    by_path = {f"{d['collection']}/{d['name']}": d for d in datasets}
    assert sorted(by_path) == sorted(FILES)
    for path, name in zip(files, FILES, strict=True):
        dataset = by_path[name]
        assert (dataset["hash"], dataset["file_size"]) == (md5(path), path.stat().st_size)
        assert dataset["revision"] == "" and dataset["default_dataset"] is True
        assert dataset["created_by"] == ALICE
        [record] = dataset["file_records"]
        assert record["data_repository"] == REPOSITORY and record["exists"] is True
        assert record["relative_path"] == f"{LAB}/Subjects/{SUBJECT}/2024-02-01/001/{name}"
    assert by_path["alf/probe00/spikes.times.npy"]["dataset_type"] == "spikes.times"


def test_register_session_finds_the_alf_files_of_a_folder_and_registers_them(
    one: Any, root: As, tmp_path: Path
) -> None:
    from one.registration import RegistrationClient

    session_path = tmp_path / LAB / "Subjects" / SUBJECT / "2024-02-02" / "001"
    files = write_session_files(session_path)
    (session_path / "alf" / "notes.txt").write_text("not an ALF dataset of any known type")

    session, records = RegistrationClient(one).register_session(session_path, task_protocol="ephys_v1")

    eid = session["url"][-36:]
    assert sorted(f"{r['collection']}/{r['name']}" for r in records) == sorted(FILES)
    assert all([f["data_repository"] for f in r["file_records"]] == [REPOSITORY] for r in records)
    assert root("GET", f"/sessions/{eid}")["task_protocol"] == "ephys_v1"
    assert root("GET", "/datasets", params={"session": eid})["count"] == len(files)


def test_the_one_client_searches_sessions_by_subject_date_and_datasets(
    one: Any, registered: tuple[Path, str, list[Path]]
) -> None:
    _, eid, _ = registered
    day = "2024-02-01"

    found = one.search(
        subject=SUBJECT, date_range=[day, day], datasets=["_ibl_trials.table.pqt", "spikes.times.npy"]
    )
    lacking = one.search(
        subject=SUBJECT, date_range=[day, day], datasets=["_ibl_trials.table.pqt", "clusters.amps.npy"]
    )
    other_days = one.search(subject=SUBJECT, date_range=["2023-01-01", "2023-12-31"])

    assert [str(e) for e in found] == [eid]
    assert list(lacking) == []
    assert list(other_days) == []


def test_the_one_client_maps_a_session_path_to_its_eid_and_back(
    one: Any, registered: tuple[Path, str, list[Path]]
) -> None:
    session_path, eid, _ = registered

    assert str(one.path2eid(session_path)) == eid  # a search by subject, date and number "001"
    assert one.eid2path(eid) == one.cache_dir / LAB / "Subjects" / SUBJECT / "2024-02-01" / "001"


def test_the_one_client_lists_the_datasets_of_a_session_with_their_collections(
    one: Any, registered: tuple[Path, str, list[Path]]
) -> None:
    _, eid, files = registered

    listed = one.list_datasets(eid)
    details = one.list_datasets(eid, details=True)
    collections = one.list_collections(eid)

    assert sorted(listed) == sorted(FILES)
    assert sorted(collections) == ["alf", "alf/probe00"]
    assert set(details["hash"]) == {md5(path) for path in files}
    assert details["default_revision"].all()
    assert list(one.type2datasets(eid, "spikes.times")) == ["alf/probe00/spikes.times.npy"]


def test_the_one_client_pages_through_a_list_longer_than_a_page(
    one: Any, registered: tuple[Path, str, list[Path]]
) -> None:
    _, eid, _ = registered

    pages = one.alyx.rest("datasets", "list", session=eid, limit=1)

    assert len(pages) == len(FILES)
    assert sorted(f"{d['collection']}/{d['name']}" for d in pages) == sorted(FILES)


def test_a_protected_dataset_makes_one_register_the_file_in_a_new_revision(
    one: Any, root: As, tmp_path: Path
) -> None:
    from one.registration import RegistrationClient

    session_path, eid, files = new_registered_session(one, tmp_path, "2024-03-01")
    table = files[0]
    original = root("GET", "/datasets", params={"session": eid, "name": table.name})["results"][0]
    root("POST", "/tags", status=201, json={"name": "published-2024", "protected": True})
    root("PATCH", f"/datasets/{original['id']}", json={"tags": ["published-2024"]})

    [record] = RegistrationClient(one).register_files([table], repository=REPOSITORY)

    today = datetime.date.today().isoformat()
    moved = session_path / "alf" / f"#{today}#" / table.name
    assert moved.exists() and not table.exists()  # ONE moved the file into the revision folder
    assert (record["collection"], record["revision"]) == ("alf", today)
    revised = root("GET", "/datasets", params={"session": eid, "name": table.name, "revision": today})
    [dataset] = revised["results"]
    assert dataset["id"] == record["id"] and dataset["default_dataset"] is True
    assert dataset["file_records"][0]["relative_path"].endswith(f"/alf/#{today}#/{table.name}")
    kept = root("GET", f"/datasets/{original['id']}")
    assert kept["revision"] == "" and kept["tags"] == ["published-2024"] and kept["default_dataset"] is False
    assert sorted(one.list_revisions(eid, filename=table.name)) == ["", today]


def test_one_checks_protected_files_from_the_answer_body(one: Any, root: As, tmp_path: Path) -> None:
    """ONE's RegistrationClient.check_protected_files reads Alyx's verdict from a 200 body."""
    from one.registration import RegistrationClient

    _, eid, files = new_registered_session(one, tmp_path, "2024-03-05")
    client = RegistrationClient(one)
    assert client.check_protected_files(files[0])["status_code"] == 200
    dataset = root("GET", "/datasets", params={"session": eid, "name": files[0].name})["results"][0]
    root("POST", "/tags", status=201, json={"name": "frozen-2024", "protected": True})
    root("PATCH", f"/datasets/{dataset['id']}", json={"tags": ["frozen-2024"]})

    verdict = client.check_protected_files(files[0])

    assert verdict["status_code"] == 403 and verdict["error"] == "One or more datasets is protected"
    assert verdict["details"] == [{FILES[0]: [{"": True}]}]


def test_one_searches_insertions_and_maps_a_probe_to_its_session(
    one: Any, root: As, registered: tuple[Path, str, list[Path]]
) -> None:
    """ONE's search_insertions and pid2eid read ``session_info`` and send Alyx's insertion filters."""
    _, eid, _ = registered
    pid = root("POST", "/insertions", status=201, json={"name": "probe00", "session": eid})["id"]

    found = one.search_insertions(subject=SUBJECT, date="2024-02-01", details=True)
    by_dataset = one.search_insertions(dataset_types="spikes.times", query_type="remote")

    assert [str(p) for p in found[0]] == [pid] and found[1][0]["session"] == eid
    assert pid in [str(p) for p in by_dataset]
    assert [str(x) for x in one.pid2eid(pid)] == [eid, "probe00"]
    assert str(one.eid2pid(eid)[0][0]) == pid


def test_one_searches_sessions_by_performance(
    one: Any, root: As, registered: tuple[Path, str, list[Path]]
) -> None:
    """``one.search(performance_gte=...)``: a search term ONE finds in /api/schema."""
    _, eid, _ = registered
    root("PATCH", f"/sessions/{eid}", json={"n_trials": 400, "n_correct_trials": 320})

    assert eid in [str(e) for e in one.search(subject=SUBJECT, performance_gte=75)]
    assert eid not in [str(e) for e in one.search(subject=SUBJECT, performance_gte=90)]
    assert eid in [str(e) for e in one.search(performance_lte=80.5, query_type="remote")]


def test_the_one_client_logs_in_again_when_its_cached_token_is_invalid(
    stack: Stack, root: As, home: Path, tmp_path: Path
) -> None:
    """A client configured with a stored password (ALYX_PWD, as unattended rigs and servers keep it)
    and a cached token the database no longer knows: the first request answers 403 "Invalid token.",
    and ONE logs in again and carries on."""
    import one.params

    stale = {"token": "f" * 40}
    one_as_alice(stack, tmp_path / "first")  # writes the parameter file for this database
    params = one.params.get(client=stack.url, silent=True)
    one.params.save(params.set("TOKEN", {ALICE: stale}).set("ALYX_PWD", ALICE_PASSWORD), stack.url)

    client = one_as_alice(stack, tmp_path / "second", password=None)
    assert client.alyx._token == stale  # the cached token is used as is, no log-in yet

    subject = client.alyx.rest("subjects", "read", id=SUBJECT)

    assert subject["nickname"] == SUBJECT
    fresh = client.alyx._token["token"]
    assert fresh != stale["token"]
    me = requests.get(f"{stack.url}/me", headers={"Authorization": f"Token {fresh}"}, timeout=10)
    assert me.json()["username"] == ALICE
    assert one.params.get(client=stack.url, silent=True).TOKEN[ALICE] == {"token": fresh}


def test_the_one_client_loads_what_a_lab_uploaded(
    stack: Stack, home: Path, one: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Upload with `onecloud upload` (presigned S3 PUTs, registered by S3 events), then ONE downloads
    through the API's redirects to presigned GETs and checks each file's md5 and size."""
    session_path = tmp_path_factory.mktemp("rig") / LAB / "Subjects" / SUBJECT / "2024-06-01" / "001"
    files = write_session_files(session_path)
    env = {
        **os.environ,
        "ONECLOUD_URL": stack.url,
        "ONECLOUD_USERNAME": ALICE,
        "ONECLOUD_PASSWORD": ALICE_PASSWORD,
    }
    uploaded = subprocess.run(
        [str(Path(__file__).parent.parent / ".venv/bin/onecloud"), "upload", str(session_path), "--lab", LAB],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
    eid = str(one.path2eid(f"{LAB}/Subjects/{SUBJECT}/2024-06-01/001", query_type="remote"))
    one.alyx._par = (
        one.alyx._par.set("HTTP_DATA_SERVER", stack.url)
        .set("HTTP_DATA_SERVER_LOGIN", ALICE)
        .set("HTTP_DATA_SERVER_PWD", ALICE_PASSWORD)
    )
    table = one.load_dataset(eid, "_ibl_trials.table.pqt", query_type="remote")
    assert table.equals(pd.read_parquet(files[0]))
    trials = one.load_object(eid, "trials", query_type="remote")
    assert np.array_equal(trials["goCue_times"], np.load(files[1]))
    spikes = one.load_dataset(eid, "spikes.times.npy", collection="alf/probe00", query_type="remote")
    assert np.array_equal(spikes, np.load(files[2]))


def test_the_one_client_downloads_a_file_of_a_revision_folder(
    stack: Stack, root: As, home: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """ONE quotes the '#' of a revision folder (%23) in the URL it downloads; the API decodes it."""
    from onecloud.connect import connect

    root("POST", "/sessions", status=201, json={"subject": SUBJECT, "start_time": "2024-07-01T10:00:00"})
    older, newer = np.arange(5.0), np.arange(7.0)  # the file, then a later revision of it
    for folder, values in (("alf", older), ("alf/#2026-11-30#", newer)):
        buffer = io.BytesIO()
        np.save(buffer, values)
        data = buffer.getvalue()
        intent = root(
            "POST",
            "/uploads",
            status=201,
            json={
                "session": f"{LAB}/Subjects/{SUBJECT}/2024-07-01/001",
                "files": [
                    {
                        "path": f"{folder}/_ibl_trials.goCue_times.npy",
                        "size": len(data),
                        "md5": hashlib.md5(data).hexdigest(),
                    }
                ],
            },
        )
        (planned,) = intent["files"]
        assert (
            requests.put(planned["url"], data=data, headers=planned["headers"], timeout=30).status_code == 200
        )
        deadline = time.monotonic() + 30
        while root("GET", f"/uploads/{intent['id']}")["files"][0]["status"] != "registered":
            assert time.monotonic() < deadline, "not registered in time"
            time.sleep(0.3)
    one = connect(stack.url, ALICE, ALICE_PASSWORD, cache_dir=tmp_path_factory.mktemp("one-revisions"))
    eid = one.path2eid(f"{LAB}/Subjects/{SUBJECT}/2024-07-01/001")
    loaded = one.load_dataset(eid, "_ibl_trials.goCue_times.npy", revision="2026-11-30")
    np.testing.assert_array_equal(loaded, newer)


def test_one_registers_a_subjects_aggregate_and_lists_it(
    one: Any, root: As, stack: Stack, tmp_path: Path
) -> None:
    """ONE's aggregates: ``RegistrationClient.register_files(..., content_type='subject', object_id=...)``
    registers a file of no session, and ``one.list_aggregates('subjects', <nickname>)`` finds it
    (``datasets?django=session__isnull,True``) under IBL's ``aggregates/`` repository path."""
    from one.registration import RegistrationClient

    root(
        "POST",
        "/data-repository",
        status=201,
        json={
            "name": "aggregates",
            "data_url": f"{stack.url}/files/aggregates/",
            "globus_is_personal": False,
        },
    )
    subject = root("GET", f"/subjects/{SUBJECT}", status=200)
    table = tmp_path / "aggregates" / "Subjects" / LAB / SUBJECT / "_ibl_subjectTraining.table.pqt"
    table.parent.mkdir(parents=True)
    pd.DataFrame({"training_status": ["trained 1a"], "date": ["2024-02-01"]}).to_parquet(table)
    [record] = RegistrationClient(one).register_files(
        [table], repository="aggregates", content_type="subject", object_id=subject["id"]
    )
    assert record["collection"] == f"Subjects/{LAB}/{SUBJECT}" and record["subject"] == SUBJECT
    found = one.list_aggregates("subjects", SUBJECT)
    assert list(found["rel_path"]) == [f"aggregates/Subjects/{LAB}/{SUBJECT}/_ibl_subjectTraining.table.pqt"]
    assert list(found["identifier"]) == [f"{LAB}/{SUBJECT}"]

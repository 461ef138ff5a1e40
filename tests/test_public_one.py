"""End to end, against the running local stack: a lab member uploads real ALF files, the superuser
releases them, and the real ONE client, with no account, loads the release from its exported cache tables
and fetches its files through the public redirects. Collaborators' ONE (remote mode) loads the database's
cache tables and a release's by tag.

ONE keeps its parameters under ``Path.home()/.one``: HOME points at a temporary folder for the module, and
ONE's cache folders are temporary folders too.
"""

from __future__ import annotations

import hashlib
import io
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import requests

from tests.localstack import ROOT_PASSWORD, ROOT_USER, Stack, running
from tests.localstack import As as Client

pytestmark = pytest.mark.e2e

ALICE, ALICE_PASSWORD = "alice", "alice-password"
LAB, SUBJECT, DATE = "cortexlab", "KS023", "2024-02-01"
RELEASE = "2024_Q1_demo"
RELEASED = ("alf/_ibl_trials.table.pqt", "alf/_ibl_trials.goCue_times.npy", "alf/probe00/spikes.times.npy")
PRIVATE = "alf/_ibl_wheel.position.npy"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from running(tmp_path_factory.mktemp("onecloud") / "state")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(folder))
        import one.params

        patch.setattr(one.params, "CACHE_DIR_DEFAULT", str(folder / "Downloads" / "ONE"))
        yield folder


def session_files(rng: np.random.Generator) -> dict[str, bytes]:
    """A trials table and a trials attribute, a probe's spike times, and a wheel trace kept private."""
    go_cue = np.sort(rng.uniform(0, 3600, 300))
    table = io.BytesIO()
    pd.DataFrame({"choice": rng.choice([-1, 1], 300), "feedbackType": rng.choice([-1, 1], 300)}).to_parquet(
        table
    )

    def npy(array: np.ndarray) -> bytes:
        buffer = io.BytesIO()
        np.save(buffer, array)
        return buffer.getvalue()

    return {
        RELEASED[0]: table.getvalue(),
        RELEASED[1]: npy(go_cue),
        RELEASED[2]: npy(np.sort(rng.uniform(0, 3600, 5000))),
        PRIVATE: npy(rng.normal(size=1000)),
    }


def upload(alice: Client, session: str, files: dict[str, bytes]) -> None:
    """POST /uploads, PUT each file to its presigned URL, and wait for the S3 events to register them."""
    body = {
        "session": session,
        "files": [{"path": p, "size": len(d), "md5": hashlib.md5(d).hexdigest()} for p, d in files.items()],
    }
    intent = alice("POST", "/uploads", status=201, json=body)
    for planned in intent["files"]:
        sent = requests.put(
            planned["url"], data=files[planned["path"]], headers=planned["headers"], timeout=30
        )
        assert sent.status_code == 200, sent.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        states = {f["path"]: f["status"] for f in alice("GET", f"/uploads/{intent['id']}")["files"]}
        if set(states.values()) == {"registered"}:
            return
        assert "rejected" not in states.values(), states
        time.sleep(0.3)
    raise AssertionError(f"not registered in time: {states}")


@pytest.fixture(scope="module")
def released(stack: Stack) -> dict[str, Any]:
    """The lab, alice and a session of KS023 with its files uploaded; RELEASED released, PRIVATE not."""
    root = Client(stack.url, ROOT_USER, ROOT_PASSWORD)
    root("POST", "/labs", status=201, json={"name": LAB})
    root(
        "POST",
        "/users",
        status=201,
        json={"username": ALICE, "password": ALICE_PASSWORD, "email": "alice@example.org", "lab": [LAB]},
    )
    root("POST", "/subjects", status=201, json={"nickname": SUBJECT, "lab": LAB})
    session = root(
        "POST",
        "/sessions",
        status=201,
        json={"subject": SUBJECT, "start_time": f"{DATE}T10:00:00", "number": 1},
    )
    alice = Client(stack.url, ALICE, ALICE_PASSWORD)
    files = session_files(np.random.default_rng(0))
    upload(alice, f"{LAB}/Subjects/{SUBJECT}/{DATE}/001", files)
    release = root(
        "POST",
        "/releases",
        status=201,
        json={
            "name": RELEASE,
            "description": "trials and spikes of one session",
            "query": {
                "sessions": [session["id"]],
                "dataset_types": ["trials.table", "trials.goCue_times", "spikes.times"],
            },
        },
    )
    return {"eid": session["id"], "files": files, "release": release, "alice": alice}


def test_anonymous_users_see_the_release_and_nothing_else(stack: Stack, released: dict[str, Any]) -> None:
    public = f"{stack.url}/public"
    (listed,) = requests.get(f"{public}/releases", timeout=10).json()["results"]
    assert (listed["name"], listed["dataset_count"], listed["session_count"]) == (RELEASE, 3, 1)
    datasets = requests.get(f"{public}/releases/{RELEASE}/datasets", timeout=10).json()["results"]
    assert sorted(d["rel_path"] for d in datasets) == sorted(RELEASED)
    for dataset in datasets:
        assert requests.get(dataset["url"], timeout=10).content == released["files"][dataset["rel_path"]]
    private = released["alice"](
        "GET", "/datasets", params={"session": released["eid"], "name": "_ibl_wheel.position.npy"}
    )
    (wheel,) = private["results"]
    path = f"{LAB}/Subjects/{SUBJECT}/{DATE}/001/alf/_ibl_wheel.position.{wheel['id']}.npy"
    assert requests.get(f"{public}/{path}", timeout=10, allow_redirects=False).status_code == 404
    assert requests.get(f"{stack.url}/{path}", timeout=10, allow_redirects=False).status_code == 401


def test_one_loads_a_release_anonymously_from_its_cache_tables(
    stack: Stack, home: Path, released: dict[str, Any], tmp_path: Path
) -> None:
    """ONE 3.6 downloads nothing in local mode (``One._download_datasets`` is a stub and ``OneAlyx``
    checks ``mode``), so the client searches the release's tables locally and is then allowed to fetch
    what it loads: ``mode = "remote"`` with ``query_type="local"``. It has no account: it never logs in,
    and every file comes from HTTP_DATA_SERVER, the public endpoint."""
    import one.params
    from one.alf.exceptions import ALFObjectNotFound
    from one.api import ONE

    public = f"{stack.url}/public"
    cache_dir = tmp_path / "one"
    archive = requests.get(f"{public}/releases/{RELEASE}/cache", timeout=30)  # a 302 to the zip, followed
    assert archive.status_code == 200
    zipfile.ZipFile(io.BytesIO(archive.content)).extractall(cache_dir)
    one.params.save(one.params.get(client=public, silent=True).set("HTTP_DATA_SERVER", public), public)

    one = ONE(base_url=public, cache_dir=cache_dir, mode="local", silent=True)
    eids = one.search(subject=SUBJECT, datasets=["_ibl_trials.table.pqt", "spikes.times.npy"])
    assert [str(e) for e in eids] == [released["eid"]]
    assert sorted(one.list_datasets(eids[0])) == sorted(RELEASED)  # the private wheel is not there
    one.mode = "remote"
    trials = one.load_object(eids[0], "trials", query_type="local")

    table = pd.read_parquet(io.BytesIO(released["files"][RELEASED[0]]))
    go_cue = np.load(io.BytesIO(released["files"][RELEASED[1]]))
    np.testing.assert_array_equal(trials["choice"], table["choice"])
    np.testing.assert_array_equal(trials["goCue_times"], go_cue)
    session = cache_dir / LAB / "Subjects" / SUBJECT / DATE / "001"
    assert (session / RELEASED[1]).read_bytes() == released["files"][RELEASED[1]]
    spikes = one.load_dataset(eids[0], "spikes.times.npy", collection="alf/probe00", query_type="local")
    assert spikes.shape == (5000,)
    assert not one.alyx.is_logged_in  # every file came from HTTP_DATA_SERVER, the public endpoint
    with pytest.raises(ALFObjectNotFound):
        one.load_object(eids[0], "wheel", query_type="local")


def test_collaborators_load_the_database_cache_and_a_release_by_tag_in_remote_mode(
    stack: Stack, home: Path, released: dict[str, Any], tmp_path: Path
) -> None:
    from one.api import ONE

    one = ONE(
        base_url=stack.url,
        username=ALICE,
        password=ALICE_PASSWORD,
        silent=True,
        cache_dir=tmp_path / "alice",
        mode="remote",
        cache_rest=None,
    )
    one.load_cache(clobber=True)  # GET /cache/info, then the zip at its location

    assert len(one._cache["datasets"]) == len(released["files"])  # everything, the private wheel too
    assert [str(e) for e in one.search(subject=SUBJECT, query_type="local")] == [released["eid"]]
    one.load_cache(tag=RELEASE)
    assert sorted(one.list_datasets(released["eid"], query_type="local")) == sorted(RELEASED)
    assert (tmp_path / "alice" / RELEASE / "datasets.pqt").exists()

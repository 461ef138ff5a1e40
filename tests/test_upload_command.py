"""`onecloud login` and `onecloud upload` against the running local stack: a session folder goes up
through presigned URLs (multipart above a 5 MiB threshold), every ALF dataset is registered, re-runs send
nothing, an interrupted multipart upload resumes with the missing parts only, and bad input exits 2.

The stack runs once for the module (`make up` in a subprocess, tests.localstack). The command runs as a
subprocess with HOME and XDG_CONFIG_HOME in a temporary folder, so saved tokens never touch the real home.
"""

from __future__ import annotations

import hashlib
import os
import random
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.localstack import ROOT, ROOT_PASSWORD, ROOT_USER, As, Stack, free_port, running

pytestmark = pytest.mark.e2e

ALICE, ALICE_PASSWORD = "alice", "alice-password"
LAB, SUBJECT = "cortexlab", "KS023"
PART = 5 * 2**20  # S3's smallest part, and the stack's multipart threshold here
RAW = "raw_ephys_data/probe00/_spikeglx_ephysData_g0_t0.imec0.ap.bin"
SMALL = {
    "alf/_ibl_trials.table.pqt": 3000,
    "alf/_ibl_trials.goCue_times.npy": 800,
    "alf/probe00/spikes.times.npy": 0,
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from running(tmp_path_factory.mktemp("onecloud") / "state", ONECLOUD_MULTIPART_THRESHOLD=str(PART))


@pytest.fixture(scope="module")
def root(stack: Stack) -> As:
    return As(stack.url, ROOT_USER, ROOT_PASSWORD)


@pytest.fixture(scope="module")
def alice(stack: Stack, root: As) -> As:
    """The lab, alice (a member) and a subject, created as root; then alice's own API access."""
    root("POST", "/labs", status=201, json={"name": LAB})
    user = {"username": ALICE, "password": ALICE_PASSWORD, "email": "alice@example.org", "lab": [LAB]}
    root("POST", "/users", status=201, json=user)
    root("POST", "/subjects", status=201, json={"nickname": SUBJECT, "lab": LAB, "sex": "F"})
    return As(stack.url, ALICE, ALICE_PASSWORD)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def onecloud(
    stack: Stack, home: Path, *args: str, password: str | None = ALICE_PASSWORD, stdin: str | None = None
) -> subprocess.CompletedProcess:
    """The installed console script, with alice's credentials in the environment unless ``password`` is
    None. Its own session, without a terminal, so a password prompt reads stdin instead of /dev/tty."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONECLOUD_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), ONECLOUD_URL=stack.url)
    if password is not None:
        env.update(ONECLOUD_USERNAME=ALICE, ONECLOUD_PASSWORD=password)
    return subprocess.run(
        [str(ROOT / ".venv/bin/onecloud"), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,
    )


def write_session(base: Path, date: str, number: str, files: dict[str, int]) -> Path:
    """A session folder ``base/KS023/date/number`` of random files of the given sizes."""
    folder = base / SUBJECT / date / number
    generator = random.Random(f"{date}/{number}")
    for path, size in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(generator.randbytes(size))
    return folder


def rows(stdout: str) -> dict[str, list[str]]:
    """The summary table by path: size, status and reason."""
    lines = stdout.splitlines()
    assert lines[0].split() == ["path", "size", "status", "reason"], stdout
    return {path: rest for path, *rest in (line.split(maxsplit=4) for line in lines[1:])}


def session_id(alice: As, date: str, number: int) -> str:
    found = alice(
        "GET", "/sessions", params={"subject": SUBJECT, "date_range": f"{date},{date}", "number": number}
    )
    assert found["count"] == 1, found
    return found["results"][0]["id"]


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_upload_registers_every_alf_dataset_and_a_rerun_sends_nothing(stack, alice, home, tmp_path):
    files = {**SMALL, RAW: 12 * 2**20 + 123, "notes.txt": 10, "alf/README.md": 10}
    folder = write_session(tmp_path, "2024-03-01", "001", files)

    first = onecloud(stack, home, "upload", str(folder), "--lab", LAB)

    assert first.returncode == 0, first.stderr + first.stdout
    assert "skipping 2 file(s) that are not ALF datasets: alf/README.md, notes.txt" in first.stderr
    assert "created session cortexlab/Subjects/KS023/2024-03-01/001" in first.stderr
    table = rows(first.stdout)
    assert sorted(table) == sorted([*SMALL, RAW])
    assert {row[2] for row in table.values()} == {"registered"}
    datasets = alice("GET", "/datasets", params={"session": session_id(alice, "2024-03-01", 1)})["results"]
    registered = {f"{d['collection']}/{d['name']}": (d["hash"], d["file_size"]) for d in datasets}
    assert registered == {path: (md5(folder / path), files[path]) for path in [*SMALL, RAW]}

    again = onecloud(stack, home, "upload", str(folder), "--lab", LAB)

    assert again.returncode == 0, again.stderr + again.stdout
    assert "created session" not in again.stderr
    assert {" ".join(row[2:]) for row in rows(again.stdout).values()} == {
        "registered unchanged, already registered"
    }


def test_an_interrupted_multipart_upload_resumes_with_the_missing_parts_only(stack, alice, home, tmp_path):
    folder = write_session(tmp_path, "2024-03-02", "001", {RAW: 2 * PART + 1000})
    data = (folder / RAW).read_bytes()
    alice(
        "POST",
        "/sessions",
        status=201,
        json={"subject": SUBJECT, "lab": LAB, "start_time": "2024-03-02T09:00:00"},
    )
    intent = alice(
        "POST",
        "/uploads",
        status=201,
        json={
            "session": f"{LAB}/Subjects/{SUBJECT}/2024-03-02/001",
            "files": [{"path": RAW, "size": len(data), "md5": hashlib.md5(data).hexdigest()}],
        },
    )
    (plan,) = intent["files"]
    assert (plan["method"], plan["part_size"], plan["parts"]) == ("multipart", PART, 3)
    first_part = {"number": 1, "md5": hashlib.md5(data[:PART]).hexdigest()}
    (url,) = alice("POST", f"/uploads/{intent['id']}/parts", json={"path": RAW, "parts": [first_part]})[
        "parts"
    ]
    assert requests.put(url["url"], data=data[:PART], headers=url["headers"], timeout=30).ok

    resumed = onecloud(stack, home, "upload", str(folder), "--lab", LAB)

    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    assert f"{RAW}: resuming, 1 of 3 parts already uploaded, sending 2" in resumed.stderr
    assert rows(resumed.stdout)[RAW][2] == "registered"
    (dataset,) = alice("GET", "/datasets", params={"session": session_id(alice, "2024-03-02", 1)})["results"]
    assert (dataset["hash"], dataset["file_size"]) == (hashlib.md5(data).hexdigest(), len(data))


def test_login_keeps_a_private_token_that_upload_uses(stack, alice, home, tmp_path):
    refused = onecloud(stack, home, "login", "--username", ALICE, password=None, stdin="wrong\n")
    assert refused.returncode == 2
    assert "cannot log in" in refused.stderr

    logged_in = onecloud(
        stack, home, "login", "--username", ALICE, password=None, stdin=f"{ALICE_PASSWORD}\n"
    )

    assert logged_in.returncode == 0, logged_in.stderr
    tokens = home / "config" / "onecloud" / "tokens.json"
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
    assert stack.url in tokens.read_text()
    folder = write_session(tmp_path, "2024-03-03", "002", SMALL)
    uploaded = onecloud(stack, home, "upload", str(folder), "--lab", LAB, password=None)
    assert uploaded.returncode == 0, uploaded.stderr + uploaded.stdout
    assert {row[2] for row in rows(uploaded.stdout).values()} == {"registered"}


def test_a_file_with_no_dataset_type_is_reported_invalid_and_exits_1(stack, alice, home, tmp_path):
    folder = write_session(
        tmp_path, "2024-03-04", "001", {"alf/_ibl_trials.table.pqt": 100, "alf/foo.bar.npy": 5}
    )

    result = onecloud(stack, home, "upload", str(folder), "--lab", LAB)

    assert result.returncode == 1, result.stderr + result.stdout
    table = rows(result.stdout)
    assert table["alf/_ibl_trials.table.pqt"][2] == "registered"
    assert table["alf/foo.bar.npy"][2:] == ["invalid", "foo.bar.npy: no dataset type matches this file name"]


def test_a_changed_file_over_a_protected_dataset_is_refused_and_exits_1(stack, root, alice, home, tmp_path):
    folder = write_session(tmp_path, "2024-03-06", "001", SMALL)
    assert onecloud(stack, home, "upload", str(folder), "--lab", LAB).returncode == 0
    table = "alf/_ibl_trials.table.pqt"
    sent = {"session": session_id(alice, "2024-03-06", 1), "name": "_ibl_trials.table.pqt"}
    (dataset,) = alice("GET", "/datasets", params=sent)["results"]
    root("POST", "/tags", status=201, json={"name": "published-2024", "protected": True})
    root("PATCH", f"/datasets/{dataset['id']}", json={"tags": ["published-2024"]})
    (folder / table).write_bytes(b"a new version")

    refused = onecloud(stack, home, "upload", str(folder), "--lab", LAB)

    assert refused.returncode == 1, refused.stderr + refused.stdout
    assert f"protected: {table}. Protected datasets cannot be overwritten" in refused.stderr
    assert "revision folder" in refused.stderr


def test_usage_and_authentication_errors_exit_2(stack, alice, home, tmp_path):
    folder = write_session(tmp_path, "2024-03-05", "001", SMALL)
    not_a_session = tmp_path / "somewhere"
    not_a_session.mkdir()

    cases = {
        "is not a session folder": onecloud(stack, home, "upload", str(not_a_session), "--lab", LAB),
        "not logged in to": onecloud(stack, home, "upload", str(folder), "--lab", LAB, password=None),
        "cannot reach the onecloud API": onecloud(
            stack, home, "upload", str(folder), "--lab", LAB, "--url", f"http://127.0.0.1:{free_port()}"
        ),
        "does not exist": onecloud(stack, home, "upload", str(tmp_path / "missing"), "--lab", LAB),
        "cannot log in": onecloud(stack, home, "upload", str(folder), "--lab", LAB, password="wrong"),
    }
    (home / "config" / "onecloud").mkdir(parents=True)
    (home / "config" / "onecloud" / "tokens.json").write_text(f'{{"{stack.url}": "{"f" * 40}"}}')
    cases["the token saved for"] = onecloud(stack, home, "upload", str(folder), "--lab", LAB, password=None)

    for message, result in cases.items():
        assert result.returncode == 2, (message, result.stderr)
        assert message in result.stderr, result.stderr


def test_a_file_that_changes_after_it_was_hashed_is_not_assembled(stack, alice, tmp_path, monkeypatch):
    """The API verifies a multipart object against its part md5s only; the command checks the parts add
    up to the whole-file md5 it declared before it asks for the file to be assembled."""
    from onecloud import upload
    from onecloud.client import Api

    folder = write_session(tmp_path, "2024-03-07", "001", {RAW: 2 * PART + 10})
    hash_files = upload.hash_files

    def hash_then_rewrite(files, jobs):
        hashed = hash_files(files, jobs)
        with (folder / RAW).open("r+b") as raw:  # the rig rewrites the last byte
            raw.seek(-1, 2)
            last = raw.read(1)
            raw.seek(-1, 2)
            raw.write(bytes([last[0] ^ 1]))
        return hashed

    monkeypatch.setattr(upload, "hash_files", hash_then_rewrite)
    api = Api(stack.url)
    api.log_in(ALICE, ALICE_PASSWORD)

    (outcome,) = upload.upload_session(api, folder, upload.session_path(folder, LAB), jobs=2, timeout=10)

    assert outcome.status == "failed"
    assert "changed while it was uploaded" in outcome.reason
    assert alice("GET", "/datasets", params={"session": session_id(alice, "2024-03-07", 1)})["count"] == 0

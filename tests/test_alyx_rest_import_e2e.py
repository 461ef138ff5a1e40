"""``onecloud import-alyx URL`` between two running stacks: onecloud speaks Alyx's REST contract, so one
stack is the Alyx a lab moves from, and the other the onecloud it moves to."""

from __future__ import annotations

import subprocess

import pytest

from tests.localstack import ROOT, ROOT_PASSWORD, ROOT_USER, As, running

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    yield from running(tmp_path_factory.mktemp("alyx") / "state")


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    yield from running(tmp_path_factory.mktemp("onecloud") / "state")


def _seed(rest: As) -> None:
    """A small colony: a line, a breeding pair, a litter of two pups, a genotype, a restricted mouse that
    was culled, a session and a weighing."""
    rest("post", "/labs", json={"name": "mainenlab", "reference_weight_pct": 0.85}, status=201)
    rest(
        "post",
        "/users",
        json={"username": "carla", "password": "carla-pw-123", "lab": ["mainenlab"]},
        status=201,
    )
    rest("post", "/sequences", json={"name": "Cre-mut"}, status=201)
    rest("post", "/alleles", json={"name": "Cre", "sequences": ["Cre-mut"]}, status=201)
    rest("post", "/lines", json={"name": "PV-Cre", "lab": "mainenlab", "alleles": ["Cre"]}, status=201)
    for nickname, sex in (("dad", "M"), ("mum", "F")):
        body = {
            "nickname": nickname,
            "lab": "mainenlab",
            "sex": sex,
            "line": "PV-Cre",
            "responsible_user": "carla",
        }
        rest("post", "/subjects", json={**body, "birth_date": "2024-01-01"}, status=201)
    pair = {"name": "BP-7", "line": "PV-Cre", "father": "dad", "mother1": "mum", "start_date": "2024-03-01"}
    rest("post", "/breeding-pairs", json=pair, status=201)
    litter = {"name": "L-7", "breeding_pair": "BP-7", "birth_date": "2024-05-01", "pups": ["pupA", "pupB"]}
    rest("post", "/litters", json=litter, status=201)
    rest(
        "post",
        "/genotype-tests",
        json={"subject": "pupA", "sequence": "Cre-mut", "test_result": 1},
        status=201,
    )
    rest(
        "post",
        "/weighings",
        json={"subject": "mum", "weight": 22.5, "date_time": "2024-06-01T09:00"},
        status=201,
    )
    restriction = {"subject": "mum", "start_time": "2024-06-01T10:00", "reference_weight": 22.5}
    rest("post", "/water-restrictions", json=restriction, status=201)
    session = {"subject": "mum", "lab": "mainenlab", "start_time": "2024-06-02T10:00:00", "number": 1}
    sid = rest(
        "post", "/sessions", json={**session, "users": ["carla"], "narrative": "first day"}, status=201
    )["id"]
    server = {
        "name": "mainen_server",
        "data_url": "http://mainen.example.org/data/",
        "globus_is_personal": True,
    }
    rest("post", "/data-repository", json=server, status=201)
    dataset = {"name": "_ibl_trials.table.pqt", "session": sid, "collection": "alf"}
    dataset_id = rest("post", "/datasets", json=dataset, status=201)["id"]
    rest(
        "post",
        "/files",
        json={"dataset": dataset_id, "data_repository": "mainen_server", "exists": True},
        status=201,
    )
    rest(
        "post",
        "/culls",
        json={"subject": "mum", "date": "2024-07-01", "cull_reason": "regular experiment end"},
        status=201,
    )


def _import(source, target) -> subprocess.CompletedProcess:
    env = {**target.env, "ONECLOUD_USERNAME": ROOT_USER, "ONECLOUD_PASSWORD": ROOT_PASSWORD}
    command = [str(ROOT / ".venv/bin/onecloud"), "import-alyx", source.url, "--url", target.url]
    command += ["--alyx-username", ROOT_USER, "--alyx-password", ROOT_PASSWORD]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr + done.stdout
    return done


def _row(report: str, kind: str) -> list[int]:
    line = next(line for line in report.splitlines() if line.split()[:1] == [kind])
    return [int(v) for v in line.split()[1:]]  # read created updated unchanged skipped


def test_a_lab_moves_from_a_running_alyx_over_rest_with_its_uuids(source, target):
    alyx, onecloud = As(source.url), As(target.url)
    _seed(alyx)
    first = _import(source, target).stdout
    assert _row(first, "subjects")[:2] == [4, 4] and _row(first, "litters")[:2] == [1, 1], first
    assert _row(first, "culls")[:2] == [1, 1] and _row(first, "genotype-tests")[:2] == [1, 1], first
    for path in ("/subjects/pupA", "/litters/L-7", "/breeding-pairs/BP-7", "/lines/PV-Cre"):
        assert onecloud("get", path)["id"] == alyx("get", path)["id"], path
    pup = onecloud("get", "/subjects/pupA")
    assert (pup["litter"], pup["line"], pup["birth_date"]) == ("L-7", "PV-Cre", "2024-05-01")
    assert [z["symbol"] for z in onecloud("get", "/zygosities?subject=pupA")["results"]] == [
        z["symbol"] for z in alyx("get", "/zygosities?subject=pupA")["results"]
    ]
    mum = onecloud("get", "/subjects/mum")
    assert mum["death_date"] == "2024-07-01" and mum["alive"] is False
    assert all(r["end_time"] for r in onecloud("get", "/water-restrictions?subject=mum")["results"])
    [session] = onecloud("get", "/sessions?subject=mum")["results"]
    assert session["id"] == alyx("get", "/sessions?subject=mum")["results"][0]["id"]
    assert onecloud("get", f"/sessions/{session['id']}")["narrative"] == "first day"
    [dataset] = alyx("get", f"/datasets?session={session['id']}")["results"]
    assert onecloud("get", f"/datasets/{dataset['id']}")["dataset_type"] == dataset["dataset_type"]
    # the lab server's copy comes along; a copy in the source's own store "s3" is not the target's "s3"
    copies = onecloud("get", f"/files?dataset={dataset['id']}")["results"]
    assert [(c["data_repository"], c["exists"]) for c in copies] == [("mainen_server", True)]

    second = _import(source, target).stdout
    for line in second.splitlines()[1:]:
        if line.startswith(("skipped", "not read")):
            continue
        read, created, updated, unchanged, skipped = (int(v) for v in line.split()[1:])
        assert created == updated == 0 and unchanged + skipped == read, line

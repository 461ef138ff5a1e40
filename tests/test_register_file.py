"""POST /register-file: the contract's semantics, and the Alyx mistakes it does not repeat."""

from __future__ import annotations

import pytest


@pytest.fixture
def session(api):
    api.post("/subjects", {"nickname": "KS023", "lab": "cortexlab"})
    return api.post(
        "/sessions", {"subject": "KS023", "start_time": "2024-01-31T10:00:00", "number": 1}
    ).json_body


def register(api, *filenames, user="alice", **fields):
    body = {
        "path": "cortexlab/Subjects/KS023/2024-01-31/001",
        "filenames": list(filenames),
        "hashes": [f"{i:032x}" for i, _ in enumerate(filenames)],
        "filesizes": [10] * len(filenames),
        **fields,
    }
    return api.post("/register-file", body, user=user)


def datasets(api, session):
    return api.get(f"/datasets?session={session['id']}").json_body["results"]


def test_files_become_datasets_with_a_file_record_per_lab_repository(api, session):
    api.post(
        "/data-repository", {"name": "aws_cortexlab", "lab": "cortexlab", "data_url": "http://s3.example/"}
    )
    api.patch("/labs/cortexlab", {"repositories": ["cortexlab_server", "aws_cortexlab"]})
    response = register(
        api,
        "alf/_ibl_trials.table.pqt",
        "raw_ephys_data/probe00/_spikeglx_ephysData_g0_t0.imec0.ap.cbin",
        name="cortexlab_server",
    )
    assert response.status_code == 201, response.body
    first, second = response.json_body
    assert (first["name"], first["collection"], first["revision"]) == ("_ibl_trials.table.pqt", "alf", "")
    records = {r["data_repository"]: r for r in first["file_records"]}
    assert records["cortexlab_server"]["exists"] is True
    assert records["aws_cortexlab"]["exists"] is False  # known there, not yet copied
    assert records["cortexlab_server"]["relative_path"] == (
        "cortexlab/Subjects/KS023/2024-01-31/001/alf/_ibl_trials.table.pqt"
    )
    types = {d["name"]: d["dataset_type"] for d in datasets(api, session)}
    assert types["_spikeglx_ephysData_g0_t0.imec0.ap.cbin"] == "ephysData.raw.ap"


def test_the_session_must_exist(api, session):
    response = api.post(
        "/register-file",
        {"path": "KS023/2024-02-01/001", "labs": "cortexlab", "filenames": ["alf/spikes.times.npy"]},
        user="alice",
    )
    assert response.status_code == 400
    assert "does not exist" in response.json_body["detail"]


@pytest.mark.parametrize(
    ("filenames", "named"),
    [
        (["alf/spikes.times.npy", "alf/unknown.thing.npy"], "unknown.thing.npy: no dataset type"),
        (["alf/_ibl_trials.table.xyz"], "extension .xyz"),
        (["alf/#a#/#b#/spikes.times.npy"], "revision"),
        (["alf/spikes_times.npy"], "ALF"),
    ],
)
def test_one_bad_file_registers_nothing_and_is_named(api, session, filenames, named):
    response = register(api, *filenames)
    assert response.status_code == 400
    assert named in response.json_body["detail"]
    assert datasets(api, session) == []


def test_lists_shorter_than_filenames_are_refused_not_truncated(api, session):
    response = api.post(
        "/register-file",
        {
            "path": "KS023/2024-01-31/001",
            "labs": "cortexlab",
            "filenames": ["alf/spikes.times.npy", "alf/spikes.clusters.npy"],
            "hashes": ["a" * 32],
        },
        user="alice",
    )
    assert response.status_code == 400
    assert "hashes" in response.json_body["detail"]
    assert datasets(api, session) == []


def test_registering_the_same_file_again_creates_no_duplicate(api, session):
    first = register(api, "alf/spikes.times.npy").json_body[0]
    again = register(api, "alf/spikes.times.npy").json_body[0]
    assert again["id"] == first["id"]
    assert again["created_datetime"] == first["created_datetime"]
    assert len(datasets(api, session)) == 1


def test_a_new_revision_becomes_the_default(api, session):
    register(api, "alf/spikes.times.npy")
    register(api, "alf/#2024-02-01#/spikes.times.npy")
    defaults = {d["revision"]: d["default_dataset"] for d in datasets(api, session)}
    assert defaults == {"": False, "2024-02-01": True}
    assert api.get("/revisions/2024-02-01").status_code == 200  # created on the way


def test_a_protected_dataset_answers_the_403_one_moves_files_on(api, session):
    api.post("/tags", {"name": "release-2024", "protected": True})
    dataset = register(api, "alf/spikes.times.npy").json_body[0]
    api.patch(f"/datasets/{dataset['id']}", {"tags": ["release-2024"]})
    refused = register(api, "alf/spikes.times.npy", "alf/spikes.clusters.npy")
    assert refused.status_code == 403
    body = refused.json_body
    assert body["status_code"] == 403 and body["error"] == "One or more datasets is protected"
    assert body["details"] == [{"alf/spikes.times.npy": [{"": True}]}, {"alf/spikes.clusters.npy": []}]
    assert register(api, "alf/#2024-02-02#/spikes.times.npy").status_code == 201


def test_a_lab_server_file_record_can_be_registered_as_not_yet_existing(api, session):
    response = register(api, "alf/spikes.times.npy", exists=False, name="cortexlab_server")
    assert response.json_body[0]["file_records"][0]["exists"] is False


def test_an_unknown_repository_or_user_is_a_400(api, session):
    assert "repository" in register(api, "alf/spikes.times.npy", name="nowhere").json_body["detail"]
    assert "created_by" in register(api, "alf/spikes.times.npy", created_by="ghost").json_body["detail"]


def test_one_can_ask_whether_files_are_protected_before_registering(api, session):
    body = {"path": "KS023/2024-01-31/001", "labs": "cortexlab", "filenames": ["alf/spikes.times.npy"]}
    assert api.request("get", "/check-protected", json=body, user="alice").status_code == 200
    api.post("/tags", {"name": "frozen", "protected": True})
    dataset = register(api, "alf/spikes.times.npy").json_body[0]
    api.patch(f"/datasets/{dataset['id']}", {"tags": ["frozen"]})
    refused = api.request("get", "/check-protected", json=body, user="alice")
    assert refused.status_code == 200  # Alyx's verdict is in the body: ONE reads it there
    assert refused.json_body["status_code"] == 403
    assert refused.json_body["details"] == [{"alf/spikes.times.npy": [{"": True}]}]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("alf/_ibl_trials.choice.npy", "alf/trials.choice.npy"),
        ("alf/trials.choice.npy", "alf/trials.choice.NPY"),
        ("alf/_ibl_trials.choice.npy", "alf/_ibl_trials.choice.NPY"),
    ],
)
def test_names_that_differ_only_by_case_or_namespace_are_refused(api, session, first, second):
    assert register(api, first).status_code == 201
    refused = register(api, second)
    assert refused.status_code == 400
    assert first in refused.json_body["detail"] and "case or namespace" in refused.json_body["detail"]
    later = "alf/#2024-05-01#/"
    together = register(api, later + first.split("/")[-1], later + second.split("/")[-1])
    assert together.status_code == 400
    assert api.get("/datasets?revision=2024-05-01").json_body["count"] == 0


def test_the_same_name_in_another_collection_or_revision_is_another_file(api, session):
    assert register(api, "alf/_ibl_trials.choice.npy", "alf/probe00/trials.choice.npy").status_code == 201
    assert register(api, "alf/#2024-05-01#/trials.choice.npy").status_code == 201

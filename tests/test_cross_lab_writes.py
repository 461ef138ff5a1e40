"""No write of one lab's member changes, or attaches anything to, another lab's records.

Every foreign key a write sets is checked: the caller needs the right to write the lab of the record it
points at, and the two records must belong together. Each test asserts the refused request changed nothing.
"""

from __future__ import annotations

import pytest

MD5 = "0" * 32


@pytest.fixture
def labs(api):
    """A subject, session, dataset, file record, insertion, task, note and water administration in each lab
    (alice is a member of cortexlab, bob of churchlandlab)."""

    def lab_records(lab: str, nickname: str) -> dict:
        a = api.post
        subject = a("/subjects", {"nickname": nickname, "lab": lab}).json_body
        session = a("/sessions", {"subject": nickname, "start_time": "2024-01-31T10:00:00"}).json_body
        (dataset,) = a(
            "/register-file",
            {
                "path": f"{lab}/Subjects/{nickname}/2024-01-31/001",
                "filenames": ["alf/spikes.times.npy"],
                "hashes": [MD5],
                "filesizes": [8],
            },
        ).json_body
        return {
            "subject": subject,
            "session": session,
            "dataset": dataset,
            "file": dataset["file_records"][0],
            "insertion": a("/insertions", {"name": "probe00", "session": session["id"]}).json_body,
            "task": a("/tasks", {"name": "Compress", "session": session["id"]}).json_body,
            "note": a(
                "/notes", {"text": "fine", "content_type": "subject", "object_id": subject["id"]}
            ).json_body,
            "water": a(
                "/water-administrations",
                {"subject": nickname, "water_administered": 1.0, "session": session["id"]},
            ).json_body,
        }

    return {"own": lab_records("cortexlab", "KS001"), "other": lab_records("churchlandlab", "CSH001")}


def refused(api, method: str, path: str, body: dict, *, status: int = 403, user: str = "alice") -> None:
    """The request is refused with ``status`` and the record at ``path`` reads the same afterwards."""
    before = api.get(path).json_body
    response = api.request(method, path, user=user, json=body)
    assert response.status_code == status, response.body
    assert "detail" in response.json_body
    assert api.get(path).json_body == before


def test_a_member_cannot_hang_its_file_record_under_another_labs_dataset(api, labs):
    own, other = labs["own"], labs["other"]
    refused(api, "patch", f"/files/{own['file']['id']}", {"dataset": other["dataset"]["id"]})
    refused(
        api,
        "put",
        f"/files/{own['file']['id']}",
        {"dataset": other["dataset"]["id"], "data_repository": "cortexlab_server"},
    )


def test_a_member_cannot_create_a_file_record_under_another_labs_dataset(api, labs):
    before = api.get(f"/files?dataset={labs['other']['dataset']['id']}").json_body["count"]
    response = api.post(
        "/files",
        {"dataset": labs["other"]["dataset"]["id"], "data_repository": "cortexlab_server"},
        user="alice",
    )
    assert response.status_code == 403
    assert api.get(f"/files?dataset={labs['other']['dataset']['id']}").json_body["count"] == before


def test_a_member_cannot_move_its_insertion_or_task_to_another_labs_session(api, labs):
    own, other = labs["own"], labs["other"]
    refused(api, "patch", f"/insertions/{own['insertion']['id']}", {"session": other["session"]["id"]})
    refused(api, "patch", f"/tasks/{own['task']['id']}", {"session": other["session"]["id"]})


def test_a_member_cannot_attach_its_note_to_another_labs_subject(api, labs):
    own, other = labs["own"], labs["other"]
    refused(api, "patch", f"/notes/{own['note']['id']}", {"object_id": other["subject"]["id"]})
    refused(
        api,
        "patch",
        f"/notes/{own['note']['id']}",
        {"content_type": "session", "object_id": other["session"]["id"]},
    )


def test_a_member_cannot_point_its_water_administration_at_another_labs_session(api, labs):
    own, other = labs["own"], labs["other"]
    refused(api, "patch", f"/water-administrations/{own['water']['id']}", {"session": other["session"]["id"]})
    response = api.post(
        "/water-administrations",
        {"subject": "KS001", "water_administered": 0.5, "session": other["session"]["id"]},
        user="alice",
    )
    assert response.status_code == 403
    assert api.get("/water-administrations?subject=KS001").json_body["count"] == 1


def test_water_given_in_a_session_is_that_sessions_subjects(api, labs):
    """Even a superuser, who may write both labs, cannot give one subject's water in another's session."""
    own, other = labs["own"], labs["other"]
    refused(
        api,
        "patch",
        f"/water-administrations/{own['water']['id']}",
        {"session": other["session"]["id"]},
        status=400,
        user="admin",
    )


def test_a_task_waits_only_for_tasks_of_its_own_session(api, labs):
    own, other = labs["own"], labs["other"]
    refused(
        api,
        "patch",
        f"/tasks/{own['task']['id']}",
        {"parents": [other["task"]["id"]]},
        status=400,
        user="admin",
    )


def test_a_superuser_moving_a_record_moves_it_into_the_lab_it_points_at(api, labs):
    own, other = labs["own"], labs["other"]
    moved = api.patch(
        f"/insertions/{own['insertion']['id']}", {"session": other["session"]["id"], "name": "probe09"}
    )
    assert moved.status_code == 200
    in_other = api.get("/insertions?lab=churchlandlab").json_body["results"]
    assert own["insertion"]["id"] in {r["id"] for r in in_other}
    record = api.patch(f"/files/{own['file']['id']}", {"dataset": other["dataset"]["id"]})
    assert record.status_code == 200
    listed = api.get(f"/files?dataset={other['dataset']['id']}&lab=churchlandlab").json_body
    assert own["file"]["id"] in {r["id"] for r in listed["results"]}


def test_a_member_still_writes_its_own_records_by_reference(api, labs):
    own = labs["own"]
    response = api.post(
        "/water-administrations",
        {"subject": "KS001", "water_administered": 0.5, "session": own["session"]["id"]},
        user="alice",
    )
    assert response.status_code == 201, response.body
    response = api.post("/insertions", {"name": "probe01", "session": own["session"]["id"]}, user="alice")
    assert response.status_code == 201, response.body


@pytest.fixture
def colonies(api):
    """A line, a breeding pair, a litter and a request in each lab; a trajectory of each lab's insertion."""
    for name, body in (("sequences", {"name": "wt"}), ("alleles", {"name": "Ai95", "sequences": ["wt"]})):
        api.post(f"/{name}", body)
    found = {}
    for lab, nickname, line in (("cortexlab", "KS001", "L-own"), ("churchlandlab", "CSH001", "L-other")):
        api.post("/subjects", {"nickname": nickname, "lab": lab, "sex": "F"})
        api.post("/lines", {"name": line, "lab": lab, "alleles": ["Ai95"]})
        session = api.post("/sessions", {"subject": nickname, "start_time": "2024-01-31T10:00:00"}).json_body
        insertion = api.post("/insertions", {"name": "probe00", "session": session["id"]}).json_body
        trajectory = api.post("/trajectories", {"probe_insertion": insertion["id"], "x": 1.0}).json_body
        found[lab] = {
            "line": line,
            "pair": api.post("/breeding-pairs", {"name": f"BP-{line}", "line": line}).json_body,
            "litter": api.post("/litters", {"name": f"LT-{line}", "line": line}).json_body,
            "request": api.post("/subject-requests", {"line": line, "count": 1}).json_body,
            "session": session,
            "insertion": insertion,
            "trajectory": trajectory,
            "subject": nickname,
        }
    return found["cortexlab"], found["churchlandlab"]


def test_a_member_cannot_tie_its_colony_records_to_another_labs_line_litter_or_request(api, colonies):
    own, other = colonies
    refused(api, "patch", f"/breeding-pairs/{own['pair']['name']}", {"line": other["line"]})
    refused(api, "patch", f"/litters/{own['litter']['name']}", {"breeding_pair": other["pair"]["name"]})
    refused(api, "patch", f"/subject-requests/{own['request']['id']}", {"line": other["line"]})
    refused(api, "patch", f"/subjects/{own['subject']}", {"litter": other["litter"]["name"]})
    refused(api, "patch", f"/subjects/{own['subject']}", {"request": other["request"]["id"]})
    rule = {"line": other["line"], "allele": "Ai95", "zygosity": 2}
    assert api.post("/zygosity-rules", rule, user="alice").status_code == 403
    assert api.get(f"/zygosity-rules?line={other['line']}").json_body["count"] == 0


def test_a_member_cannot_attach_histology_to_another_labs_insertion_session_or_subject(api, colonies):
    own, other = colonies
    refused(
        api,
        "patch",
        f"/trajectories/{own['trajectory']['id']}",
        {"probe_insertion": other["insertion"]["id"]},
    )
    for path, body in (
        ("/trajectories", {"probe_insertion": other["insertion"]["id"], "x": 2.0}),
        ("/channels", {"trajectory_estimate": other["trajectory"]["id"], "axial": 20}),
        ("/fields-of-view", {"name": "FOV_00", "session": other["session"]["id"]}),
        ("/chronic-insertions", {"name": "NP1", "subject": other["subject"]}),
        ("/culls", {"subject": other["subject"]}),
        ("/genotype-tests", {"subject": other["subject"], "sequence": "wt", "test_result": 1}),
    ):
        before = api.get(path).json_body["count"]
        assert api.post(path, body, user="alice").status_code == 403, path
        assert api.get(path).json_body["count"] == before, path


def test_a_superuser_moving_a_trajectory_moves_it_into_its_insertions_lab(api, colonies):
    own, other = colonies
    moved = api.patch(
        f"/trajectories/{own['trajectory']['id']}", {"probe_insertion": other["insertion"]["id"]}
    )
    assert moved.status_code == 200, moved.body
    channel = api.post("/channels", {"trajectory_estimate": own["trajectory"]["id"], "axial": 20}).json_body
    assert api.get(f"/channels?lab=churchlandlab&trajectory_estimate={own['trajectory']['id']}").json_body[
        "results"
    ] == [channel]

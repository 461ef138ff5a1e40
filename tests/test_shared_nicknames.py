"""The same nickname in two labs: each subject stays addressable (by uuid, or by nickname and lab), and a
request that is refused writes nothing."""

from __future__ import annotations

import pytest


@pytest.fixture
def twins(api):
    """KS023 of cortexlab, then KS023 of churchlandlab."""
    cortex = api.post("/subjects", {"nickname": "KS023", "lab": "cortexlab"})
    church = api.post("/subjects", {"nickname": "KS023", "lab": "churchlandlab"})
    assert (cortex.status_code, church.status_code) == (201, 201), church.json_body
    return cortex.json_body, church.json_body


def test_a_nickname_already_used_by_another_lab_is_created_and_answered(twins):
    cortex, church = twins
    assert church["lab"] == "churchlandlab"
    assert cortex["id"] != church["id"]


def test_subjects_sharing_a_nickname_have_distinct_urls_that_lead_to_each(api, twins):
    listed = api.get("/subjects?nickname=KS023").json_body["results"]
    assert len({s["url"] for s in listed}) == 2
    for subject in listed:
        assert subject["url"].endswith(f"/subjects/{subject['id']}")
        assert api.get(subject["url"].removeprefix("http://localhost")).json_body["id"] == subject["id"]
    (cortex,) = [s for s in listed if s["lab"] == "cortexlab"]
    assert api.get("/subjects?nickname=KS023&lab=cortexlab").json_body["results"][0]["url"] == cortex["url"]


def test_a_nickname_used_by_one_lab_alone_keeps_its_alyx_url(api):
    created = api.post("/subjects", {"nickname": "ZM_1", "lab": "cortexlab"}).json_body
    assert created["url"] == "http://localhost/subjects/ZM_1"


def test_a_subject_is_read_by_uuid_or_by_nickname_and_lab(api, twins):
    cortex, church = twins
    assert api.get(f"/subjects/{church['id']}").json_body["lab"] == "churchlandlab"
    assert api.get("/subjects/KS023?lab=churchlandlab").json_body["id"] == church["id"]
    assert api.get("/subjects/KS023?lab=cortexlab").json_body["id"] == cortex["id"]
    ambiguous = api.get("/subjects/KS023")
    assert ambiguous.status_code == 400
    assert "lab" in ambiguous.json_body["detail"] and "id" in ambiguous.json_body["detail"]


def test_a_subject_named_by_nickname_and_lab_is_updated_and_deleted(api, twins):
    cortex, church = twins
    changed = api.patch("/subjects/KS023?lab=churchlandlab", {"description": "twin"}, user="bob")
    assert changed.status_code == 200, changed.json_body
    assert api.get(f"/subjects/{cortex['id']}").json_body["description"] == ""
    assert api.delete(f"/subjects/{church['id']}", user="bob").status_code == 204
    assert api.get("/subjects/KS023").json_body["id"] == cortex["id"]


@pytest.mark.parametrize("resource", ["weighings", "water-administrations", "water-restrictions"])
def test_husbandry_names_its_subject_by_uuid_or_by_nickname_and_lab(api, twins, resource):
    cortex, church = twins
    body = {"weighings": {"weight": 21.5}, "water-administrations": {"water_administered": 0.5}}.get(
        resource, {}
    )
    by_id = api.post(f"/{resource}", {"subject": church["id"], **body}, user="bob")
    assert by_id.status_code == 201, by_id.json_body
    assert by_id.json_body["lab"] == "churchlandlab"
    by_lab = api.post(f"/{resource}", {"subject": "KS023", "lab": "cortexlab", **body}, user="alice")
    assert by_lab.status_code == 201, by_lab.json_body
    assert by_lab.json_body["lab"] == "cortexlab"
    ambiguous = api.post(f"/{resource}", {"subject": "KS023", **body}, user="alice")
    assert ambiguous.status_code == 400
    assert "several labs" in ambiguous.json_body["detail"]
    assert api.get(f"/{resource}?subject={church['id']}").json_body["count"] == 1
    assert api.get(f"/{resource}?subject=KS023&lab=cortexlab").json_body["count"] == 1


def test_a_session_names_its_subject_by_uuid(api, twins):
    _, church = twins
    session = api.post(
        "/sessions", {"subject": church["id"], "start_time": "2024-01-31T10:00:00"}, user="bob"
    )
    assert session.status_code == 201, session.json_body
    assert (session.json_body["subject"], session.json_body["lab"]) == ("KS023", "churchlandlab")
    assert api.get(f"/sessions?subject={church['id']}").json_body["count"] == 1


def test_the_water_requirement_takes_a_uuid(api, twins):
    _, church = twins
    answer = api.get(f"/water-requirement/{church['id']}")
    assert answer.status_code == 200, answer.json_body
    assert answer.json_body["lab"] == "churchlandlab"


def test_a_refused_create_writes_nothing(api, twins):
    refused = api.post("/subjects", {"nickname": "KS023", "lab": "cortexlab"})
    assert refused.status_code == 409
    assert api.get("/subjects?nickname=KS023").json_body["count"] == 2

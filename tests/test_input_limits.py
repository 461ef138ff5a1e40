"""No input answers 5xx: what DynamoDB cannot store is a 400 naming the field and the limit, decided by the
field definitions before anything is written, and the record reads the same afterwards."""

from __future__ import annotations

import pytest

from chalicelib.fields import MAX_DEPTH, NAME_LENGTH, TEXT_LENGTH


@pytest.fixture
def subject(api):
    return api.post("/subjects", {"nickname": "KS001", "lab": "cortexlab", "description": "calm"}).json_body


def refused(api, method: str, path: str, body, *, names: str, read: str | None = None, user: str = "admin"):
    """A 400 whose detail names ``names``; the record at ``read`` is unchanged."""
    before = api.get(read).json_body if read else None
    response = api.request(method, path, user=user, json=body)
    assert response.status_code == 400, response.body
    assert names in response.json_body["detail"], response.json_body
    if read:
        assert api.get(read).json_body == before
    return response.json_body["detail"]


@pytest.mark.parametrize("name", ["description", "species", "projects", "lab", "nickname"])
def test_null_for_a_field_the_record_cannot_hold_is_a_400(api, subject, name):
    refused(api, "patch", "/subjects/KS001", {name: None}, names=name, read="/subjects/KS001")


def test_null_where_the_model_allows_it_clears_the_field(api, subject):
    assert api.patch("/subjects/KS001", {"birth_date": None}).status_code == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/subjects", {"nickname": "KS002", "lab": ""}),
        ("/sessions", {"subject": "", "start_time": "2024-01-01T10:00:00"}),
        ("/weighings", {"subject": "", "weight": 20}),
        ("/subjects", {"nickname": "KS002", "lab": "cortexlab", "projects": [""]}),
    ],
)
def test_an_empty_string_where_a_key_goes_is_a_400(api, subject, path, body):
    count = api.get(path).json_body["count"]
    refused(api, "post", path, body, names=next(k for k, v in body.items() if v in ("", [""])))
    assert api.get(path).json_body["count"] == count


@pytest.mark.parametrize("path", ["/subjects?lab=", "/sessions?subject=", "/datasets?session=&name="])
def test_an_empty_filter_is_ignored(api, subject, path):
    assert api.get(path).status_code == 200


def test_a_filter_value_longer_than_any_key_finds_nothing(api, subject):
    response = api.get("/subjects?lab=" + "é" * 1000)
    assert response.status_code == 200
    assert response.json_body["count"] == 0
    assert api.get("/subjects/" + "x" * 3000).status_code == 404
    assert api.get("/water-requirement/" + "x" * 3000).status_code == 404
    assert api.get("/public/releases/" + "é" * 1000, user=None).status_code == 404
    assert api.get("/uploads?status=pending&lab=" + "x" * 3000).status_code == 400


@pytest.mark.parametrize(
    "number", ["1e200", "1e308", "-1e200", "1e-200", "1e400", "Infinity", "NaN", "-Infinity"]
)
def test_numbers_dynamodb_cannot_store_are_a_400(api, number):
    before = api.get("/labs/cortexlab").json_body
    response = api.request(
        "patch",
        "/labs/cortexlab",
        json='{"reference_weight_pct": %s}' % number,  # noqa: UP031
    )
    assert response.status_code == 400, response.body
    assert api.get("/labs/cortexlab").json_body == before


def test_a_weight_too_large_names_the_field_and_the_range(api, subject):
    detail = refused(api, "post", "/weighings", {"subject": "KS001", "weight": 1e200}, names="weight")
    assert "9.9e+125" in detail
    assert api.get("/weighings?subject=KS001").json_body["count"] == 0


def test_integers_beyond_64_bits_are_a_400(api, subject):
    session = api.post("/sessions", {"subject": "KS001", "start_time": "2024-01-01T10:00:00"}).json_body
    refused(
        api,
        "patch",
        f"/sessions/{session['id']}",
        {"n_trials": 10**40},
        names="n_trials",
        read=f"/sessions/{session['id']}",
    )


def test_json_nested_too_deeply_is_a_400(api, subject):
    for levels in (MAX_DEPTH + 1, 1000, 100_000):
        body = '{"json": ' + "[" * levels + "]" * levels + "}"
        refused(api, "patch", "/subjects/KS001", body, names="nested", read="/subjects/KS001")
    ok = '{"json": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}"
    assert api.patch("/subjects/KS001", ok).status_code == 200


def test_a_string_over_its_length_names_the_field_and_the_limit(api, subject):
    detail = refused(
        api,
        "patch",
        "/subjects/KS001",
        {"species": "x" * (NAME_LENGTH + 1)},
        names="species",
        read="/subjects/KS001",
    )
    assert str(NAME_LENGTH) in detail
    session = api.post("/sessions", {"subject": "KS001", "start_time": "2024-01-01T10:00:00"}).json_body
    detail = refused(
        api,
        "patch",
        f"/sessions/{session['id']}",
        {"narrative": "x" * 10_000_000},
        names="narrative",
        read=f"/sessions/{session['id']}",
    )
    assert str(TEXT_LENGTH) in detail
    assert api.patch(f"/sessions/{session['id']}", {"narrative": "x" * TEXT_LENGTH}).status_code == 200


def test_a_record_larger_than_a_dynamodb_item_is_a_400(api, subject):
    session = api.post("/sessions", {"subject": "KS001", "start_time": "2024-01-01T10:00:00"}).json_body
    big = {"narrative": "é" * TEXT_LENGTH, "json": {"notes": "ü" * (TEXT_LENGTH - 20)}}
    refused(
        api,
        "patch",
        f"/sessions/{session['id']}",
        big,
        names="a record holds at most",
        read=f"/sessions/{session['id']}",
    )


@pytest.mark.parametrize(
    "path",
    ["alf/" + "x" * 3000 + ".times.npy", "x" * 5000 + "/spikes.times.npy", "a/" * 600 + "spikes.times.npy"],
)
def test_an_upload_path_too_long_for_the_store_is_refused_with_the_limit(api, subject, path):
    session = api.post("/sessions", {"subject": "KS001", "start_time": "2024-01-01T10:00:00"}).json_body
    files = [
        {"path": path, "size": 8, "md5": "0" * 32},
        {"path": "alf/spikes.times.npy", "size": 8, "md5": "0" * 32},
    ]
    response = api.post("/uploads", {"session": session["id"], "files": files})
    assert response.status_code == 201, response.body
    invalid, valid = response.json_body["files"]
    assert invalid["status"] == "invalid"
    assert "at most" in invalid["reason"]
    assert valid["status"] == "pending"


def test_a_form_body_that_is_not_utf8_is_a_400(api):
    response = api.client.http.post(
        "/auth-token",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=b"username=\xff\xfe&password=\xc3",
    )
    assert response.status_code == 400
    assert "UTF-8" in response.json_body["detail"]


def test_a_username_longer_than_any_account_cannot_log_in(api):
    response = api.client.http.post(
        "/auth-token",
        headers={"Content-Type": "application/json"},
        body='{"username": "%s", "password": "x"}' % ("u" * 5000),
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("method", "path"), [("post", "/subjects"), ("patch", "/subjects/KS001"), ("post", "/uploads")]
)
def test_an_anonymous_caller_is_told_401_before_its_body_is_read(api, method, path):
    response = api.request(method, path, user=None, json="{not json")
    assert response.status_code == 401


def test_special_endpoints_check_their_numbers_with_the_same_fields(api, subject):
    session = api.post("/sessions", {"subject": "KS001", "start_time": "2024-01-01T10:00:00"}).json_body
    task = api.post("/tasks", {"name": "Compress", "session": session["id"]}).json_body
    refused(api, "post", f"/tasks/{task['id']}/claim", {"lease_seconds": 10**30}, names="lease_seconds")
    refused(api, "post", f"/tasks/{task['id']}/claim", {"lease_seconds": 10**9}, names="lease_seconds")
    assert api.get(f"/tasks/{task['id']}").json_body["status"] == task["status"]
    registration = {
        "path": "cortexlab/Subjects/KS001/2024-01-01/001",
        "filenames": ["alf/spikes.times.npy"],
        "hashes": ["0" * 32],
        "filesizes": [10**40],
    }
    refused(api, "post", "/register-file", registration, names="filesizes")
    assert api.get(f"/datasets?session={session['id']}").json_body["count"] == 0

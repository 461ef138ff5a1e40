"""The REST API: log-in, bad input as clear 400s, filters, paging, the session detail ONE reads."""

from __future__ import annotations

import pytest


@pytest.fixture
def session(api):
    api.post("/subjects", {"nickname": "KS023", "lab": "cortexlab", "birth_date": "2023-06-01"})
    return api.post(
        "/sessions",
        {
            "subject": "KS023",
            "start_time": "2024-01-31T10:00:00",
            "number": 1,
            "task_protocol": "_iblrig_tasks_ephysChoiceWorld6.4.2",
        },
    ).json_body


# log-in and tokens


def test_a_token_is_given_for_form_encoded_or_json_credentials(api):
    form = api.client.http.post(
        "/auth-token",
        body="username=alice&password=alice-pw",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 200
    assert list(form.json_body) == ["token"]
    as_json = api.post("/auth-token", {"username": "alice", "password": "alice-pw"}, user=None)
    assert as_json.status_code == 200
    assert (
        api.get("/me", headers={"Authorization": f"Token {form.json_body['token']}"}, user=None).json_body[
            "username"
        ]
        == "alice"
    )


def test_bad_credentials_are_a_400(api):
    refused = api.post("/auth-token", {"username": "alice", "password": "wrong"}, user=None)
    assert refused.status_code == 400
    assert "Unable to log in" in refused.json_body["detail"]


def test_an_invalid_token_answers_exactly_what_one_relogs_in_on(api):
    response = api.get("/sessions", user=None, headers={"Authorization": "Token not-a-token"})
    assert response.status_code == 403
    assert response.body == b'{"detail": "Invalid token.", "status_code": 403}'  # Alyx's exact answer


def test_me_names_the_user_its_labs_and_roles(api):
    assert api.get("/me", user="alice").json_body == {
        "username": "alice",
        "labs": ["cortexlab"],
        "is_superuser": False,
        "is_public_user": False,
    }


def test_health_needs_no_account(api):
    assert api.get("/health", user=None).status_code == 200


# bad input


@pytest.mark.parametrize(
    ("path", "body", "named"),
    [
        ("/subjects", "{not json", "not valid JSON"),
        ("/subjects", ["a list"], "JSON object"),
        ("/subjects", {"nickname": "bad name", "lab": "cortexlab"}, "nickname"),
        ("/subjects", {"nickname": "KS1", "lab": "cortexlab", "colour": "brown"}, "unknown field: colour"),
        ("/subjects", {"nickname": "KS1", "lab": "nolab"}, "lab: lab 'nolab' does not exist"),
        ("/subjects", {"nickname": "KS1", "lab": "cortexlab", "sex": "X"}, "sex"),
        ("/subjects", {"nickname": "KS1", "lab": "cortexlab", "birth_date": "2024-02-30"}, "birth_date"),
        ("/subjects", {"lab": "cortexlab"}, "nickname: this field is required"),
        ("/sessions", {"subject": "KS023", "start_time": "yesterday"}, "start_time"),
        ("/sessions", {"subject": "KS023", "start_time": "2024-01-01T00:00:00", "number": "two"}, "number"),
        (
            "/sessions",
            {"subject": "KS023", "start_time": "2024-01-01T00:00:00", "n_trials": True},
            "n_trials",
        ),
        ("/sessions", {"subject": "KS023", "start_time": "2024-01-01T00:00:00", "qc": "GREAT"}, "qc"),
        ("/sessions", {"subject": "KS023", "start_time": "2024-01-01T00:00:00", "users": [1]}, "users"),
        ("/weighings", {"subject": "KS023", "weight": -3}, "weight"),
        ("/insertions", {"name": "probe00", "session": "not-a-uuid"}, "session: expected a uuid"),
        ("/dataset-types", {"name": "a.b", "description": 3}, "description"),
    ],
)
def test_bad_input_is_a_400_naming_what_is_wrong(api, session, path, body, named):
    response = api.post(path, body)
    assert response.status_code == 400, response.body
    assert named in response.json_body["detail"]


@pytest.mark.parametrize(
    ("path", "status", "named"),
    [
        ("/sessions/not-a-uuid", 400, "not a valid uuid"),
        ("/sessions/7f76d714-09b7-415c-b44d-e957a0fe3801", 404, "does not exist"),
        ("/subjects/nobody", 404, "nobody"),
        ("/sessions?date_range=2024-02-01,2024-01-01", 400, "before"),
        ("/sessions?date_range=last-week", 400, "date_range"),
        ("/sessions?django=json__has_key,x", 400, "has_key"),
        ("/sessions?django=colour,blue", 400, "colour"),
        ("/sessions?limit=ten", 400, "limit"),
        ("/sessions?limit=0", 400, "limit"),
    ],
)
def test_bad_reads_are_clear_4xx_never_500(api, session, path, status, named):
    response = api.get(path)
    assert response.status_code == status, response.body
    assert named in response.json_body["detail"]


def test_a_duplicate_is_a_409(api, session):
    again = api.post("/sessions", {"subject": "KS023", "start_time": "2024-01-31T18:00:00", "number": 1})
    assert again.status_code == 409
    assert "KS023/2024-01-31#001" in again.json_body["detail"]


def test_a_name_key_cannot_be_changed(api):
    response = api.patch("/labs/cortexlab", {"name": "otherlab"})
    assert response.status_code == 400
    assert "name: cannot be changed" in response.json_body["detail"]


# husbandry


def test_a_weighing_after_the_subjects_death_is_refused(api, session):
    api.patch("/subjects/KS023", {"death_date": "2024-03-01"})
    assert (
        api.post(
            "/weighings", {"subject": "KS023", "weight": 25.0, "date_time": "2024-03-01T18:00:00"}
        ).status_code
        == 201
    )
    refused = api.post(
        "/water-administrations",
        {"subject": "KS023", "water_administered": 1.0, "date_time": "2024-03-02T09:00:00"},
    )
    assert refused.status_code == 400
    assert "after the subject's death" in refused.json_body["detail"]


def test_the_water_requirement_flags_a_subject_under_the_alert_line(api, session):
    api.patch("/labs/cortexlab", {"reference_weight_pct": 0.8})
    api.post("/weighings", {"subject": "KS023", "weight": 25.0, "date_time": "2024-03-01T08:00:00"})
    api.post("/water-restrictions", {"subject": "KS023", "start_time": "2024-03-02T09:00:00"})
    api.post("/weighings", {"subject": "KS023", "weight": 18.0, "date_time": "2024-03-10T08:00:00"})
    api.post(
        "/water-administrations",
        {"subject": "KS023", "water_administered": 0.4, "date_time": "2024-03-10T09:00:00"},
    )
    body = api.get("/water-requirement/KS023?date=2024-03-10").json_body
    assert body["water_restricted"] is True
    assert body["reference_weight"] == 25.0
    assert body["expected_weight"] == 25.0
    assert body["below_alert"] is True  # 18 g < 75 % of 25 g
    assert body["expected_water"] == pytest.approx(0.05 * 18.0)  # under the lab's 80 %: 0.05 mL/g
    assert body["given_water"] == pytest.approx(0.4)
    assert body["remaining_water"] == pytest.approx(0.9 - 0.4)
    assert body["alert_weight"] == pytest.approx(18.75)


# filters and paging


@pytest.fixture
def many_sessions(api):
    api.post("/projects", {"name": "brainwide"})
    api.post("/subjects", {"nickname": "KS023", "lab": "cortexlab"})
    api.post("/subjects", {"nickname": "CSH_ZAD_001", "lab": "churchlandlab"})
    for day in range(1, 8):
        api.post(
            "/sessions",
            {
                "subject": "KS023",
                "start_time": f"2024-01-0{day}T10:00:00",
                "number": 1,
                "projects": ["brainwide"] if day % 2 else [],
                "task_protocol": f"ephys{day}",
            },
        )
    api.post("/sessions", {"subject": "CSH_ZAD_001", "start_time": "2024-01-03T10:00:00", "number": 2})


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("subject=ks023", 7),  # case-insensitive, as Alyx
        ("subject=KS023&date_range=2024-01-02,2024-01-04", 3),
        ("date_range=2024-01-03", 2),
        ("lab=churchlandlab", 1),
        ("lab=cortexlab&date_range=2024-01-06,2024-01-30", 2),
        ("number=002", 1),
        ("projects=brainwide", 4),
        ("task_protocol=HYS3", 1),
        ("django=start_time__date__gte,2024-01-06", 2),
        ("django=~lab,cortexlab", 1),
        ("django=number__in,[2, 3]", 1),
        ("django=task_protocol__icontains,'ephys'", 7),
    ],
)
def test_sessions_are_found_by_the_filters_clients_send(api, many_sessions, query, count):
    response = api.get(f"/sessions?{query}")
    assert response.status_code == 200, response.body
    assert response.json_body["count"] == count


def test_lists_are_paged_with_links_that_continue_the_query(api, many_sessions):
    first = api.get("/sessions?subject=KS023&limit=3").json_body
    assert first["count"] == 7 and len(first["results"]) == 3 and first["previous"] is None
    assert first["next"].startswith("http://localhost/sessions?") and "subject=KS023" in first["next"]
    second = api.get(first["next"].removeprefix("http://localhost")).json_body
    assert [s["start_time"][:10] for s in second["results"]] == ["2024-01-04", "2024-01-03", "2024-01-02"]
    assert second["previous"] is not None
    assert len(api.get("/sessions?limit=100000").json_body["results"]) == 8  # capped at 1000, not refused


def test_ids_in_a_django_filter_are_fetched_by_key(api, many_sessions, dynamodb_calls):
    ids = [s["id"] for s in api.get("/sessions?subject=KS023&limit=2").json_body["results"]]
    dynamodb_calls.clear()
    found = api.get(f"/sessions?django=pk__in,{ids!r}").json_body
    assert sorted(s["id"] for s in found["results"]) == sorted(ids)
    assert dynamodb_calls["Scan"] == 0


def test_a_keyed_session_search_never_scans(api, many_sessions, dynamodb_calls):
    dynamodb_calls.clear()
    api.get("/sessions?subject=KS023&date_range=2024-01-01,2024-01-03")
    api.get("/sessions?lab=cortexlab&date_range=2024-01-01,2024-01-03")
    assert dynamodb_calls["Scan"] == 0


# the session detail ONE reads


def test_the_session_detail_lists_its_datasets_as_one_expects(api, session):
    api.post(
        "/register-file",
        {
            "path": "KS023/2024-01-31/001",
            "labs": "cortexlab",
            "name": "cortexlab_server",
            "filenames": ["alf/_ibl_trials.table.pqt", "alf/#2024-02-01#/_ibl_trials.table.pqt"],
            "hashes": ["a" * 32, "b" * 32],
            "filesizes": [100, 120],
        },
    )
    detail = api.get(f"/sessions/{session['id']}").json_body
    assert detail["url"].endswith(session["id"])
    related = {d["revision"]: d for d in detail["data_dataset_session_related"]}
    assert related[""]["default_revision"] == "False"  # a string: a JSON boolean breaks ONE
    assert related["2024-02-01"]["default_revision"] == "True"
    newest = related["2024-02-01"]
    assert newest["data_url"] == (
        "http://cortexlab.example.org/data/cortexlab/Subjects/KS023/2024-01-31/001/alf/#2024-02-01#/"
        f"_ibl_trials.table.{newest['id']}.pqt"
    )
    assert (newest["hash"], newest["file_size"], newest["qc"]) == ("b" * 32, 120, "NOT_SET")
    assert newest["dataset_type"] == "trials.table"


def test_records_carry_their_id_and_a_url_ending_in_it(api, session):
    listed = api.get("/sessions").json_body["results"][0]
    assert listed["url"] == f"http://localhost/sessions/{listed['id']}"
    subject = api.get("/subjects/KS023").json_body
    assert subject["url"].endswith("/subjects/KS023")


def test_a_data_repository_without_a_data_url_is_created(api):
    created = api.post("/data-repository", {"name": "offline_server", "lab": "cortexlab", "data_url": None})
    assert created.status_code == 201, created.body
    assert created.json_body["data_url"] is None
    assert api.get("/data-repository/offline_server").json_body["data_url"] is None


def test_a_new_session_is_answered_with_its_detail_without_reading_what_cannot_point_at_it_yet(
    api, session, dynamodb_calls
):
    """Nothing (water, insertions, notes, datasets) can point at a session just made: its answer is its
    detail with those empty, as a read right after shows, and they are not queried."""
    dynamodb_calls.clear()
    made = api.post("/sessions", {"subject": "KS023", "start_time": "2024-02-01T10:00:00", "number": 1})
    assert made.status_code == 201, made.body
    queries_to_make = dynamodb_calls["Query"]
    dynamodb_calls.clear()
    read = api.get(f"/sessions/{made.json_body['id']}").json_body
    assert made.json_body == read
    assert read["data_dataset_session_related"] == [] and read["wateradmin_session_related"] == []
    assert queries_to_make <= dynamodb_calls["Query"] - 4  # the related records' four queries

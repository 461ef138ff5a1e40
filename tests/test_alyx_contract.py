"""Alyx's contract for what ONE, ibllib and lab scripts call: one test per call, named after it.

Each answer is checked against what Alyx 3.6.1 answers (its source: cortex-lab/alyx), so that the client
code named in each test keeps working unchanged against onecloud.
"""

from __future__ import annotations

import uuid

import pytest

SESSION_PATH = "cortexlab/Subjects/KS023/2024-01-31/001"


@pytest.fixture
def session(api):
    api.post("/subjects", {"nickname": "KS023", "lab": "cortexlab"})
    answer = api.post(
        "/sessions",
        {
            "subject": "KS023",
            "start_time": "2024-01-31T10:00:00",
            "number": 1,
            "n_trials": 400,
            "n_correct_trials": 300,
            "projects": [],
        },
        user="alice",
    )
    assert answer.status_code == 201, answer.body
    return answer.json_body


def register(api, *filenames, user="alice"):
    body = {"path": SESSION_PATH, "filenames": list(filenames), "name": "cortexlab_server"}
    answer = api.post("/register-file", body, user=user)
    assert answer.status_code == 201, answer.body
    return answer.json_body


# 1. ONE RegistrationClient.check_protected_files / ibllib register_dataset -----------------------------


def test_check_protected_answers_200_with_the_verdict_in_the_body(api, session):
    """ONE's check_protected_files reads ``status_code`` from a 200 body (Alyx's ProtectedFileViewSet)."""
    body = {"path": "KS023/2024-01-31/001", "filenames": ["alf/spikes.times.npy"]}
    api.post("/tags", {"name": "frozen", "protected": True})
    dataset = register(api, "alf/spikes.times.npy")[0]
    api.patch(f"/datasets/{dataset['id']}", {"tags": ["frozen"]})
    answer = api.request("get", "/check-protected", json=body, user="alice")
    assert answer.status_code == 200
    assert answer.json_body == {
        "status_code": 403,
        "error": "One or more datasets is protected",
        "details": [{"alf/spikes.times.npy": [{"": True}]}],
    }


# 2. ONE pid2eid / eid2pid / search_insertions ------------------------------------------------------------


def test_insertions_carry_session_info_and_take_alyx_filters(api, session):
    """ONE's pid2eid reads ``session_info``; search_insertions sends subject/date/number/dataset filters."""
    insertion = api.post("/insertions", {"name": "probe00", "session": session["id"]}, user="alice")
    assert insertion.status_code == 201, insertion.body
    pid = insertion.json_body["id"]
    register(api, "alf/probe00/spikes.times.npy")
    read = api.get(f"/insertions/{pid}").json_body
    assert read["session_info"]["id"] == session["id"]
    assert read["session_info"]["subject"] == "KS023" and read["chronic_insertion"] is None
    assert [d["name"] for d in read["datasets"]] == ["spikes.times.npy"]
    for query in (
        "subject=KS023&date=2024-01-31&experiment_number=1",
        "dataset_types=spikes.times",
        "datasets=spikes.times.npy",
        "lab=CORTEXLAB",
        "task_protocol=",
        f"session={session['id']}&name=probe00",
    ):
        found = api.get(f"/insertions?{query}")
        assert found.status_code == 200, (query, found.body)
        assert [i["id"] for i in found.json_body["results"]] == [pid], query
        assert "Warning" not in found.headers
    assert api.get("/insertions?subject=KS023&date=2024-02-01").json_body["count"] == 0
    assert api.get("/insertions?dataset_types=spikes.clusters").json_body["count"] == 0


# 3. ibllib IBLRegistrationClient.register_session --------------------------------------------------------


def test_a_session_shows_its_water_insertions_notes_and_fields_of_view(api, session):
    """register_session reads ``session['wateradmin_session_related']`` right after POST /sessions."""
    assert session["wateradmin_session_related"] == []
    assert {"probe_insertion", "notes", "field_of_view", "auto_datetime"} <= set(session)
    given = api.post(
        "/water-administrations",
        {"subject": "KS023", "water_administered": 1.5, "session": session["id"]},
        user="alice",
    )
    assert given.status_code == 201, given.body
    read = api.get(f"/sessions/{session['id']}").json_body
    [water] = read["wateradmin_session_related"]
    assert water["water_administered"] == 1.5 and water["water_type"] == "Water"
    assert read["n_trials"] == 400 and isinstance(read["n_trials"], int)


# 4. ibllib's procedures and the standard vocabularies ----------------------------------------------------


def test_the_standard_vocabularies_are_there_from_the_start(api):
    """ibllib sends ``procedures: ["Behavior training/tasks"]``; iblrig names its water types."""
    procedures = {p["name"] for p in api.get("/procedures?limit=1000").json_body["results"]}
    assert {"Behavior training/tasks", "Histology", "Craniotomy", "Headplate implant"} <= procedures
    water = {w["name"] for w in api.get("/water-type").json_body["results"]}
    assert {"Water", "Hydrogel", "Water 10% Sucrose", "Hydrogel 5% Citric Acid"} <= water
    types = api.get("/dataset-types?limit=1000").json_body
    assert types["count"] >= 223
    names = {t["name"] for t in types["results"]}
    assert {"trials.table", "_iblrig_taskSettings.raw", "spikes.times", "wheel.position"} <= names
    formats = {f["name"]: f for f in api.get("/data-formats").json_body["results"]}
    assert formats["npy"]["python_loader_function"] == "numpy.load"
    assert {"Fileserver", "S3"} <= {t["name"] for t in api.get("/data-repository-type").json_body["results"]}


def test_a_session_with_ibllibs_procedure_is_accepted(api, session):
    answer = api.patch(
        f"/sessions/{session['id']}", {"procedures": ["Behavior training/tasks"]}, user="alice"
    )
    assert answer.status_code == 200, answer.body


# 5. ONE search(performance_gte=...) and the schema ONE reads ---------------------------------------------


def test_the_schema_offers_every_session_search_term(api):
    """ONE checks each search term against the sessions list parameters of /api/schema."""
    schema = api.get("/api/schema").json_body
    names = {p["name"] for p in schema["paths"]["/sessions"]["get"]["parameters"]}
    wanted = "performance_gte performance_lte tag nickname extended_qc histology procedures n_trials"
    assert set(wanted.split()) | {"narrative", "start_time", "json", "users", "date_range"} <= names


def test_sessions_filter_on_performance(api, session):
    for query, count in (("performance_gte=70", 1), ("performance_gte=80", 0), ("performance_lte=75", 1)):
        assert api.get(f"/sessions?{query}").json_body["count"] == count, query


# 6. Filters Alyx declares; unknown ones ignored but named -----------------------------------------------


def test_a_lab_servers_task_runner_finds_its_repository_by_globus_endpoint(api):
    """ibllib's local_server: ``data-repository?globus_endpoint_id=<its endpoint>``."""
    endpoint = str(uuid.uuid4())
    api.patch("/data-repository/cortexlab_server", {"globus_endpoint_id": endpoint})
    found = api.get(f"/data-repository?globus_endpoint_id={endpoint}").json_body["results"]
    assert [r["name"] for r in found] == ["cortexlab_server"]


def test_datasets_filter_on_subject_date_and_number(api, session):
    """ONE's docstring example: ``datasets?subject=&date=&experiment_number=``."""
    register(api, "alf/spikes.times.npy")
    found = api.get("/datasets?subject=KS023&date=2024-01-31&experiment_number=1").json_body
    assert [d["name"] for d in found["results"]] == ["spikes.times.npy"]
    assert found["results"][0]["experiment_number"] == 1
    assert api.get("/datasets?subject=KS023&date=2024-01-31&experiment_number=2").json_body["count"] == 0
    assert api.get("/datasets?protected=false").json_body["count"] == 1
    assert api.get("/datasets?protected=true").json_body["count"] == 0


def test_husbandry_lists_filter_on_nickname(api, session):
    api.post("/weighings", {"subject": "KS023", "weight": 21.5}, user="alice")
    assert api.get("/weighings?nickname=ks023").json_body["count"] == 1
    assert api.get("/water-administrations?nickname=KS023").json_body["count"] == 0


def test_an_unknown_filter_is_ignored_and_named_in_a_warning_header(api, session):
    """ONE warns and sends a filter its schema lacks; Alyx (django-filter) ignores it."""
    answer = api.get("/sessions?subject=KS023&not_a_filter=1")
    assert answer.status_code == 200
    assert answer.json_body["count"] == 1
    assert "not_a_filter" in answer.headers["Warning"]
    assert "Warning" not in api.get("/sessions?subject=KS023").headers


# 7. django= across relations -----------------------------------------------------------------------------


def test_file_records_filter_across_the_repository_relation(api, session):
    """ONE after a bad download: ``files?django=dataset,<id>,data_repository__globus_is_personal,False``."""
    dataset = register(api, "alf/spikes.times.npy")[0]
    query = f"/files?django=dataset,{dataset['id']},data_repository__globus_is_personal,"
    assert api.get(query + "True").json_body["count"] == 1
    assert api.get(query + "False").json_body["count"] == 0


def test_a_lab_servers_task_query_reads_the_lab_index(api, session, dynamodb_calls):
    """ibllib's task_queue: ``tasks?status=Waiting&django=session__lab__name__in,...``."""
    task = api.post(
        "/tasks",
        {
            "name": "TrainingStatus",
            "session": session["id"],
            "executable": "ibllib.pipes.behavior_tasks.TrainingStatus",
            "data_repository": "cortexlab_server",
            "status": "Waiting",
        },
        user="alice",
    )
    assert task.status_code == 201, task.body
    dynamodb_calls.clear()
    query = "/tasks?status=Waiting&django=session__lab__name__in,['cortexlab'],data_repository__name,"
    found = api.get(query + "cortexlab_server").json_body["results"]
    assert [t["name"] for t in found] == ["TrainingStatus"]
    assert dynamodb_calls["Scan"] == 0
    assert api.get(query + "elsewhere").json_body["count"] == 0
    # 8. a task onecloud has no job for stays Waiting for the lab server
    assert found[0]["status"] == "Waiting" and isinstance(found[0]["priority"], int | None)


def test_relation_lookups_keep_literal_eval_safety(api, session):
    answer = api.get("/tasks?django=session__lab__name__in,__import__('os').system('true')")
    assert answer.status_code == 200 and answer.json_body["count"] == 0
    assert api.get("/tasks?django=session__lab__name__in,[open('x')]").status_code == 400


# 9. ONE's own test suite --------------------------------------------------------------------------------


def test_a_record_can_be_put_back_exactly_as_read(api, session):
    read = api.get(f"/sessions/{session['id']}").json_body
    answer = api.put(f"/sessions/{session['id']}", {**read, "narrative": "put back"}, user="alice")
    assert answer.status_code == 200, answer.body
    assert answer.json_body["narrative"] == "put back"
    assert (
        api.put(f"/sessions/{session['id']}", {**read, "narative": "typo"}, user="alice").status_code == 400
    )


def test_a_json_string_stays_a_string(api, session):
    answer = api.patch(f"/sessions/{session['id']}", {"json": '{"a": 1}'}, user="alice")
    assert answer.json_body["json"] == '{"a": 1}'


def test_a_session_starts_now_when_no_start_time_is_given(api, session):
    answer = api.post("/sessions", {"subject": "KS023", "number": 2}, user="alice")
    assert answer.status_code == 201, answer.body
    assert answer.json_body["start_time"]


def test_json_fields_filter_with_lookups(api, session):
    api.patch(f"/sessions/{session['id']}", {"extended_qc": {"behavior": 0.3}}, user="alice")
    assert api.get("/sessions?extended_qc=behavior__lt,0.5").json_body["count"] == 1
    assert api.get("/sessions?extended_qc=behavior__gte,0.5").json_body["count"] == 0


def test_a_read_only_users_write_to_a_missing_record_is_forbidden_first(api):
    missing = str(uuid.uuid4())
    assert api.patch(f"/sessions/{missing}", {"narrative": "x"}, user="pub").status_code == 403
    assert api.delete(f"/sessions/{missing}", user="pub").status_code == 403
    assert api.patch(f"/sessions/{missing}", {"narrative": "x"}, user="alice").status_code == 404


def test_vocabulary_lists_do_not_offer_django(api):
    schema = api.get("/api/schema").json_body["paths"]
    assert "django" not in {p["name"] for p in schema["/dataset-types"]["get"]["parameters"]}
    assert "django" in {p["name"] for p in schema["/datasets"]["get"]["parameters"]}


# What a lab script notices -------------------------------------------------------------------------------


def test_sessions_list_newest_first(api, session):
    """Alyx orders sessions by ``-start_time``; so do one.search and lab scripts' lists."""
    api.post("/sessions", {"subject": "KS023", "start_time": "2024-03-01T10:00:00"}, user="alice")
    starts = [s["start_time"] for s in api.get("/sessions").json_body["results"]]
    assert starts == sorted(starts, reverse=True) and len(starts) == 2


def test_validation_errors_carry_alyxs_shape(api):
    answer = api.post("/subjects", {"nickname": "KS024", "lab": "cortexlab", "sex": "X"})
    assert answer.status_code == 400
    body = answer.json_body
    assert body["status_code"] == 400 and body["detail"].startswith("sex: ")
    assert body["sex"] == [body["detail"].removeprefix("sex: ")]


def test_water_restriction_has_alyxs_name(api, session):
    """ONE and iblrig call ``water-restriction`` (singular)."""
    answer = api.post(
        "/water-restriction", {"subject": "KS023", "start_time": "2024-01-01T09:00:00"}, user="alice"
    )
    assert answer.status_code == 201, answer.body
    assert api.get("/water-restriction?subject=KS023").json_body["count"] == 1


def test_subjects_show_their_water_control_and_history(api, session):
    api.post("/weighings", {"subject": "KS023", "weight": 21.5}, user="alice")
    read = api.get("/subjects/KS023").json_body
    for name in ("litter", "source", "session_projects", "expected_water", "last_water_restriction"):
        assert name in read, name
    assert read["reference_weight"] is not None or read["last_water_restriction"] is None
    assert [w["weight"] for w in read["weighings"]] == [21.5]
    assert read["water_administrations"] == []


def test_users_show_alyxs_fields(api):
    api.post("/subjects", {"nickname": "KS030", "lab": "cortexlab", "responsible_user": "alice"})
    alice = api.get("/users/alice").json_body
    assert alice["subjects_responsible"] == ["KS030"]
    assert alice["allowed_users"] == [] and alice["is_stock_manager"] is False


def test_task_integer_fields_are_integers(api, session):
    task = api.post(
        "/tasks", {"name": "T", "session": session["id"], "level": 2, "priority": 90}, user="alice"
    ).json_body
    assert task["level"] == 2 and isinstance(task["level"], int) and isinstance(task["priority"], int)


def test_a_superuser_creates_a_record_with_a_chosen_id(api, session):
    """Migrating from Alyx keeps every uuid (ONE's tests name the ids of IBL's test database)."""
    chosen = str(uuid.uuid4())
    answer = api.post("/sessions", {"id": chosen, "subject": "KS023", "number": 3})
    assert answer.status_code == 201, answer.body
    assert answer.json_body["id"] == chosen
    again = api.post("/sessions", {"id": chosen, "subject": "KS023", "number": 4})
    assert again.status_code == 409
    mine = api.post("/sessions", {"id": str(uuid.uuid4()), "subject": "KS023", "number": 5}, user="alice")
    assert mine.status_code == 201 and mine.json_body["id"] != chosen


# Histology: how IBL localizes probes ---------------------------------------------------------------------


def test_brain_regions_are_the_allen_table_alyx_loads(api):
    """iblatlas / lab scripts: ``brain-regions?acronym=``, ``descendants=``, ``ancestors=``."""
    [ca1] = api.get("/brain-regions?acronym=ca1").json_body["results"]
    assert (ca1["id"], ca1["acronym"], ca1["name"]) == (382, "CA1", "Field CA1")
    assert api.get("/brain-regions/382").json_body["acronym"] == "CA1"
    below = {r["acronym"] for r in api.get("/brain-regions?descendants=CA&limit=1000").json_body["results"]}
    assert {"CA", "CA1", "CA3"} <= below and "DG" not in below
    above = {r["acronym"] for r in api.get("/brain-regions?ancestors=382").json_body["results"]}
    assert {"CA1", "CA", "HPF", "root"} <= above
    assert api.get("/brain-regions").json_body["count"] == 1328  # with "void", id 0
    assert api.get("/brain-regions/99999999").status_code == 404


def test_channels_localize_an_insertion_and_the_atlas_filters_find_it(api, session):
    """ibllib's alignment upload: trajectories, then a list of channels; ONE's search(atlas_acronym=)."""
    pid = api.post("/insertions", {"name": "probe00", "session": session["id"]}, user="alice").json_body["id"]
    planned = api.post(
        "/trajectories",
        {
            "probe_insertion": pid,
            "x": -2243,
            "y": -2000,
            "z": 0,
            "depth": 4000,
            "theta": 15,
            "phi": 180,
            "provenance": "Planned",
        },
        user="alice",
    )
    assert planned.status_code == 201, planned.body
    aligned = api.post(
        "/trajectories",
        {
            "probe_insertion": pid,
            "x": -2240,
            "y": -2010,
            "depth": 3900,
            "theta": 15,
            "phi": 180,
            "provenance": "Ephys aligned histology track",
        },
        user="alice",
    ).json_body
    channels = api.post(
        "/channels",
        [
            {"trajectory_estimate": aligned["id"], "axial": 20 * i, "lateral": 11, "brain_region": region}
            for i, region in enumerate((382, 382, 463))  # CA1, CA1, CA3
        ],
        user="alice",
    )
    assert channels.status_code == 201, channels.body
    assert [c["brain_region"] for c in channels.json_body] == [382, 382, 463]
    assert api.get(f"/channels?probe_insertion={pid}").json_body["count"] == 3
    found = api.get(f"/trajectories?probe_insertion={pid}&provenance=Planned").json_body["results"]
    assert [t["provenance"] for t in found] == ["Planned"] and found[0]["probe_name"] == "probe00"
    assert found[0]["session"]["id"] == session["id"]
    for query in ("atlas_acronym=CA1", "atlas_acronym=HPF", "atlas_id=463", "atlas_name=field ca"):
        assert [s["id"] for s in api.get(f"/sessions?{query}").json_body["results"]] == [session["id"]], query
        assert [i["id"] for i in api.get(f"/insertions?{query}").json_body["results"]] == [pid], query
    assert api.get("/sessions?atlas_acronym=VISp").json_body["count"] == 0


def test_chronic_insertions_and_fields_of_view_are_records_too(api, session):
    chronic = api.post(
        "/chronic-insertions", {"name": "probe00", "subject": "KS023", "serial": "1900"}, user="alice"
    )
    assert chronic.status_code == 201, chronic.body
    insertion = api.post(
        "/insertions",
        {"name": "probe00", "session": session["id"], "chronic_insertion": chronic.json_body["id"]},
        user="alice",
    )
    assert insertion.json_body["chronic_insertion"] == chronic.json_body["id"]
    fov = api.post("/fields-of-view", {"name": "FOV_00", "session": session["id"]}, user="alice")
    assert fov.status_code == 201, fov.body
    assert api.get(f"/fields-of-view?session={session['id']}").json_body["count"] == 1


# The other endpoints lab scripts call --------------------------------------------------------------------


def test_new_download_counts_each_users_downloads(api, session):
    """ONE's download logging: ``POST /new-download`` then ``GET /downloads``."""
    dataset = register(api, "alf/spikes.times.npy")[0]
    first = api.post("/new-download", {"datasets": dataset["id"], "projects": ""}, user="alice")
    assert first.status_code == 201, first.body
    again = api.post("/new-download", {"datasets": [dataset["id"]]}, user="alice").json_body
    assert again["download"] == first.json_body["download"] and again["count"] == [2]
    [logged] = api.get("/downloads?user=alice&dataset=spikes.times.npy").json_body["results"]
    assert (logged["count"], logged["dataset"]) == (2, dataset["id"])
    missing = api.post("/new-download", {"datasets": [str(uuid.uuid4())]}, user="alice")
    assert missing.status_code == 400


def test_locations_water_restricted_subjects_and_daily_water_records(api, session):
    assert (
        api.post("/locations", {"name": "_iblrig_cortexlab_ephys_0", "lab": "cortexlab"}).status_code == 201
    )
    assert [x["name"] for x in api.get("/locations").json_body["results"]] == ["_iblrig_cortexlab_ephys_0"]
    api.post("/weighings", {"subject": "KS023", "weight": 25.0, "date_time": "2024-01-01T09:00:00"})
    api.post("/water-restriction", {"subject": "KS023", "start_time": "2024-01-01T10:00:00"})
    restricted = api.get("/water-restricted-subjects").json_body["results"]
    assert [s["nickname"] for s in restricted] == ["KS023"]
    assert restricted[0]["last_water_restriction"] == "2024-01-01T10:00:00"
    answer = api.get("/water-requirement/KS023?start_date=2024-01-01&end_date=2024-01-03").json_body
    assert [r["date"] for r in answer["records"]] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert answer["records"][1]["is_water_restricted"] is True
    assert answer["records"][1]["reference_weight"] == 25.0


def test_sync_file_status_lists_files_the_central_store_lacks(api, session):
    register(api, "alf/spikes.times.npy")
    api.patch("/data-repository/cortexlab_server", {"globus_is_personal": False})
    assert api.get("/sync-file-status").json_body == []  # the lab server is central now, and has it
    api.patch("/labs/cortexlab", {"repositories": ["cortexlab_server", "s3"]})
    register(api, "alf/spikes.clusters.npy")
    assert (
        "cortexlab/Subjects/KS023/2024-01-31/001/alf/spikes.clusters.npy"
        in api.get("/sync-file-status").json_body
    )


def test_cache_zip_redirects_to_the_tables(api, session):
    answer = api.get("/cache.zip")
    assert answer.status_code == 302 and "cache.zip" in answer.headers["Location"]


def test_register_file_answers_alyxs_fields(api, session):
    [record] = register(api, "alf/spikes.times.npy")
    assert (record["dataset_type"], record["data_format"]) == ("spikes.times", "npy")
    assert record["session"] == session["id"] and record["session_number"] == 1
    assert record["qc"] == 0 and record["default"] is True


@pytest.fixture
def aggregates_repository(api):
    """IBL keeps aggregates in a repository of their own, whose URL ends in ``aggregates/``."""
    body = {
        "name": "aws_aggregates",
        "data_url": "https://data.example.org/aggregates/",
        "globus_is_personal": False,
    }
    assert api.post("/data-repository", body).status_code == 201
    return body["name"]


def _aggregate_request(subject_id: str, **extra) -> dict:
    """What ONE 3.6.1's ``RegistrationClient.register_files(files, content_type='subject', object_id=...,
    repository=...)`` posts for ``<root>/aggregates/Subjects/cortexlab/KS023/<file>``."""
    return {
        "created_by": "alice",
        "path": "Subjects/cortexlab/KS023",
        "filenames": ["_ibl_subjectTraining.table.pqt"],
        "hashes": ["0" * 32],
        "filesizes": [128],
        "name": "aws_aggregates",
        "exists": True,
        "server_only": False,
        "default": True,
        "versions": [None],
        "check_protected": True,
        "content_type": "subject",
        "object_id": subject_id,
        **extra,
    }


def test_one_registers_a_subjects_aggregate_and_lists_it_as_list_aggregates_does(
    api, session, aggregates_repository
):
    """ONE's ``register_files(..., content_type='subject')`` and ``one.list_aggregates('subjects')``
    (``datasets?django=session__isnull,True``, read with ``one.converters.datasets2records``)."""
    from one.converters import datasets2records

    subject = api.get("/subjects/KS023").json_body
    answer = api.post("/register-file", _aggregate_request(subject["id"]), user="alice")
    assert answer.status_code == 201, answer.body
    (record,) = answer.json_body
    assert (record["subject"], record["content_type"], record["object_id"]) == (
        "KS023",
        "subjects.subject",
        subject["id"],
    )
    assert record["collection"] == "Subjects/cortexlab/KS023" and "session" not in record
    register(api, "alf/_ibl_trials.table.pqt")  # a session's dataset is not an aggregate
    listed = api.get("/datasets?django=session__isnull,True").json_body["results"]
    assert [d["id"] for d in listed] == [record["id"]] and listed[0]["session"] is None
    frame = datasets2records(listed)
    assert list(frame["rel_path"]) == ["aggregates/Subjects/cortexlab/KS023/_ibl_subjectTraining.table.pqt"]
    file_record = listed[0]["file_records"][0]
    assert file_record["relative_path"] == "Subjects/cortexlab/KS023/_ibl_subjectTraining.table.pqt"
    again = api.post("/register-file", _aggregate_request(subject["id"], hashes=["1" * 32]), user="alice")
    assert [d["id"] for d in again.json_body] == [record["id"]]  # the same dataset, patched
    one_file = {"path": "Subjects/cortexlab/KS023/_ibl_subjectTraining.table.pqt", "filenames": ["."]}
    alone = api.post("/register-file", _aggregate_request(subject["id"], **one_file), user="alice")
    assert [d["id"] for d in alone.json_body] == [record["id"]], alone.body  # ONE's form for one file
    assert api.get("/datasets?django=session__isnull,True").json_body["count"] == 1


def test_an_aggregate_needs_its_repository_a_real_object_and_the_right_to_write_its_lab(
    api, session, aggregates_repository
):
    """Alyx's register-file checks for non-session datasets, as 400s (and the lab's write right, 403)."""
    subject = api.get("/subjects/KS023").json_body["id"]
    for extra, field in (
        ({"name": None}, "name"),
        ({"content_type": "incorrect"}, "content_type"),
        ({"object_id": "incorrect"}, "object_id"),
        ({"object_id": str(uuid.uuid4())}, "object_id"),
        ({"content_type": None}, "content_type"),
    ):
        answer = api.post("/register-file", _aggregate_request(subject, **extra), user="alice")
        assert answer.status_code == 400 and field in answer.json_body["detail"], (extra, answer.body)
    assert api.post("/register-file", _aggregate_request(subject), user="bob").status_code == 403
    assert api.get("/datasets?django=session__isnull,True").json_body["count"] == 0


def test_check_protected_answers_for_an_aggregate(api, session, aggregates_repository):
    """ONE's ``check_protected_files(files, content_type='subject', object_id=...)``."""
    subject = api.get("/subjects/KS023").json_body["id"]
    (record,) = api.post("/register-file", _aggregate_request(subject), user="alice").json_body
    api.post("/tags", {"name": "paper", "protected": True})
    api.patch(f"/datasets/{record['id']}", {"tags": ["paper"]})
    query = {"path": "Subjects/cortexlab/KS023", "filenames": ["_ibl_subjectTraining.table.pqt"]}
    verdict = api.post(
        "/check-protected", {**query, "content_type": "subject", "object_id": subject}
    ).json_body
    assert verdict["status_code"] == 403
    assert verdict["details"] == [{"_ibl_subjectTraining.table.pqt": [{"": True}]}]


def test_a_dataset_is_created_without_a_session_as_alyx_allows(api, session):
    """``POST /datasets`` with no session (Alyx's serializer: session not required)."""
    subject = api.get("/subjects/KS023").json_body["id"]
    made = api.post(
        "/datasets",
        {"name": "_ibl_subjectTraining.table.pqt", "collection": "Subjects/cortexlab/KS023"}
        | {"content_type": "subjects.subject", "object_id": subject},
        user="alice",
    )
    assert made.status_code == 201, made.body
    assert made.json_body["session"] is None and made.json_body["object_id"] == subject
    plain = api.post("/datasets", {"name": "wheel.position.npy"}, user="alice")
    assert plain.status_code == 201, plain.body
    found = api.get("/datasets?django=session__isnull,True").json_body["results"]
    assert {d["id"] for d in found} == {made.json_body["id"], plain.json_body["id"]}
    assert api.get("/datasets?django=session__isnull,False").json_body["count"] == 0
    other = api.post("/subjects", {"nickname": "CSH001", "lab": "churchlandlab"}).json_body["id"]
    moved = api.patch(f"/datasets/{made.json_body['id']}", {"object_id": other}, user="alice")
    assert moved.status_code == 400 and "object_id" in moved.json_body["detail"]
    assert api.get(f"/datasets/{made.json_body['id']}").json_body["object_id"] == subject

"""Uploads to presigned S3 URLs, registered by S3 events through the same handler Lambda runs."""

from __future__ import annotations

import hashlib
import json

import pytest
import requests

from app import app
from chalicelib import aws, storage
from onecloud.pump import EventPump

SESSION = "cortexlab/Subjects/KS023/2024-01-31/001"


@pytest.fixture
def session(api):
    api.post("/subjects", {"nickname": "KS023", "lab": "cortexlab"})
    return api.post(
        "/sessions", {"subject": "KS023", "start_time": "2024-01-31T10:00:00", "number": 1}
    ).json_body


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def intent(api, *files: tuple[str, bytes], user: str = "alice", session_ref: str = SESSION):
    body = {"session": session_ref, "files": [{"path": p, "size": len(d), "md5": md5(d)} for p, d in files]}
    return api.post("/uploads", body, user=user)


def put(answer: dict, data: bytes) -> None:
    response = requests.put(answer["url"], data=data, headers=answer["headers"])
    assert response.status_code == 200, response.text


def deliver() -> int:
    return EventPump(app).drain()


def files_of(api, upload_id: str, user: str = "alice") -> dict[str, dict]:
    return {f["path"]: f for f in api.get(f"/uploads/{upload_id}", user=user).json_body["files"]}


def test_a_valid_upload_is_registered_from_the_s3_event(api, session):
    data = b"trials table bytes"
    answer = intent(api, ("alf/_ibl_trials.table.pqt", data))
    assert answer.status_code == 201, answer.body
    (planned,) = answer.json_body["files"]
    assert planned["method"] == "PUT" and planned["headers"]["Content-MD5"] == storage.md5_base64(md5(data))
    put(planned, data)
    deliver()
    state = files_of(api, answer.json_body["id"])["alf/_ibl_trials.table.pqt"]
    assert state["status"] == "registered", state
    (dataset,) = api.get(f"/datasets?session={session['id']}").json_body["results"]
    assert (dataset["hash"], dataset["file_size"], dataset["created_by"]) == (md5(data), len(data), "alice")
    records = {r["data_repository"]: r for r in dataset["file_records"]}
    record = records["s3"]
    assert record["exists"] and not records["cortexlab_server"]["exists"]  # the lab server is told of it
    assert record["data_url"] == (f"http://localhost/{SESSION}/alf/_ibl_trials.table.{dataset['id']}.pqt")


def test_an_event_delivered_twice_registers_once(api, session):
    data = b"spike times"
    (planned,) = intent(api, ("alf/spikes.times.npy", data)).json_body["files"]
    put(planned, data)
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=aws.settings().upload_queue)["QueueUrl"]
    messages = [
        m
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        if "Records" in json.loads(m["Body"])
    ]
    event = {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
            }
            for m in messages
        ]
    }
    handler = app.handler_map["register_uploads"]
    assert handler(event, None) == {"batchItemFailures": []}
    assert handler(event, None) == {"batchItemFailures": []}
    assert api.get(f"/datasets?session={session['id']}").json_body["count"] == 1


def test_a_corrupted_body_is_refused_and_kept(api, session):
    data = b"the real spike amplitudes"
    answer = intent(api, ("alf/spikes.amps.npy", data)).json_body
    corrupted = b"the real spike amplitudex"  # same size, one byte flipped in transit
    put(answer["files"][0], corrupted)
    deliver()
    state = files_of(api, answer["id"])["alf/spikes.amps.npy"]
    assert state["status"] == "rejected"
    assert "checksum mismatch" in state["reason"]
    assert api.get(f"/datasets?session={session['id']}").json_body["count"] == 0
    assert storage.head(state["key"])["ContentLength"] == len(corrupted)  # kept, never deleted
    rejected = api.get("/uploads?status=rejected", user="alice").json_body["results"]
    assert [r["key"] for r in rejected] == [state["key"]]
    assert api.get("/uploads?status=rejected", user="bob").json_body["results"] == []


def test_an_object_with_a_bad_name_is_rejected_and_kept(api, session):
    key = f"{SESSION}/alf/not an alf name.npy"
    aws.client("s3").put_object(Bucket=aws.settings().data_bucket, Key=key, Body=b"x")
    deliver()
    (rejected,) = api.get("/uploads?status=rejected", user="alice").json_body["results"]
    assert rejected["key"] == key
    assert "ALF" in rejected["reason"]
    assert storage.head(key)["ContentLength"] == 1


def test_an_object_outside_any_session_folder_is_rejected_and_listed(api, session):
    aws.client("s3").put_object(Bucket=aws.settings().data_bucket, Key="cortexlab/notes.txt", Body=b"x")
    deliver()
    (rejected,) = api.get("/uploads?status=rejected&lab=cortexlab").json_body["results"]
    assert rejected["key"] == "cortexlab/notes.txt" and "ALF" in rejected["reason"]


def test_an_object_written_by_a_job_without_intent_is_registered(api, session):
    key = f"{SESSION}/alf/probe00/spikes.clusters.npy"
    aws.client("s3").put_object(Bucket=aws.settings().data_bucket, Key=key, Body=b"clusters")
    deliver()
    (dataset,) = api.get(f"/datasets?session={session['id']}").json_body["results"]
    assert (dataset["collection"], dataset["hash"]) == ("alf/probe00", md5(b"clusters"))


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ([("alf/spikes_times.npy", b"x")], "ALF"),
        ([("alf/unknown.thing.npy", b"x")], "no dataset type"),
    ],
)
def test_invalid_files_are_listed_and_valid_ones_still_get_urls(api, session, files, reason):
    answer = intent(api, *files, ("alf/spikes.depths.npy", b"depths")).json_body["files"]
    assert answer[0]["status"] == "invalid" and reason in answer[0]["reason"]
    assert answer[1]["status"] == "pending" and answer[1]["url"]


def test_a_file_already_registered_with_the_same_content_needs_no_upload(api, session):
    data = b"goCue times"
    put(intent(api, ("alf/_ibl_trials.goCue_times.npy", data)).json_body["files"][0], data)
    deliver()
    (again,) = intent(api, ("alf/_ibl_trials.goCue_times.npy", data)).json_body["files"]
    assert again["status"] == "registered"


def test_a_member_of_another_lab_gets_no_upload_urls(api, session):
    refused = intent(api, ("alf/spikes.times.npy", b"x"), user="bob")
    assert refused.status_code == 403


def test_a_private_file_is_downloaded_by_its_lab_only(api, session):
    data = b"private trials"
    put(intent(api, ("alf/_ibl_trials.table.pqt", data)).json_body["files"][0], data)
    deliver()
    (dataset,) = api.get(f"/datasets?session={session['id']}").json_body["results"]
    (url,) = [r["data_url"] for r in dataset["file_records"] if r["data_url"]]
    path = url.removeprefix("http://localhost")
    allowed = api.get(path, user="alice")
    assert allowed.status_code == 302
    assert requests.get(allowed.headers["Location"]).content == data
    assert api.get(path, user="bob").status_code == 404  # another lab: not even told it exists
    assert api.get(path, user="pub").status_code == 404
    challenged = api.get(path, user=None)
    assert challenged.status_code == 401 and challenged.headers["WWW-Authenticate"].startswith("Basic")


def test_a_protected_dataset_is_refused_with_the_contract_403(api, session):
    data = b"v1"
    put(intent(api, ("alf/spikes.times.npy", data)).json_body["files"][0], data)
    deliver()
    api.post("/tags", {"name": "frozen", "protected": True})
    (dataset,) = api.get(f"/datasets?session={session['id']}").json_body["results"]
    api.patch(f"/datasets/{dataset['id']}", {"tags": ["frozen"]})
    refused = intent(api, ("alf/spikes.times.npy", b"v2"))
    assert refused.status_code == 403
    assert refused.json_body["details"] == [{"alf/spikes.times.npy": [{"": True}]}]


@pytest.fixture
def small_parts(cloud):
    """Multipart from 5 MiB (S3's smallest part) so the test moves megabytes, not hundreds."""
    aws.configure(cloud.with_changes(multipart_threshold=5 * 2**20))
    yield
    aws.configure(cloud)


def test_a_large_file_goes_in_parts_and_an_interrupted_upload_resumes(api, session, small_parts):
    data = bytes(range(256)) * (12 * 2**20 // 256)  # 12 MiB: three parts of 5, 5 and 2 MiB
    first = intent(api, ("raw_ephys_data/probe00/_spikeglx_ephysData_g0_t0.imec0.ap.cbin", data)).json_body
    (plan,) = first["files"]
    assert (plan["method"], plan["parts"], plan["uploaded"]) == ("multipart", 3, [])
    size = plan["part_size"]
    chunks = [data[i : i + size] for i in range(0, len(data), size)]

    def send(upload_id: str, numbers: list[int]) -> None:
        parts = [{"number": n, "md5": md5(chunks[n - 1])} for n in numbers]
        urls = api.post(f"/uploads/{upload_id}/parts", {"path": plan["path"], "parts": parts}).json_body[
            "parts"
        ]
        for url in urls:
            put(url, chunks[url["number"] - 1])

    send(first["id"], [1])  # ...and the connection drops
    again = intent(api, ("raw_ephys_data/probe00/_spikeglx_ephysData_g0_t0.imec0.ap.cbin", data)).json_body
    assert again["files"][0]["uploaded"] == [1]  # resumed: part 1 is not sent again
    send(again["id"], [2, 3])
    assert api.post(f"/uploads/{again['id']}/complete", {"path": plan["path"]}).status_code == 200
    # asked again before the S3 event arrived (the user pressed Ctrl-C while waiting): a fresh plan
    third = intent(api, ("raw_ephys_data/probe00/_spikeglx_ephysData_g0_t0.imec0.ap.cbin", data))
    assert third.status_code == 201 and third.json_body["files"][0]["status"] == "uploaded"  # nothing to send
    deliver()
    assert files_of(api, again["id"])[plan["path"]]["status"] == "registered"
    (dataset,) = api.get(f"/datasets?session={session['id']}").json_body["results"]
    assert (dataset["hash"], dataset["file_size"], dataset["dataset_type"]) == (
        md5(data),
        len(data),
        "ephysData.raw.ap",
    )


def test_an_expired_intent_is_renewed_without_starting_over(api, session):
    answer = intent(api, ("alf/spikes.times.npy", b"t")).json_body
    from chalicelib.models import Upload

    Upload.get(answer["id"]).update(actions=[Upload.expires.set("2000-01-01T00:00:00")])
    renewed = api.post(f"/uploads/{answer['id']}/renew", {}).json_body
    assert renewed["expires"] > "2000-01-01T00:00:00"
    put(renewed["files"][0], b"t")
    deliver()
    assert files_of(api, answer["id"])["alf/spikes.times.npy"]["status"] == "registered"


def test_an_intent_refuses_a_file_named_like_another_but_for_case_or_namespace(api, session):
    put(intent(api, ("alf/_ibl_trials.choice.npy", b"choices")).json_body["files"][0], b"choices")
    deliver()
    answer = intent(api, ("alf/trials.choice.npy", b"other"), ("alf/_ibl_trials.feedbackType.npy", b"f"))
    assert answer.status_code == 201
    states = {f["path"]: f for f in answer.json_body["files"]}
    assert states["alf/trials.choice.npy"]["status"] == "invalid"
    assert "case or namespace" in states["alf/trials.choice.npy"]["reason"]
    assert states["alf/_ibl_trials.feedbackType.npy"]["status"] != "invalid"


def test_an_event_batch_looks_up_its_session_lab_and_uploader_once_not_per_file(api, session, monkeypatch):
    from collections import Counter

    from pynamodb.connection.base import Connection

    from chalicelib.models import Lab, Session, Upload

    files = [
        ("alf/_ibl_wheel.position.npy", b"position"),
        ("alf/_ibl_wheel.timestamps.npy", b"timestamps"),
        ("alf/_ibl_trials.goCue_times.npy", b"go cue"),
        ("raw_behavior_data/_iblrig_taskSettings.raw.json", b"{}"),
    ]
    answer = intent(api, *files)
    for planned, (_, data) in zip(answer.json_body["files"], files, strict=True):
        put(planned, data)
    calls = Counter()
    dispatch = Connection.dispatch

    def counted(self, operation, kwargs, *args, **kw):
        calls[operation, kwargs.get("TableName")] += 1
        return dispatch(self, operation, kwargs, *args, **kw)

    with monkeypatch.context() as patched:
        patched.setattr(Connection, "dispatch", counted)
        deliver()
    states = {f["status"] for f in files_of(api, answer.json_body["id"]).values()}
    assert states == {"registered"}
    assert calls["Query", Session.Meta.table_name] == 1
    assert calls["GetItem", Lab.Meta.table_name] == 1  # the lab's repositories
    assert calls["GetItem", Upload.Meta.table_name] == 1  # who uploaded them
    assert calls["TransactWriteItems", None] == len(files)  # each dataset with its file records


def test_an_intent_writes_the_records_of_its_single_put_files_together(api, session, dynamodb_calls):
    files = [(f"alf/_ibl_wheel.{name}.npy", name.encode()) for name in ("position", "timestamps", "velocity")]
    dynamodb_calls.clear()
    answer = intent(api, *files)
    assert [f["status"] for f in answer.json_body["files"]] == ["pending"] * 3
    assert dynamodb_calls["BatchWriteItem"] == 1
    assert dynamodb_calls["PutItem"] == 1  # the intent itself
    assert dynamodb_calls["GetItem"] <= 3  # the caller and the session, not each file's earlier intent
    for planned, (_, data) in zip(answer.json_body["files"], files, strict=True):
        put(planned, data)
    deliver()
    assert {f["status"] for f in files_of(api, answer.json_body["id"]).values()} == {"registered"}

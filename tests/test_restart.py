"""The local stack keeps its state across a stop and a start (ONECLOUD_STATE_DIR) and loses no S3 event:
an object whose announcement was still in the queue at the stop is registered after the start."""

from __future__ import annotations

import hashlib

import requests

from app import app
from chalicelib import aws
from onecloud import provision, snapshot
from onecloud.pump import EventPump
from tests.conftest import _empty


def _upload(api, path: str, data: bytes) -> str:
    answer = api.post(
        "/uploads",
        {
            "session": "cortexlab/Subjects/KS023/2024-01-31/001",
            "files": [{"path": path, "size": len(data), "md5": hashlib.md5(data).hexdigest()}],
        },
        user="alice",
    ).json_body
    (planned,) = answer["files"]
    assert requests.put(planned["url"], data=data, headers=planned["headers"]).status_code == 200
    return answer["id"]


def _restart(settings, state_dir) -> None:
    """What stopping and starting the local stack does to its data: save, lose memory, restore."""
    snapshot.save(state_dir)
    _empty(settings)  # moto forgets everything, the queue's messages included
    s3 = aws.client("s3")
    s3.put_bucket_notification_configuration(Bucket=settings.data_bucket, NotificationConfiguration={})
    snapshot.restore(state_dir)  # as the stack does: objects come back before S3 announces new ones
    queue = aws.client("sqs").get_queue_url(QueueName=settings.upload_queue)["QueueUrl"]
    provision.notify_uploads(
        aws.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    )


def test_an_object_announced_before_a_stop_is_registered_after_the_start(api, cloud, tmp_path):
    api.post("/subjects", {"nickname": "KS023", "lab": "cortexlab"})
    api.post("/sessions", {"subject": "KS023", "start_time": "2024-01-31T10:00:00", "number": 1})
    done = _upload(api, "alf/_ibl_trials.table.pqt", b"registered before the stop")
    EventPump(app).drain()
    in_flight = _upload(api, "alf/_ibl_wheel.position.npy", b"announced, not yet registered")

    _restart(cloud, tmp_path / "state")
    assert snapshot.announce_unregistered() == 1
    EventPump(app).drain()

    for upload in (done, in_flight):
        (state,) = api.get(f"/uploads/{upload}", user="alice").json_body["files"]
        assert state["status"] == "registered", state
    assert api.get("/datasets?name=_ibl_wheel.position.npy").json_body["count"] == 1
    queue = aws.client("sqs").get_queue_url(QueueName=cloud.upload_queue)["QueueUrl"]
    assert "Messages" not in aws.client("sqs").receive_message(QueueUrl=queue)

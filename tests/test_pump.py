"""The local event pump delivers S3 notifications to SQS handlers exactly as Lambda would."""

from __future__ import annotations

import json
from urllib.parse import unquote_plus

import pytest
from chalice import Chalice

from chalicelib import aws
from onecloud.pump import EventPump


@pytest.fixture
def app_with_handler(cloud):
    app = Chalice(app_name="pump-test")
    seen: list[dict] = []

    @app.on_sqs_message(queue=cloud.upload_queue, batch_size=10)
    def on_upload(event):
        failures = []
        for record in event:
            body = json.loads(record.body)
            if body.get("Event") == "s3:TestEvent":  # S3 announces a new notification configuration
                continue
            key = unquote_plus(body["Records"][0]["s3"]["object"]["key"])  # keys arrive percent-encoded
            seen.append({"key": key, "source": record.to_dict()["eventSource"]})
            if key.endswith(".bad"):
                failures.append({"itemIdentifier": record.to_dict()["messageId"]})
        return {"batchItemFailures": failures}

    return app, seen


def _queue_depth(settings) -> int:
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=settings.upload_queue)["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def test_an_uploaded_object_reaches_the_handler_as_an_sqs_event(cloud, app_with_handler):
    app, seen = app_with_handler
    aws.client("s3").put_object(
        Bucket=cloud.data_bucket, Key="lab/Subjects/KS023/2024-01-31/001/a.b.npy", Body=b"x"
    )
    EventPump(app).drain()
    assert seen == [{"key": "lab/Subjects/KS023/2024-01-31/001/a.b.npy", "source": "aws:sqs"}]
    assert _queue_depth(cloud) == 0


def test_a_failed_record_stays_queued_and_the_others_are_done(cloud, app_with_handler):
    app, seen = app_with_handler
    s3 = aws.client("s3")
    s3.put_object(Bucket=cloud.data_bucket, Key="good.npy", Body=b"x")
    s3.put_object(Bucket=cloud.data_bucket, Key="broken.bad", Body=b"x")
    EventPump(app).drain()
    assert {entry["key"] for entry in seen} == {"good.npy", "broken.bad"}
    assert _queue_depth(cloud) == 1

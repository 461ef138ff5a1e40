"""Event handlers: S3 ObjectCreated notifications (through SQS) register every uploaded object; AWS Batch
job state changes (through EventBridge) move pipeline tasks along."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from chalice import Blueprint
from chalice.app import CloudWatchEvent, SQSEvent

from chalicelib import pipeline
from chalicelib.aws import settings
from chalicelib.observability import logger
from chalicelib.registration import Vocabulary
from chalicelib.uploads import register_object

bp = Blueprint(__name__)
NOT_DATA = ("cache/", "releases/", "notes/", "analyses/")  # objects onecloud writes that are not datasets


def _objects(body: dict[str, Any]) -> list[tuple[str, int, str]]:
    """(key, size, etag) of each created object in an S3 notification; keys arrive percent-encoded."""
    found = []
    for record in body.get("Records", []):
        if not record.get("eventName", "").startswith("ObjectCreated"):
            continue
        s3_object = record["s3"]["object"]
        found.append(
            (unquote_plus(s3_object["key"]), int(s3_object.get("size", 0)), s3_object.get("eTag", ""))
        )
    return found


@bp.on_sqs_message(queue=settings().upload_queue, batch_size=10)
def register_uploads(event: SQSEvent) -> dict[str, list[dict[str, str]]]:
    """Register each announced object; a message whose handling failed is reported alone (partial batch
    failure), so the queue retries it and not the others, then parks it in the dead-letter queue."""
    vocabulary = Vocabulary()
    failures = []
    for message in event:
        raw = message.to_dict()
        try:
            body = json.loads(message.body)
            if body.get("Event") == "s3:TestEvent":  # S3 says hello when notifications are set up
                continue
            for key, size, etag in _objects(body):
                if not key.startswith(NOT_DATA):
                    record = register_object(key, size, etag, vocabulary)
                    logger.info("upload handled", key=key, status=record.status, reason=record.reason)
        except Exception:
            logger.exception("upload event failed; it will be retried", message_id=raw["messageId"])
            failures.append({"itemIdentifier": raw["messageId"]})
    return {"batchItemFailures": failures}


@bp.on_cw_event({"source": ["aws.batch"], "detail-type": ["Batch Job State Change"]})
def update_task_status(event: CloudWatchEvent) -> None:
    """Started, Complete (then the tasks it unblocks are submitted) or Errored with the job's log."""
    task = pipeline.on_job_state(event.detail)
    if task is not None:
        logger.info("task status", task=task.name, status=task.status, job=event.detail.get("jobId"))

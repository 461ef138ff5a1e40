"""Keeps the local stack's data across restarts (``ONECLOUD_STATE_DIR``).

moto keeps everything in memory, so the stack saves a snapshot of every table and every object of the
data bucket into the state folder (periodically and on shutdown) and loads it back at start. Objects are
copied only when they changed, so large raw files are written once.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from urllib.parse import quote_plus

from chalicelib import aws
from chalicelib.config import Settings
from chalicelib.models.tables import table_definitions
from chalicelib.observability import logger


def save(state_dir: Path) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    _save_tables(state_dir / "tables")
    _save_objects(state_dir / "objects", state_dir / "objects.json")


def restore(state_dir: Path) -> None:
    if not state_dir.exists():
        return
    tables, objects = _restore_tables(state_dir / "tables"), _restore_objects(state_dir)
    logger.info("restored local state", items=tables, objects=objects, state_dir=str(state_dir))


def announce_unregistered() -> int:
    """Announce again every object of the bucket that is neither registered nor rejected.

    On AWS the upload queue is durable; moto's lives in memory, so the S3 events in flight when the
    local stack stopped are gone, and their objects would stay pending. Registration is idempotent, so
    announcing an object twice is harmless. Returns how many were announced.
    """
    from chalicelib.models import UploadFile

    s3, sqs, settings = aws.client("s3"), aws.client("sqs"), aws.settings()
    queue = sqs.get_queue_url(QueueName=settings.upload_queue)["QueueUrl"]
    objects = {
        entry["Key"]: entry
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=settings.data_bucket)
        for entry in page.get("Contents", [])
    }
    keys = list(objects)
    settled = {
        record.key
        for start in range(0, len(keys), 100)
        for record in UploadFile.batch_get(keys[start : start + 100])
        if record.status != "pending"
    }
    waiting = [objects[key] for key in keys if key not in settled]
    for entry in waiting:
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(_created_event(settings, entry)))
    if waiting:
        logger.info("announced objects left unregistered at the last stop", objects=len(waiting))
    return len(waiting)


def _created_event(settings: Settings, entry: dict) -> dict:
    """The notification S3 sends for a new object (the fields the registration handler reads)."""
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "awsRegion": settings.region,
                "s3": {
                    "bucket": {"name": settings.data_bucket},
                    "object": {
                        "key": quote_plus(entry["Key"], safe="/"),
                        "size": entry["Size"],
                        "eTag": entry["ETag"].strip('"'),
                    },
                },
            }
        ]
    }


def _save_tables(folder: Path) -> None:
    dynamodb = aws.client("dynamodb")
    staging = folder.with_name(folder.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for definition in table_definitions():
        name = definition["TableName"]
        with open(staging / f"{name}.jsonl", "w") as out:
            for page in dynamodb.get_paginator("scan").paginate(TableName=name):
                for item in page["Items"]:
                    out.write(json.dumps(item) + "\n")
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(staging, folder)


def _restore_tables(folder: Path) -> int:
    dynamodb, count = aws.client("dynamodb"), 0
    for definition in table_definitions():
        path = folder / f"{definition['TableName']}.jsonl"
        if not path.exists():
            continue
        with open(path) as lines:
            for line in lines:
                dynamodb.put_item(TableName=definition["TableName"], Item=json.loads(line))
                count += 1
    return count


def _save_objects(folder: Path, index_path: Path) -> None:
    s3, bucket = aws.client("s3"), aws.settings().data_bucket
    saved = json.loads(index_path.read_text()) if index_path.exists() else {}
    current = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", []):
            key, etag = entry["Key"], entry["ETag"]
            current[key] = etag
            target = folder / key
            if saved.get(key) == etag and target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, key, str(target))
    for key in set(saved) - set(current):
        (folder / key).unlink(missing_ok=True)
    index_path.write_text(json.dumps(current))


def _restore_objects(state_dir: Path) -> int:
    index_path, folder = state_dir / "objects.json", state_dir / "objects"
    if not index_path.exists():
        return 0
    s3, bucket = aws.client("s3"), aws.settings().data_bucket
    keys = json.loads(index_path.read_text())
    for key in keys:
        s3.upload_file(str(folder / key), bucket, key)
    # Multipart ETags change when re-uploaded in one part: record what the bucket now says.
    index_path.write_text(json.dumps({key: s3.head_object(Bucket=bucket, Key=key)["ETag"] for key in keys}))
    return len(keys)

"""Benchmark: files through the event path (S3 ObjectCreated -> SQS -> the registration handler).

1,000 objects land in the data bucket of a session; the same handler Lambda runs registers them from the
queue, as the local stack's event pump delivers them. Reported: files per second, DynamoDB requests per
file (target: constant with the number of files, at most 10), and the datasets created when every event
is delivered a second time (target: none). moto (in-process) stands in for AWS, as in the local stack.

Run: .venv/bin/python bench/registration.py [--files 1000]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from collections import Counter

os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ["ONECLOUD_STAGE"] = "bench"

from moto import mock_aws  # noqa: E402
from pynamodb.connection.base import Connection  # noqa: E402

SESSION = "cortexlab/Subjects/KS023/2024-01-31/001"
TARGET_REQUESTS = 10


def counting(calls: Counter) -> None:
    dispatch = Connection.dispatch

    def counted(self: Connection, operation_name: str, operation_kwargs: dict) -> dict:
        calls[operation_name] += 1
        return dispatch(self, operation_name, operation_kwargs)

    Connection.dispatch = counted


def receive_all(sqs, url: str) -> list[dict]:
    """Every message on the queue (left there: they are delivered by hand)."""
    messages: dict[str, dict] = {}
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=3600).get(
            "Messages", []
        )
        if not batch:
            return list(messages.values())
        messages.update({m["MessageId"]: m for m in batch})


def deliver(handler, messages: list[dict]) -> int:
    failures = 0
    for start in range(0, len(messages), 10):
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
                for m in messages[start : start + 10]
            ]
        }
        failures += len(handler(event, None)["batchItemFailures"])
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()
    with mock_aws(config={"batch": {"use_docker": False}}):
        from app import app
        from chalicelib import aws
        from chalicelib.config import Settings
        from chalicelib.models import Dataset, Lab
        from chalicelib.sessions import create_session
        from chalicelib.subjects import create_subject
        from chalicelib.vocabulary import ensure_store_repository, seed_vocabulary
        from onecloud import provision

        aws.configure(Settings.from_env())
        provision.create_tables()
        provision.create_bucket()
        provision.notify_uploads(provision.create_queues())
        seed_vocabulary()
        ensure_store_repository()
        Lab(name="cortexlab").save()
        session = create_session(create_subject("KS023", "cortexlab"), "2024-01-31T10:00:00")
        s3, sqs, bucket = aws.client("s3"), aws.client("sqs"), aws.settings().data_bucket
        url = sqs.get_queue_url(QueueName=aws.settings().upload_queue)["QueueUrl"]
        receive_all(sqs, url)  # S3's test event when notifications were set up
        for index in range(args.files):
            body = hashlib.sha256(str(index).encode()).digest() * 8
            s3.put_object(Bucket=bucket, Key=f"{SESSION}/alf/probe{index:04d}/spikes.times.npy", Body=body)
        messages = receive_all(sqs, url)
        handler = app.handler_map["register_uploads"]
        calls: Counter = Counter()
        counting(calls)
        started = time.perf_counter()
        failures = deliver(handler, messages)
        seconds = time.perf_counter() - started
        first = sum(calls.values())
        registered = sum(1 for _ in Dataset.by_session.query(session.id))
        calls.clear()
        failures += deliver(handler, messages)  # S3 delivers at least once: every event again
        again = sum(calls.values())
        duplicates = sum(1 for _ in Dataset.by_session.query(session.id)) - registered
    per_file, per_file_again = first / args.files, again / args.files
    print(f"{'files':<36}{args.files:>10}")
    print(f"{'events delivered':<36}{len(messages):>10}")
    print(f"{'registered':<36}{registered:>10}")
    print(f"{'failed deliveries':<36}{failures:>10}")
    print(f"{'files per second':<36}{args.files / seconds:>10.1f}")
    print(f"{'DynamoDB requests per file':<36}{per_file:>10.2f}")
    print(f"{'  ... on re-delivery':<36}{per_file_again:>10.2f}")
    print(f"{'duplicates after re-delivery':<36}{duplicates:>10}")
    met = registered == args.files and failures == 0 and per_file <= TARGET_REQUESTS and duplicates == 0
    print(f"targets (<= {TARGET_REQUESTS} requests per file, no duplicate): {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

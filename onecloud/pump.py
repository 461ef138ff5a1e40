"""The local event pump: delivers SQS messages to the app's ``@app.on_sqs_message`` handlers the way
Lambda's event source mapping does (same event shape, batches, partial batch failures, redelivery)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from chalice import Chalice
from chalice.app import SQSEventConfig

from chalicelib import aws
from chalicelib.observability import logger

WORKERS = 3  # batches handled at once


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{aws.settings().region}:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@dataclass
class Source:
    queue_url: str
    queue_arn: str
    name: str
    batch_size: int


class EventPump:
    def __init__(self, app: Chalice, wait_seconds: int = 1) -> None:
        self.app = app
        self.wait_seconds = wait_seconds
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def sources(self) -> list[Source]:
        sqs, found = aws.client("sqs"), []
        for config in self.app.event_sources:
            if isinstance(config, SQSEventConfig) and config.queue:
                url = sqs.get_queue_url(QueueName=config.queue)["QueueUrl"]
                arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                    "QueueArn"
                ]
                found.append(Source(url, arn, config.name, min(config.batch_size, 10)))
        return found

    def pump_once(self, sources: list[Source] | None = None, wait_seconds: int = 0) -> int:
        """Deliver one batch from each queue; returns how many messages were handled successfully."""
        delivered = 0
        for source in sources if sources is not None else self.sources():
            delivered += self._deliver(source, wait_seconds)
        return delivered

    def drain(self, max_rounds: int = 1000) -> int:
        """Deliver until the queues are empty (tests and benchmarks)."""
        sources, total = self.sources(), 0
        for _ in range(max_rounds):
            count = self.pump_once(sources)
            total += count
            if count == 0:
                break
        return total

    def _deliver(self, source: Source, wait_seconds: int) -> int:
        sqs = aws.client("sqs")
        messages = sqs.receive_message(
            QueueUrl=source.queue_url,
            MaxNumberOfMessages=source.batch_size,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [self._record(source, message) for message in messages]}
        try:
            result = self.app.handler_map[source.name](event, LambdaContext(source.name))
        except Exception:
            logger.exception("handler failed; the batch will be delivered again", handler=source.name)
            return 0
        failed = {item["itemIdentifier"] for item in (result or {}).get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            sqs.delete_message_batch(
                QueueUrl=source.queue_url,
                Entries=[
                    {"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]}
                    for m in done[start : start + 10]
                ],
            )
        return len(done)

    @staticmethod
    def _record(source: Source, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": source.queue_arn,
            "awsRegion": aws.settings().region,
        }

    def start(self, workers: int = WORKERS) -> None:
        """Deliver from ``workers`` threads per queue, as Lambda polls each queue on its own and runs its
        handler on several batches at once (one thread for every queue left a busy queue waiting while
        it long-polled an empty one)."""
        self._threads = [
            threading.Thread(
                target=self._run, args=(source,), name=f"event-pump-{source.name}-{n}", daemon=True
            )
            for source in self.sources()
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def _run(self, source: Source) -> None:
        while not self._stop.is_set():
            try:
                self._deliver(source, self.wait_seconds)
            except Exception:
                logger.exception("event pump error", handler=source.name)
                self._stop.wait(self.wait_seconds)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

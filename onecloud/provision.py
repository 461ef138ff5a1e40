"""Creates the AWS resources of the local stack in moto, from the same definitions the infrastructure uses:
every table, the data bucket and the upload queue (with its dead-letter queue) fed by S3 notifications."""

from __future__ import annotations

import json

from chalicelib import aws
from chalicelib.models.tables import table_definitions

MAX_RECEIVES = 5


def create_tables() -> list[str]:
    dynamodb = aws.client("dynamodb")
    existing = set(dynamodb.list_tables()["TableNames"])
    created = []
    for definition in table_definitions():
        if definition["TableName"] not in existing:
            dynamodb.create_table(**definition)
            created.append(definition["TableName"])
    return created


def create_queues() -> str:
    """The upload queue and its dead-letter queue; returns the upload queue's ARN."""
    settings, sqs = aws.settings(), aws.client("sqs")
    dlq_url = sqs.create_queue(QueueName=settings.upload_dead_letter_queue)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)})
    url = sqs.create_queue(
        QueueName=settings.upload_queue,
        Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": "60"},
    )["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def create_bucket() -> None:
    settings, s3 = aws.settings(), aws.client("s3")
    names = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    if settings.data_bucket not in names:
        s3.create_bucket(Bucket=settings.data_bucket)
    s3.put_bucket_versioning(Bucket=settings.data_bucket, VersioningConfiguration={"Status": "Enabled"})


def notify_uploads(queue_arn: str) -> None:
    """Every object created in the data bucket becomes a message on the upload queue."""
    aws.client("s3").put_bucket_notification_configuration(
        Bucket=aws.settings().data_bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )


def provision() -> None:
    """Everything but the notification (so restoring a snapshot does not re-announce old objects)."""
    create_tables()
    create_bucket()
    create_queues()

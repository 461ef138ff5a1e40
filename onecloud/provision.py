"""Creates the AWS resources of the local stack in moto, from the same definitions the infrastructure uses:
every table, the data bucket and the upload queue (with its dead-letter queue) fed by S3 notifications."""

from __future__ import annotations

import json
from typing import Any

from chalicelib import aws
from chalicelib.models.tables import table_definitions

MAX_RECEIVES = 5


def create_tables() -> list[str]:
    """Every table the models define; a table kept from an earlier version gains the indexes it lacks."""
    dynamodb = aws.client("dynamodb")
    existing = set(dynamodb.list_tables()["TableNames"])
    created = []
    for definition in table_definitions():
        if definition["TableName"] not in existing:
            dynamodb.create_table(**definition)
            created.append(definition["TableName"])
        else:
            _add_missing_indexes(dynamodb, definition)
    return created


def _add_missing_indexes(dynamodb: Any, definition: dict[str, Any]) -> None:
    table = dynamodb.describe_table(TableName=definition["TableName"])["Table"]
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    for index in definition.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] not in present:
            dynamodb.update_table(
                TableName=definition["TableName"],
                AttributeDefinitions=definition["AttributeDefinitions"],
                GlobalSecondaryIndexUpdates=[{"Create": index}],
            )


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
    # as infrastructure/buckets.py: pages read presigned URLs (the raw-data viewer's Range requests)
    s3.put_bucket_cors(
        Bucket=settings.data_bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedMethods": ["GET", "PUT", "HEAD"],
                    "AllowedOrigins": ["*"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 3600,
                }
            ]
        },
    )


def notify_uploads(queue_arn: str) -> None:
    """Every object created in the data bucket becomes a message on the upload queue."""
    aws.client("s3").put_bucket_notification_configuration(
        Bucket=aws.settings().data_bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )


JOBS = {
    "compress": ("batch.ephys_compress", 4, 6144),
    "sort": ("batch.spike_sorting", 8, 30720),
    "training": ("batch.training_status", 1, 2048),
}


def create_batch() -> None:
    """Job queues and job definitions named as in a deployment (the local runner runs their jobs)."""
    settings, batch, iam = aws.settings(), aws.client("batch"), aws.client("iam")
    try:
        role = iam.get_role(RoleName="onecloud-batch")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="onecloud-batch", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    environments = batch.describe_compute_environments(computeEnvironments=["onecloud-local"])
    if not environments["computeEnvironments"]:
        batch.create_compute_environment(
            computeEnvironmentName="onecloud-local", type="UNMANAGED", state="ENABLED", serviceRole=role
        )
    existing = {q["jobQueueName"] for q in batch.describe_job_queues()["jobQueues"]}
    for queue in (settings.cpu_job_queue, settings.gpu_job_queue):
        if queue not in existing:
            batch.create_job_queue(
                jobQueueName=queue,
                state="ENABLED",
                priority=1,
                computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "onecloud-local"}],
            )
    for job, definition in (
        ("compress", settings.compress_job_definition),
        ("sort", settings.sort_job_definition),
        ("training", settings.training_job_definition),
    ):
        module, vcpus, memory = JOBS[job]
        batch.register_job_definition(
            jobDefinitionName=definition,
            type="container",
            parameters={"task_id": ""},
            containerProperties={
                "image": "onecloud-batch:local",
                "vcpus": vcpus,
                "memory": memory,
                "command": ["python", "-m", module, "Ref::task_id"],
            },
            retryStrategy={
                "attempts": 3,
                "evaluateOnExit": [
                    {"onStatusReason": "Host EC2*", "action": "RETRY"},
                    {"onReason": "*", "action": "EXIT"},
                ],
            },
        )
    logs = aws.client("logs")
    if not logs.describe_log_groups(logGroupNamePrefix=settings.job_log_group)["logGroups"]:
        logs.create_log_group(logGroupName=settings.job_log_group)

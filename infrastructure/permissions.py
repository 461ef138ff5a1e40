"""IAM statements scoped to one stage's resources, named the way the configuration names them.

Resources are addressed by their configured names rather than by cross-stack references, so the compute
and API stacks depend on the data stack only for deployment order, and every statement reads as the
resource it grants. The two statements on `*` are there because their services offer no resource-level
permission; each says so where it is made.
"""

from __future__ import annotations

from aws_cdk import Aws, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from infrastructure.buckets import CACHE_PREFIX
from infrastructure.stages import Stage

TABLE_READ = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
# Item writes; transactions (TransactWriteItems) are authorised as these per-item actions.
TABLE_WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem")
TABLE_DELETE = ("dynamodb:DeleteItem",)

# Where a session's files live in the data bucket: `lab/Subjects/subject/YYYY-MM-DD/NNN/...`.
SESSION_OBJECTS = "*/Subjects/*/????-??-??/???/*"
# What the behaviour analyses keep for the web pages (chalicelib/behaviour/results.py).
ANALYSES_OBJECTS = "analyses/*"
# The ONE cache tables the cache export writes (`sessions.pqt`, `datasets.pqt`, zipped).
CACHE_OBJECTS = f"{CACHE_PREFIX}*"


def stage_tables(scope: Construct, stage: Stage) -> list[str]:
    """Every table of the stage and its indexes (`table/<prefix>*` also matches `.../index/<name>`)."""
    return [
        Stack.of(scope).format_arn(
            service="dynamodb", resource="table", resource_name=f"{stage.settings.table_prefix}*"
        )
    ]


def table(scope: Construct, stage: Stage, short_name: str) -> list[str]:
    """One table (by the model's short name, `Meta.table`) and its indexes."""
    arn = Stack.of(scope).format_arn(
        service="dynamodb", resource="table", resource_name=stage.settings.table_prefix + short_name
    )
    return [arn, f"{arn}/index/*"]


def bucket(stage: Stage) -> str:
    return f"arn:{Aws.PARTITION}:s3:::{stage.settings.data_bucket}"


def objects(stage: Stage, pattern: str = "*") -> str:
    return f"{bucket(stage)}/{pattern}"


def queue(scope: Construct, name: str) -> str:
    return Stack.of(scope).format_arn(service="sqs", resource=name)


def submit_jobs(scope: Construct, stage: Stage) -> iam.PolicyStatement:
    """Submit the stage's jobs to the stage's queues, and nothing else of Batch."""
    stack, names = Stack.of(scope), stage.batch
    return iam.PolicyStatement(
        actions=["batch:SubmitJob"],
        resources=[
            *(
                stack.format_arn(service="batch", resource="job-queue", resource_name=name)
                for name in (names.cpu_queue, names.gpu_queue)
            ),
            *(
                stack.format_arn(service="batch", resource="job-definition", resource_name=f"{name}:*")
                for name in (names.compress_job, names.sort_job, names.training_job)
            ),
        ],
    )


def tracing() -> iam.PolicyStatement:
    # X-Ray has no resource-level permissions: sending trace segments can only be granted on "*".
    return iam.PolicyStatement(actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"])

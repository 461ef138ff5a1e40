"""The stateful stack: tables, buckets, the upload queues and the Batch image repository.

Kept apart from compute and the API so that redeploying or destroying code never touches data, and so
that a deployment can push the Batch image to its repository before anything runs it.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_ecr as ecr
from constructs import Construct

from infrastructure.buckets import DataBuckets
from infrastructure.stages import Stage
from infrastructure.tables import Tables
from infrastructure.uploads import UploadNotifications

KEEP_IMAGES = 30


class DataStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, stage: Stage) -> None:
        super().__init__(scope, construct_id, stack_name=stage.stack_name("data"))
        Tables(self, "Tables", stage=stage)
        buckets = DataBuckets(self, "Buckets", stage=stage)
        UploadNotifications(self, "Uploads", stage=stage, bucket=buckets.data)
        ecr.Repository(
            self,
            "BatchImage",
            repository_name=stage.image_repository,
            image_scan_on_push=True,
            lifecycle_rules=[ecr.LifecycleRule(max_image_count=KEEP_IMAGES)],
            removal_policy=stage.removal_policy,
            empty_on_delete=not stage.protected,
        )

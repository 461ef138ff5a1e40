"""The upload notification path: S3 ObjectCreated -> SQS (with a dead-letter queue) -> registration Lambda.

The Lambda's event source mapping is declared by the Chalice app (`@app.on_sqs_message` on the queue named
by `ONECLOUD_UPLOAD_QUEUE`); this module makes the queue it reads, lets the bucket write to it, and raises an
alarm when messages pile up in the dead-letter queue (files that could not be registered).
"""

from __future__ import annotations

from typing import cast

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infrastructure.stages import REGISTRATION_HANDLER, Stage
from onecloud.provision import MAX_RECEIVES

# AWS's advice for SQS event sources: a visibility timeout of six times the function's timeout, so a
# message is not handed to a second invocation while the first still retries it.
VISIBILITY_PER_LAMBDA_TIMEOUT = 6


class UploadNotifications(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: Stage, bucket: s3.Bucket) -> None:
        super().__init__(scope, construct_id)
        settings = stage.settings
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            queue_name=settings.upload_dead_letter_queue,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.queue = sqs.Queue(
            self,
            "Uploads",
            queue_name=settings.upload_queue,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(
                VISIBILITY_PER_LAMBDA_TIMEOUT * stage.lambda_timeout(REGISTRATION_HANDLER)
            ),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=MAX_RECEIVES, queue=self.dead_letters),
        )
        self._notify(bucket, settings.data_bucket)
        alarms = sns.Topic(self, "Alarms", topic_name=stage.stack_name("alarms"), enforce_ssl=True)
        alarm = cloudwatch.Alarm(
            self,
            "UnregisteredUploads",
            alarm_name=f"{settings.upload_dead_letter_queue}-not-empty",
            alarm_description=(
                "Upload notifications the registration Lambda failed on repeatedly are waiting in the "
                "dead-letter queue: read the Lambda's logs, fix, then redrive the messages."
            ),
            metric=self.dead_letters.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(alarms))

    def _notify(self, bucket: s3.Bucket, bucket_name: str) -> None:
        """Declared on the bucket itself rather than through CDK's notification custom resource, whose
        Lambda needs `s3:PutBucketNotification` on every bucket. S3 checks that it may send to the queue
        when the notification is created, so the bucket waits for the queue policy, and the policy names
        the bucket by its configured name (a reference to the bucket would be a dependency cycle)."""
        bucket_arn = f"arn:{Aws.PARTITION}:s3:::{bucket_name}"
        self.queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DataBucketNotifications",
                principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[self.queue.queue_arn],
                conditions={
                    "ArnEquals": {"aws:SourceArn": bucket_arn},
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                },
            )
        )
        cfn_bucket = cast(s3.CfnBucket, bucket.node.default_child)
        cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            queue_configurations=[
                s3.CfnBucket.QueueConfigurationProperty(
                    event="s3:ObjectCreated:*", queue=self.queue.queue_arn
                )
            ]
        )
        # The queue's one policy (a second AWS::SQS::QueuePolicy would replace it, not add to it).
        cfn_bucket.node.add_dependency(self.queue.node.find_child("Policy"))

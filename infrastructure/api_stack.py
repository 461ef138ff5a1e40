"""The Chalice app (API Gateway + Lambda functions), packaged by `chalice.cdk.Chalice`, with one IAM role
and one log group per function.

Chalice declares what belongs to the app's code: routes, the SQS event source (`@app.on_sqs_message`), the
EventBridge rule of `@app.on_cw_event` and the schedule of `@app.schedule`, each with its invoke
permission. This stack adds what Chalice cannot know: a least-privilege role for each function (Chalice's
own policy generator does not see PynamoDB or presigning), log groups with a retention, and X-Ray on the
API Gateway stage. Every function the app defines must have a role here, or synthesis fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from aws_cdk import ArnFormat, CfnResource, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from chalice.cdk import Chalice
from chalice.utils import to_cfn_resource_name
from constructs import Construct

from chalicelib.handlers.edge import route_not_found
from infrastructure import permissions
from infrastructure.stages import (
    CACHE_EXPORT_HANDLER,
    NOTIFICATION_HANDLER,
    REGISTRATION_HANDLER,
    TASK_STATUS_HANDLER,
    Stage,
)

# `chalice package` names the REST handler's function this way; other functions are their handler names
# in CamelCase.
API_FUNCTION = "APIHandler"
SAM_FUNCTION = "AWS::Serverless::Function"


class ApiStack(Stack):
    def __init__(self, scope: Construct, *, stage: Stage, app_dir: Path) -> None:
        # chalice.cdk packages the Chalice stage named by its scope's path, so this stack's construct id is
        # the stage name; its CloudFormation name says what it is.
        super().__init__(scope, stage.name, stack_name=stage.stack_name("api"))
        self.stage = stage
        grants: dict[str, Callable[[], list[iam.PolicyStatement]]] = {
            API_FUNCTION: self._api,
            to_cfn_resource_name(REGISTRATION_HANDLER): self._registration,
            to_cfn_resource_name(TASK_STATUS_HANDLER): self._task_status,
            to_cfn_resource_name(CACHE_EXPORT_HANDLER): self._cache_export,
            to_cfn_resource_name(NOTIFICATION_HANDLER): self._notifications,
        }
        roles = {API_FUNCTION: self._role(API_FUNCTION, grants[API_FUNCTION]())}
        self.chalice = Chalice(
            self,
            "App",
            source_dir=str(app_dir),
            stage_config={
                # Chalice only takes one role for a whole stage: every function is given its own below.
                "manage_iam_role": False,
                "iam_role_arn": roles[API_FUNCTION].role_arn,
                "environment_variables": {
                    **stage.batch.environment(),
                    "POWERTOOLS_LOG_LEVEL": stage.settings.log_level,
                },
            },
        )
        for name, function in self._functions().items():
            if name not in grants:
                raise ValueError(
                    f"the Chalice app defines function {name}, which has no IAM role: add what it may do "
                    f"to ApiStack in {__file__} (roles exist for {', '.join(sorted(grants))})"
                )
            role = roles.get(name) or self._role(name, grants[name]())
            self._give(function, role)
        if stage.tracing:
            self.chalice.get_resource("RestAPI").add_property_override("TracingEnabled", True)
        self._report_batch_item_failures()
        self._route_not_found()

    def _route_not_found(self) -> None:
        """A path no route matches answers the app's JSON 404, not API Gateway's 403 "Missing
        Authentication Token" (or, when the request carries a token, its complaint that the token is no
        AWS signature: onecloud's routes never ask for one)."""
        api = self.chalice.get_resource("RestAPI")
        body = json.dumps({"detail": route_not_found("$context.path")})
        for kind in ("MISSING_AUTHENTICATION_TOKEN", "INVALID_SIGNATURE"):
            apigateway.CfnGatewayResponse(
                self,
                f"RouteNotFound{kind.title().replace('_', '')}",
                rest_api_id=api.ref,
                response_type=kind,
                status_code="404",
                response_templates={"application/json": body},
            )

    def _report_batch_item_failures(self) -> None:
        """The registration handler answers which messages failed; Lambda only acts on that (retrying just
        those) when the event source says so, which Chalice cannot express."""
        function = self._functions().get(to_cfn_resource_name(REGISTRATION_HANDLER))
        if function is not None:
            event = to_cfn_resource_name(f"{REGISTRATION_HANDLER}-sqs-event-source")
            function.add_property_override(
                f"Events.{event}.Properties.FunctionResponseTypes", ["ReportBatchItemFailures"]
            )

    def _functions(self) -> dict[str, CfnResource]:
        return {
            child.node.id: child
            for child in self.chalice.sam_template.node.children
            if isinstance(child, CfnResource) and child.cfn_resource_type == SAM_FUNCTION
        }

    def _role(self, function: str, statements: list[iam.PolicyStatement]) -> iam.Role:
        role = iam.Role(self, f"{function}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        for statement in [*statements, permissions.tracing()]:
            role.add_to_policy(statement)
        return role

    def _give(self, function: CfnResource, role: iam.Role) -> None:
        """The function runs as ``role`` and logs to its own group, created before it (Lambda would
        otherwise create a group without retention on the first invocation)."""
        stage, name = self.stage, function.node.id
        log_group = logs.LogGroup(
            self,
            f"{name}Logs",
            log_group_name=f"/{stage.app_name}/{stage.name}/lambda/{name}",
            retention=stage.log_retention,
            removal_policy=stage.removal_policy,
        )
        log_group.grant_write(role)
        function.add_property_override("Role", role.role_arn)
        function.add_property_override("LoggingConfig", {"LogGroup": log_group.log_group_name})
        # An SQS event source is validated against the role's policy when it is created, and the Role
        # property only orders the function after the role, not after its policy.
        function.node.add_dependency(role.node.find_child("DefaultPolicy"))

    def _api(self) -> list[iam.PolicyStatement]:
        """Metadata reads and writes (the REST API creates subjects, sessions, notes...), and what its
        presigned URLs need: a presigned URL carries the signer's permissions."""
        stage = self.stage
        return [
            _tables(self, stage, permissions.TABLE_READ + permissions.TABLE_WRITE + permissions.TABLE_DELETE),
            iam.PolicyStatement(
                actions=[
                    "s3:GetObject",
                    # released files are served at the version that was checked when they were released
                    "s3:GetObjectVersion",
                    "s3:PutObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                resources=[permissions.objects(stage)],
            ),
            # With ListBucket, a HEAD on a missing key answers 404 rather than 403.
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[permissions.bucket(stage)]),
            # restarting a failed task (PATCH /tasks) submits it again
            permissions.submit_jobs(self, stage),
            # a weighing under the threshold, a new responsible user: notified by e-mail at once
            _send_mail(self),
        ]

    def _registration(self) -> list[iam.PolicyStatement]:
        """Reads the head of each uploaded object, writes its Dataset and FileRecord, starts task graphs."""
        stage = self.stage
        return [
            iam.PolicyStatement(
                actions=[
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueAttributes",
                ],
                resources=[permissions.queue(self, stage.settings.upload_queue)],
            ),
            # S3 events name the object's version; reading a version's head is GetObjectVersion.
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:GetObjectVersion"], resources=[permissions.objects(stage)]
            ),
            _tables(self, stage, permissions.TABLE_READ + permissions.TABLE_WRITE),
            permissions.submit_jobs(self, stage),
        ]

    def _task_status(self) -> list[iam.PolicyStatement]:
        """Follows Batch job state changes into tasks and submits the tasks they unblock."""
        stage = self.stage
        return [
            _tables(self, stage, permissions.TABLE_READ),
            iam.PolicyStatement(
                actions=list(permissions.TABLE_WRITE), resources=permissions.table(self, stage, "tasks")
            ),
            permissions.submit_jobs(self, stage),
            # the tail of a finished job's log goes into its task
            iam.PolicyStatement(
                actions=["logs:GetLogEvents"],
                resources=[
                    Stack.of(self).format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=f"{stage.batch.job_log_group}:log-stream:*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            ),
        ]

    def _cache_export(self) -> list[iam.PolicyStatement]:
        """Reads the catalogue and writes the ONE cache tables."""
        stage = self.stage
        return [
            _tables(self, stage, permissions.TABLE_READ),
            # the last export is read back, so an unchanged catalogue keeps its date (ONE skips the download)
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject"],
                resources=[permissions.objects(stage, permissions.CACHE_OBJECTS)],
            ),
        ]

    def _notifications(self) -> list[iam.PolicyStatement]:
        """The daily check: reads husbandry, writes notifications, e-mails them through SES."""
        return [_tables(self, self.stage, permissions.TABLE_READ + permissions.TABLE_WRITE), _send_mail(self)]


def _send_mail(scope: Construct) -> iam.PolicyStatement:
    """Sending from the account's verified SES identities (ONECLOUD_MAIL_FROM is one of them)."""
    identities = Stack.of(scope).format_arn(service="ses", resource="identity", resource_name="*")
    return iam.PolicyStatement(actions=["ses:SendEmail", "ses:SendRawEmail"], resources=[identities])


def _tables(scope: Construct, stage: Stage, actions: tuple[str, ...]) -> iam.PolicyStatement:
    return iam.PolicyStatement(actions=list(actions), resources=permissions.stage_tables(scope, stage))

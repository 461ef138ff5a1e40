"""Deployment stages, read from `.chalice/config.json`: the one place that names a stage's resources.

The Lambda environment Chalice gives each stage is also what names its tables, bucket and queues
(through `chalicelib.config.Settings`), so the infrastructure reads the same file the same way Chalice
does and never repeats a name. Names the configuration does not hold yet (Batch queues, the image
repository, stacks) derive from the app name and the stage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from chalice.config import Config
from chalice.constants import DEFAULT_LAMBDA_TIMEOUT

from chalicelib.config import Settings

ROOT = Path(__file__).resolve().parent.parent
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"

# Stages whose data outlives a `make destroy`: tables keep deletion protection, stateful resources are
# retained, and logs are kept longer.
PROTECTED_STAGES = frozenset({"prod"})

# The Chalice handler names (`chalice package` turns them into CloudFormation logical ids, CamelCase) that
# the infrastructure gives a role. A function not listed here fails the synthesis, so nothing the app adds
# runs with a role nobody wrote for it.
API_HANDLER = "api_handler"
REGISTRATION_HANDLER = "register_uploads"
TASK_STATUS_HANDLER = "update_task_status"
CACHE_EXPORT_HANDLER = "export_cache"
NOTIFICATION_HANDLER = "check_water_admin"


@dataclass(frozen=True)
class BatchNames:
    """What the app submits jobs to; handed to the Lambdas and the jobs as environment variables."""

    cpu_queue: str
    gpu_queue: str
    compress_job: str
    sort_job: str
    training_job: str
    job_log_group: str

    def environment(self) -> dict[str, str]:
        return {
            "ONECLOUD_CPU_JOB_QUEUE": self.cpu_queue,
            "ONECLOUD_GPU_JOB_QUEUE": self.gpu_queue,
            "ONECLOUD_COMPRESS_JOB_DEFINITION": self.compress_job,
            "ONECLOUD_SORT_JOB_DEFINITION": self.sort_job,
            "ONECLOUD_TRAINING_JOB_DEFINITION": self.training_job,
            "ONECLOUD_JOB_LOG_GROUP": self.job_log_group,
        }


@dataclass(frozen=True)
class Stage:
    """One stage of `.chalice/config.json` with the names of everything deployed for it."""

    name: str
    app_name: str
    config: dict[str, Any]

    @property
    def environment(self) -> dict[str, str]:
        """The Lambda environment Chalice builds for this stage (top level merged with the stage)."""
        return self._chalice_config().environment_variables

    @property
    def settings(self) -> Settings:
        return Settings.from_env(self.environment)

    @property
    def protected(self) -> bool:
        return self.name in PROTECTED_STAGES

    @property
    def removal_policy(self) -> RemovalPolicy:
        return RemovalPolicy.RETAIN if self.protected else RemovalPolicy.DESTROY

    @property
    def log_retention(self) -> logs.RetentionDays:
        return logs.RetentionDays.ONE_YEAR if self.protected else logs.RetentionDays.ONE_MONTH

    @property
    def tracing(self) -> bool:
        """Chalice's `xray` setting for the stage, which the API Gateway stage follows too."""
        return bool(self._chalice_config().xray_enabled)

    @property
    def prefix(self) -> str:
        return f"{self.app_name}-{self.name}-"

    @property
    def batch(self) -> BatchNames:
        return BatchNames(
            cpu_queue=f"{self.prefix}cpu",
            gpu_queue=f"{self.prefix}gpu",
            compress_job=f"{self.prefix}compress",
            sort_job=f"{self.prefix}sort",
            training_job=f"{self.prefix}training",
            job_log_group=f"/{self.app_name}/{self.name}/batch",
        )

    @property
    def image_repository(self) -> str:
        return f"{self.prefix}batch"

    def stack_name(self, part: str) -> str:
        return f"{self.prefix}{part}"

    def lambda_timeout(self, handler: str) -> int:
        """Seconds, as Chalice resolves them for ``handler`` (the queue's visibility timeout follows it)."""
        return self._chalice_config(handler).lambda_timeout or DEFAULT_LAMBDA_TIMEOUT

    def _chalice_config(self, function_name: str = API_HANDLER) -> Config:
        return Config(chalice_stage=self.name, function_name=function_name, config_from_disk=self.config)


def load_config(path: Path = CHALICE_CONFIG) -> dict[str, Any]:
    return json.loads(path.read_text())


def stage_names(path: Path = CHALICE_CONFIG) -> list[str]:
    return sorted(load_config(path)["stages"])


def load_stage(name: str, path: Path = CHALICE_CONFIG) -> Stage:
    config = load_config(path)
    if name not in config["stages"]:
        raise ValueError(f"unknown stage {name!r}: {path} defines {', '.join(sorted(config['stages']))}")
    return Stage(name=name, app_name=config["app_name"], config=config)

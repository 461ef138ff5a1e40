"""Configuration, parsed once from the environment into a typed object.

Every name that differs between a deployment and the local stack (table prefix, buckets, queues, the AWS
endpoint) is read here and nowhere else. `.chalice/config.json` sets the same variables for Lambda, and the
infrastructure code reads them to name the resources it creates.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache

LOCAL_CREDENTIALS = ("onecloud-local", "onecloud-local")


@dataclass(frozen=True)
class Settings:
    stage: str = "dev"
    region: str = "us-east-1"
    aws_endpoint_url: str | None = None
    table_prefix: str = "onecloud-dev-"
    data_bucket: str = "onecloud-dev-data"
    upload_queue: str = "onecloud-dev-uploads"
    upload_dead_letter_queue: str = "onecloud-dev-uploads-dlq"
    log_level: str = "INFO"
    upload_url_seconds: int = 7 * 24 * 3600
    download_url_seconds: int = 300
    public_url_seconds: int = 3600
    multipart_threshold: int = 64 * 2**20
    max_upload_bytes: int = 5 * 2**40
    s3_repository: str = "s3"
    cpu_job_queue: str = "onecloud-dev-cpu"
    gpu_job_queue: str = "onecloud-dev-gpu"
    compress_job_definition: str = "onecloud-dev-compress"
    sort_job_definition: str = "onecloud-dev-sort"
    training_job_definition: str = "onecloud-dev-training"
    sorter: str = "tridesclous2"  # batch/sorting.py DEFAULT_SORTER
    raw_policy: str = "keep"  # or "archive": tag raw .bin for cheaper storage once its .cbin is registered
    lease_seconds: int = 3600
    job_log_group: str = "/onecloud/dev/batch"
    max_attempts: int = 3
    # DOIs for releases (chalicelib/sharing/datacite.py): none unless a DataCite prefix is configured
    datacite_url: str = "https://api.test.datacite.org"
    datacite_prefix: str = ""
    datacite_user: str = ""
    datacite_password: str = ""

    @property
    def backend(self) -> str:
        """'local' when an endpoint (the moto server) stands in for AWS, else 'aws'."""
        return "local" if self.aws_endpoint_url else "aws"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        stage = env.get("ONECLOUD_STAGE", "dev")
        return cls(
            stage=stage,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            aws_endpoint_url=env.get("ONECLOUD_AWS_ENDPOINT") or None,
            table_prefix=env.get("ONECLOUD_TABLE_PREFIX", f"onecloud-{stage}-"),
            data_bucket=env.get("ONECLOUD_DATA_BUCKET", f"onecloud-{stage}-data"),
            upload_queue=env.get("ONECLOUD_UPLOAD_QUEUE", f"onecloud-{stage}-uploads"),
            upload_dead_letter_queue=env.get("ONECLOUD_UPLOAD_DLQ", f"onecloud-{stage}-uploads-dlq"),
            log_level=env.get("ONECLOUD_LOG_LEVEL", "INFO"),
            upload_url_seconds=int(env.get("ONECLOUD_UPLOAD_URL_SECONDS", 7 * 24 * 3600)),
            download_url_seconds=int(env.get("ONECLOUD_DOWNLOAD_URL_SECONDS", 300)),
            public_url_seconds=int(env.get("ONECLOUD_PUBLIC_URL_SECONDS", 3600)),
            multipart_threshold=int(env.get("ONECLOUD_MULTIPART_THRESHOLD", 64 * 2**20)),
            max_upload_bytes=int(env.get("ONECLOUD_MAX_UPLOAD_BYTES", 5 * 2**40)),
            s3_repository=env.get("ONECLOUD_S3_REPOSITORY", "s3"),
            cpu_job_queue=env.get("ONECLOUD_CPU_JOB_QUEUE", f"onecloud-{stage}-cpu"),
            gpu_job_queue=env.get("ONECLOUD_GPU_JOB_QUEUE", f"onecloud-{stage}-gpu"),
            compress_job_definition=env.get("ONECLOUD_COMPRESS_JOB_DEFINITION", f"onecloud-{stage}-compress"),
            sort_job_definition=env.get("ONECLOUD_SORT_JOB_DEFINITION", f"onecloud-{stage}-sort"),
            training_job_definition=env.get("ONECLOUD_TRAINING_JOB_DEFINITION", f"onecloud-{stage}-training"),
            sorter=env.get("ONECLOUD_SORTER", "tridesclous2"),
            raw_policy=env.get("ONECLOUD_RAW_POLICY", "keep"),
            lease_seconds=int(env.get("ONECLOUD_LEASE_SECONDS", 3600)),
            job_log_group=env.get("ONECLOUD_JOB_LOG_GROUP", f"/onecloud/{stage}/batch"),
            max_attempts=int(env.get("ONECLOUD_MAX_ATTEMPTS", 3)),
            datacite_url=env.get("ONECLOUD_DATACITE_URL", "https://api.test.datacite.org"),
            datacite_prefix=env.get("ONECLOUD_DATACITE_PREFIX", ""),
            datacite_user=env.get("ONECLOUD_DATACITE_USER", ""),
            datacite_password=env.get("ONECLOUD_DATACITE_PASSWORD", ""),
        )

    def with_changes(self, **changes: object) -> Settings:
        return replace(self, **changes)


@lru_cache(maxsize=1)
def settings_from_env() -> Settings:
    return Settings.from_env()

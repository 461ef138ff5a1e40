"""What ``GET /health`` reports: versions and which backend is in use, after checking the database."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

from pynamodb.exceptions import PynamoDBException

import chalicelib
from chalicelib.aws import settings
from chalicelib.errors import OnecloudError
from chalicelib.models import Lab


class ServiceUnavailable(OnecloudError):
    status = 503


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def health() -> dict[str, Any]:
    current = settings()
    try:
        Lab.describe_table()
    except PynamoDBException as error:
        raise ServiceUnavailable(f"database unreachable: {error.msg}") from error
    return {
        "status": "ok",
        "version": chalicelib.__version__,
        "backend": current.backend,
        "stage": current.stage,
        "versions": {
            "onecloud": chalicelib.__version__,
            "python": platform.python_version(),
            "boto3": _version("boto3"),
            "pynamodb": _version("pynamodb"),
            "aws-lambda-powertools": _version("aws-lambda-powertools"),
        },
    }

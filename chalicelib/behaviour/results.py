"""Where the behaviour analyses keep what the web pages show, and how they are read back.

The ``TrainingStatus`` job writes one JSON document per subject (its training table, every date's
assessment and criteria breakdown) and one per session (psychometric curves, response times); the pages
read these and compute nothing. They live under ``analyses/`` in the data bucket, beside the datasets ONE
loads (``_ibl_subjectTraining.table.pqt``, ``_ibl_psychometric.table.pqt``), and are not datasets.
Standard library only: the pages read them inside the API's Lambda.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import aws

PREFIX = "analyses/"
SUBJECT_TABLE = "alf/_ibl_subjectTraining.table.pqt"  # in the subject's latest session
SESSION_TABLE = "alf/_ibl_psychometric.table.pqt"


def subject_key(lab: str, nickname: str) -> str:
    return f"{PREFIX}training/{lab}/{nickname}.json"


def session_key(session_id: str) -> str:
    return f"{PREFIX}sessions/{session_id}.json"


def read(key: str) -> dict[str, Any] | None:
    """The stored document, or None when the analyses have not run for it yet."""
    try:
        body = aws.client("s3").get_object(Bucket=aws.settings().data_bucket, Key=key)["Body"].read()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise
    return json.loads(body)


def write(key: str, document: dict[str, Any]) -> None:
    aws.client("s3").put_object(
        Bucket=aws.settings().data_bucket,
        Key=key,
        Body=json.dumps(document, allow_nan=False).encode(),
        ContentType="application/json",
    )


def subject_training(lab: str, nickname: str) -> dict[str, Any] | None:
    return read(subject_key(lab, nickname))


def session_analyses(session_id: str) -> dict[str, Any] | None:
    return read(session_key(session_id))


def lab_training(lab: str) -> list[dict[str, Any]]:
    """Every subject document of a lab (one listing, then one read per subject)."""
    s3, bucket = aws.client("s3"), aws.settings().data_bucket
    documents = []
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=f"{PREFIX}training/{lab}/"
    ):
        for item in page.get("Contents", []):
            document = read(item["Key"])
            if document is not None:
                documents.append(document)
    return sorted(documents, key=lambda d: d.get("subject", ""))

"""Shared fixtures: an in-process moto AWS with every onecloud resource, and a call counter for DynamoDB."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from moto import mock_aws
from pynamodb.connection.base import Connection

from chalicelib import aws
from chalicelib.config import Settings


@pytest.fixture
def settings() -> Settings:
    return Settings(
        stage="test",
        region="us-east-1",
        table_prefix="onecloud-test-",
        data_bucket="onecloud-test-data",
        upload_queue="onecloud-test-uploads",
        upload_dead_letter_queue="onecloud-test-uploads-dlq",
    )


@pytest.fixture
def cloud(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Every table, bucket and queue, in moto (in-process)."""
    from onecloud import provision

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        aws.configure(settings)
        provision.create_tables()
        provision.create_bucket()
        provision.notify_uploads(provision.create_queues())
        yield settings
    aws.configure(Settings.from_env())


@pytest.fixture
def dynamodb_calls(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Counts DynamoDB operations by name (Query, Scan, GetItem...) made through PynamoDB."""
    calls: Counter = Counter()
    dispatch = Connection.dispatch

    def counting(self: Connection, operation_name: str, operation_kwargs: dict) -> dict:
        calls[operation_name] += 1
        return dispatch(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", counting)
    return calls

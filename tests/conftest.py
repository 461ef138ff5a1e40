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


class Api:
    """The Chalice app through its test client, calling as one of the seeded users."""

    def __init__(self, client, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def request(self, method: str, path: str, *, user: str | None = "admin", json=None, headers=None):
        import json as jsonlib

        sent = {"Content-Type": "application/json", **(headers or {})}
        if user:
            sent["Authorization"] = f"Token {self.tokens[user]}"
        body = None if json is None else (json if isinstance(json, str | bytes) else jsonlib.dumps(json))
        return getattr(self.client.http, method)(path, headers=sent, body=body)

    def get(self, path: str, **kwargs):
        return self.request("get", path, **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.request("post", path, json=json, **kwargs)

    def put(self, path: str, json=None, **kwargs):
        return self.request("put", path, json=json, **kwargs)

    def patch(self, path: str, json=None, **kwargs):
        return self.request("patch", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.request("delete", path, **kwargs)


@pytest.fixture
def api(cloud) -> Iterator[Api]:
    """Two labs with a lab server each; a superuser, a member of each lab, a public user."""
    from chalice.test import Client

    from app import app
    from chalicelib.accounts import create_user
    from chalicelib.auth import log_in
    from chalicelib.models import DataRepository, Lab
    from chalicelib.vocabulary import seed_vocabulary

    seed_vocabulary()
    for lab in ("cortexlab", "churchlandlab"):
        DataRepository(name=f"{lab}_server", lab=lab, data_url=f"http://{lab}.example.org/data",
                       globus_is_personal=True).save()
        Lab(name=lab, repositories=[f"{lab}_server"]).save()
    create_user("admin", "admin-pw", is_superuser=True)
    create_user("alice", "alice-pw", labs=["cortexlab"])
    create_user("bob", "bob-pw", labs=["churchlandlab"])
    create_user("pub", "pub-pw", is_public_user=True)
    tokens = {name: log_in(name, f"{name}-pw") for name in ("admin", "alice", "bob", "pub")}
    with Client(app) as client:
        yield Api(client, tokens)

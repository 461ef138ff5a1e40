"""Shared fixtures: an in-process moto AWS with every onecloud resource, and a call counter for DynamoDB."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest
from moto import mock_aws
from pynamodb.connection.base import Connection

from chalicelib import aws
from chalicelib.config import Settings

# The test stage's names, set before the app is imported: its event handlers name their queue at import.
os.environ["ONECLOUD_STAGE"] = "test"
for _name in (
    "ONECLOUD_TABLE_PREFIX",
    "ONECLOUD_DATA_BUCKET",
    "ONECLOUD_UPLOAD_QUEUE",
    "ONECLOUD_UPLOAD_DLQ",
    "ONECLOUD_AWS_ENDPOINT",
):
    os.environ.pop(_name, None)
TEST_SETTINGS = Settings.from_env().with_changes(region="us-east-1")


@pytest.fixture(scope="session", autouse=True)
def _hash_each_password_once():
    """scrypt is slow on purpose; the seeded users' passwords are hashed once per run, not per test."""
    from functools import cache

    from chalicelib import accounts

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "hash_password", cache(accounts.hash_password))
        yield


WRITTEN: set[str] | None = None
"""Tables written since they were last emptied (None: not known yet, empty them all)."""


def _track_writes(patch: pytest.MonkeyPatch) -> None:
    """Note every table a write reaches in moto (from any client), so that emptying between tests reads
    only those: scanning all the tables for every test would dominate the run."""
    from moto.dynamodb.models import DynamoDBBackend

    for name in ("put_item", "update_item", "delete_item"):
        original = getattr(DynamoDBBackend, name)

        def tracked(self, table_name, *args, _original=original, **kwargs):  # noqa: ANN001, ANN202
            if WRITTEN is not None:
                WRITTEN.add(table_name)
            return _original(self, table_name, *args, **kwargs)

        patch.setattr(DynamoDBBackend, name, tracked)
    transact = DynamoDBBackend.transact_write_items

    def tracked_transaction(self, transact_items, *args, **kwargs):  # noqa: ANN001, ANN202
        if WRITTEN is not None:
            WRITTEN.update(op.get("TableName") for item in transact_items for op in item.values())
        return transact(self, transact_items, *args, **kwargs)

    patch.setattr(DynamoDBBackend, "transact_write_items", tracked_transaction)


@pytest.fixture(scope="session")
def _moto() -> Iterator[Settings]:
    """moto (in-process) with every onecloud table, bucket and queue, made once for the whole run."""
    from onecloud import local_moto, moto_transactions, provision

    moto_transactions.isolate_writes()  # as DynamoDB: a rollback never undoes another thread's write
    local_moto.apply()  # queries read their key's items, not the whole table (as the local stack)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        _track_writes(env)
        with mock_aws(config={"batch": {"use_docker": False}}):
            aws.configure(TEST_SETTINGS)
            provision.create_tables()
            provision.create_bucket()
            provision.create_batch()
            provision.notify_uploads(provision.create_queues())
            yield TEST_SETTINGS
    aws.configure(Settings.from_env())


def _standard_vocabulary() -> dict[str, set[str]]:
    """The standard vocabulary's items by table (and their pattern guards): kept from test to test, since
    writing a few hundred items into moto for every test would dominate the run."""
    from chalicelib import aws as onecloud_aws
    from chalicelib.models import DataFormat, DataRepositoryType, DatasetType, ProcedureType, WaterType
    from chalicelib.models.unique import UniqueKey
    from chalicelib.vocabulary import standard

    types, formats = _vocabulary_items()
    return {
        onecloud_aws.table_name(DatasetType.Meta.table): {t.name for t in types},
        onecloud_aws.table_name(DataFormat.Meta.table): {f.name for f in formats},
        onecloud_aws.table_name(WaterType.Meta.table): set(standard()["water_types"]),
        onecloud_aws.table_name(ProcedureType.Meta.table): {p["name"] for p in standard()["procedure_types"]},
        onecloud_aws.table_name(DataRepositoryType.Meta.table): {"S3", *standard()["repository_types"]},
        onecloud_aws.table_name(UniqueKey.Meta.table): {key for t in types for key in t.unique_keys},
    }


def _vocabulary_items():
    from chalicelib.vocabulary import standard_data_formats, standard_dataset_types

    return standard_dataset_types(), standard_data_formats()


def _empty(settings: Settings, *, keep_vocabulary: bool = True) -> None:
    """Every table, queue and the bucket emptied through the public APIs (cheaper than making them anew);
    the standard vocabulary stays (``seed_vocabulary`` adds back whatever a test deleted)."""
    from chalicelib.models.tables import table_definitions
    from onecloud import provision

    global WRITTEN
    if aws.settings() != settings:
        aws.configure(settings)  # new clients parse botocore's service models again: only when needed
    kept = _standard_vocabulary() if keep_vocabulary else {}
    dynamodb, sqs, s3 = aws.client("dynamodb"), aws.client("sqs"), aws.client("s3")
    written, WRITTEN = WRITTEN, None
    for definition in table_definitions():
        if written is not None and keep_vocabulary and definition["TableName"] not in written:
            continue
        keys = [key["AttributeName"] for key in definition["KeySchema"]]
        keep = kept.get(definition["TableName"], set())
        for page in dynamodb.get_paginator("scan").paginate(TableName=definition["TableName"]):
            items = [
                {name: item[name] for name in keys}
                for item in page["Items"]
                if next(iter(item[keys[0]].values())) not in keep
            ]
            for start in range(0, len(items), 25):
                dynamodb.batch_write_item(
                    RequestItems={
                        definition["TableName"]: [
                            {"DeleteRequest": {"Key": key}} for key in items[start : start + 25]
                        ]
                    }
                )
    WRITTEN = set()
    for queue in (settings.upload_queue, settings.upload_dead_letter_queue):
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"])
    provision.notify_uploads(provision.create_queues())  # new queues: nothing left in flight
    versions = s3.list_object_versions(Bucket=settings.data_bucket)
    doomed = [
        {"Key": v["Key"], "VersionId": v["VersionId"]}
        for v in versions.get("Versions", []) + versions.get("DeleteMarkers", [])
    ]
    if doomed:
        s3.delete_objects(Bucket=settings.data_bucket, Delete={"Objects": doomed})


@pytest.fixture
def cloud(_moto: Settings) -> Settings:
    """Every table, bucket and queue, empty, in moto."""
    _empty(_moto)
    return _moto


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


def _seed_world() -> dict[str, str]:
    """Two labs with a lab server each; a superuser, a member of each lab, a public user. Returns tokens."""
    from chalicelib.accounts import create_user
    from chalicelib.auth import issue_token
    from chalicelib.models import DataRepository, Lab
    from chalicelib.vocabulary import ensure_store_repository, seed_vocabulary

    seed_vocabulary()
    ensure_store_repository()
    for lab in ("cortexlab", "churchlandlab"):
        DataRepository(
            name=f"{lab}_server", lab=lab, data_url=f"http://{lab}.example.org/data", globus_is_personal=True
        ).save()
        Lab(name=lab, repositories=[f"{lab}_server"]).save()
    create_user("admin", "admin-pw", is_superuser=True)
    create_user("alice", "alice-pw", labs=["cortexlab"])
    create_user("bob", "bob-pw", labs=["churchlandlab"])
    create_user("pub", "pub-pw", is_public_user=True)
    return {name: issue_token(name) for name in ("admin", "alice", "bob", "pub")}


@pytest.fixture
def api(cloud) -> Iterator[Api]:
    """The app, with two labs, their servers, and users of every role (see _seed_world)."""
    from app import app
    from onecloud.gateway import gateway_client

    tokens = _seed_world()
    with gateway_client(app) as client:
        yield Api(client, tokens)


@pytest.fixture(scope="module")
def module_api(_moto) -> Iterator[Api]:
    """Like ``api``, seeded once for a module whose tests only read, or refuse writes."""
    from app import app
    from onecloud.gateway import gateway_client

    _empty(_moto)
    tokens = _seed_world()
    with gateway_client(app) as client:
        yield Api(client, tokens)


# The web pages' harness: ``web`` (in process), ``ui_stack`` and ``ui`` (Chromium on the local stack).
from tests.webpages import _playwright, ui, ui_stack, web  # noqa: E402, F401

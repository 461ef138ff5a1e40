"""The one place that makes AWS clients and knows the endpoint.

Setting ``ONECLOUD_AWS_ENDPOINT`` (the moto server of the local stack) redirects every boto3 client and
every PynamoDB model; nothing else in the code base knows whether it talks to AWS or to moto.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any

import boto3
from botocore.config import Config
from pynamodb.connection import Connection
from pynamodb.exceptions import TableError
from pynamodb.models import Model

from chalicelib.config import LOCAL_CREDENTIALS, Settings, settings_from_env

_lock = threading.Lock()
_settings: Settings | None = None
_clients: dict[str, Any] = {}
_models: list[type[Model]] = []
_writes: Counter[str] = Counter()  # writes this process sent, by table name


def settings() -> Settings:
    return _settings or settings_from_env()


def configure(new: Settings) -> None:
    """Point every client and model at the deployment ``new`` describes (tests and the local stack)."""
    global _settings
    with _lock:
        _settings = new
        _clients.clear()
    _bind(_models)


def _credentials() -> dict[str, str]:
    if settings().aws_endpoint_url:
        key, secret = LOCAL_CREDENTIALS
        return {"aws_access_key_id": key, "aws_secret_access_key": secret}
    return {}


def client(service: str) -> Any:
    """A boto3 client for ``service``, shared across threads (boto3 clients are thread safe)."""
    with _lock:
        if service not in _clients:
            current = settings()
            _clients[service] = boto3.session.Session().client(
                service,
                region_name=current.region,
                endpoint_url=current.aws_endpoint_url,
                config=Config(signature_version="s3v4", s3={"addressing_style": "path"})
                if service == "s3"
                else None,
                **_credentials(),
            )
            if service == "dynamodb":
                _clients[service].meta.events.register("before-parameter-build.dynamodb", _count_writes)
        return _clients[service]


def writes_to(table: str) -> int:
    """How many writes this process has sent to the table named ``table`` (its full name): a copy of the
    table's items that this process read is current, as far as this process knows, while the count stands."""
    return _writes[table]


def _count_writes(params: dict[str, Any], model: Any, **_: Any) -> None:
    if model.name in ("PutItem", "UpdateItem", "DeleteItem"):
        tables = [params.get("TableName")]
    elif model.name == "BatchWriteItem":
        tables = list(params.get("RequestItems", {}))
    elif model.name == "TransactWriteItems":
        tables = [
            next(iter(entry.values()), {}).get("TableName") for entry in params.get("TransactItems", [])
        ]
    else:
        return
    _writes.update(table for table in tables if table)


def dynamodb_connection() -> Connection:
    """The PynamoDB connection for transactions spanning several tables (made once: a new botocore
    client per transaction would cost more than the transaction)."""
    with _lock:
        if "pynamodb" not in _clients:
            current, creds = settings(), _credentials()
            _clients["pynamodb"] = Connection(
                region=current.region,
                host=current.aws_endpoint_url,
                aws_access_key_id=creds.get("aws_access_key_id"),
                aws_secret_access_key=creds.get("aws_secret_access_key"),
            )
            _clients["pynamodb"].client.meta.events.register("before-parameter-build.dynamodb", _count_writes)
        return _clients["pynamodb"]


def table_name(table: str) -> str:
    return settings().table_prefix + table


def bind_models(models: Iterable[type[Model]]) -> None:
    """Register models so their table names and endpoint follow the configuration."""
    models = list(models)
    _models.extend(m for m in models if m not in _models)
    _bind(models)


def _bind(models: Iterable[type[Model]]) -> None:
    """Name each model's table and route it through the one shared connection.

    PynamoDB would otherwise create a botocore client per model on first use (about 0.15 s each): a
    request touching a handful of tables would pay for it at every Lambda cold start.
    """
    current = settings()
    creds = _credentials()
    shared = dynamodb_connection()
    for model in models:
        meta = model.Meta
        meta.table_name = table_name(meta.table)
        meta.host = current.aws_endpoint_url
        meta.region = current.region
        meta.aws_access_key_id = creds.get("aws_access_key_id")
        meta.aws_secret_access_key = creds.get("aws_secret_access_key")
        model._connection = None
        table = model._get_connection()
        try:
            shared.get_meta_table(meta.table_name)
        except TableError:
            shared.add_meta_table(table.get_meta_table())
        table.connection = shared

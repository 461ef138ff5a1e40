"""Table definitions derived from the models: the one source the local stack and the infrastructure use."""

from __future__ import annotations

from typing import Any

from pynamodb.models import Model

from chalicelib import aws
from chalicelib.models import ALL_MODELS


def table_definition(model: type[Model]) -> dict[str, Any]:
    """CreateTable arguments (boto3 shape) for ``model``: keys, attributes and global indexes."""
    schema = model._get_schema()
    definition: dict[str, Any] = {
        "TableName": aws.table_name(model.Meta.table),
        "KeySchema": _hash_first(schema["key_schema"]),
        "AttributeDefinitions": schema["attribute_definitions"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    indexes = [
        {
            "IndexName": index["index_name"],
            "KeySchema": _hash_first(index["key_schema"]),
            "Projection": index["projection"],
        }
        for index in schema["global_secondary_indexes"]
    ]
    if indexes:
        definition["GlobalSecondaryIndexes"] = indexes
    return definition


def table_definitions() -> list[dict[str, Any]]:
    return [table_definition(model) for model in ALL_MODELS]


def _hash_first(key_schema: list[dict[str, str]]) -> list[dict[str, str]]:
    """DynamoDB wants the HASH key before the RANGE key."""
    return sorted(key_schema, key=lambda key: key["KeyType"] != "HASH")

"""DynamoDB tables, transcribed from the PynamoDB models (`chalicelib.models.tables.table_definitions`).

The models are the one definition of every table: the local stack creates its tables from the same
definitions, so keys and indexes cannot drift between moto and AWS. The L1 `CfnTable` is used because the
definitions already are CreateTable arguments; an L2 table would only re-derive them.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from chalicelib.models.tables import table_definitions
from infrastructure.stages import Stage


class Tables(Construct):
    """Every table of the stage: on demand, point-in-time recovery, deletion protection when protected.
    Table names come from chalicelib's configuration, which `build_app` checks is the stage's."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: Stage) -> None:
        super().__init__(scope, construct_id)
        prefix = stage.settings.table_prefix
        for definition in table_definitions():
            # Named by the model's short name: logical ids read as the model and match across stages.
            short_name = definition["TableName"].removeprefix(prefix)
            _table(self, short_name, definition, stage=stage)


def _table(
    scope: Construct, construct_id: str, definition: dict[str, Any], *, stage: Stage
) -> dynamodb.CfnTable:
    table = dynamodb.CfnTable(
        scope,
        construct_id,
        table_name=definition["TableName"],
        billing_mode=definition["BillingMode"],
        key_schema=_keys(definition["KeySchema"]),
        attribute_definitions=[
            dynamodb.CfnTable.AttributeDefinitionProperty(
                attribute_name=attribute["AttributeName"], attribute_type=attribute["AttributeType"]
            )
            for attribute in definition["AttributeDefinitions"]
        ],
        global_secondary_indexes=[
            dynamodb.CfnTable.GlobalSecondaryIndexProperty(
                index_name=index["IndexName"],
                key_schema=_keys(index["KeySchema"]),
                projection=dynamodb.CfnTable.ProjectionProperty(
                    projection_type=index["Projection"]["ProjectionType"],
                    non_key_attributes=index["Projection"].get("NonKeyAttributes"),
                ),
            )
            for index in definition.get("GlobalSecondaryIndexes", [])
        ]
        or None,
        point_in_time_recovery_specification=dynamodb.CfnTable.PointInTimeRecoverySpecificationProperty(
            point_in_time_recovery_enabled=True
        ),
        deletion_protection_enabled=stage.protected,
    )
    table.apply_removal_policy(stage.removal_policy)
    return table


def _keys(key_schema: list[dict[str, str]]) -> list[dynamodb.CfnTable.KeySchemaProperty]:
    return [
        dynamodb.CfnTable.KeySchemaProperty(attribute_name=key["AttributeName"], key_type=key["KeyType"])
        for key in key_schema
    ]

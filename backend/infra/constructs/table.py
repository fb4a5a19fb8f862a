"""The metadata table, built from the same definition the local stack creates."""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_kms as kms
from constructs import Construct

from backend import naming

_TYPES = {
    "S": ddb.AttributeType.STRING,
    "N": ddb.AttributeType.NUMBER,
    "B": ddb.AttributeType.BINARY,
}
_VIEWS = {
    "NEW_AND_OLD_IMAGES": ddb.StreamViewType.NEW_AND_OLD_IMAGES,
    "NEW_IMAGE": ddb.StreamViewType.NEW_IMAGE,
    "OLD_IMAGE": ddb.StreamViewType.OLD_IMAGE,
    "KEYS_ONLY": ddb.StreamViewType.KEYS_ONLY,
}


def _keys(
    schema: list[dict[str, str]], types: dict[str, str]
) -> tuple[ddb.Attribute, ddb.Attribute | None]:
    by_role = {k["KeyType"]: k["AttributeName"] for k in schema}
    hash_name, range_name = by_role["HASH"], by_role.get("RANGE")
    partition = ddb.Attribute(name=hash_name, type=_TYPES[types[hash_name]])
    sort = ddb.Attribute(name=range_name, type=_TYPES[types[range_name]]) if range_name else None
    return partition, sort


class MetadataTable(ddb.Table):
    """On demand, PITR, stream, TTL, encrypted with the data key; deletion protected."""

    def __init__(
        self, scope: Construct, id: str, *, key: kms.IKey, removal_policy: RemovalPolicy
    ) -> None:
        definition: dict[str, Any] = naming.metadata_table_definition("unused")
        types = {a["AttributeName"]: a["AttributeType"] for a in definition["AttributeDefinitions"]}
        partition, sort = _keys(definition["KeySchema"], types)
        stream = definition.get("StreamSpecification", {})
        super().__init__(
            scope,
            id,
            partition_key=partition,
            sort_key=sort,
            billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=ddb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            stream=_VIEWS[stream["StreamViewType"]] if stream.get("StreamEnabled") else None,
            time_to_live_attribute=naming.TTL_ATTRIBUTE,
            encryption=ddb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            deletion_protection=True,
            removal_policy=removal_policy,
        )
        for index in definition.get("GlobalSecondaryIndexes", []):
            gsi_partition, gsi_sort = _keys(index["KeySchema"], types)
            projection = index["Projection"]["ProjectionType"]
            self.add_global_secondary_index(
                index_name=index["IndexName"],
                partition_key=gsi_partition,
                sort_key=gsi_sort,
                projection_type=ddb.ProjectionType(projection),
            )

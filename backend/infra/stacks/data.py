"""Data: the metadata table, shaped by ``backend.naming.metadata_table_definition``."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from backend.infra import outputs
from backend.infra.constructs.table import MetadataTable
from backend.infra.settings import Settings


class DataStack(Stack):
    def __init__(
        self, scope: Construct, id: str, *, settings: Settings, key: kms.IKey, **kwargs: Any
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.table = MetadataTable(self, "Metadata", key=key, removal_policy=RemovalPolicy.RETAIN)
        CfnOutput(self, outputs.TABLE, value=self.table.table_name)

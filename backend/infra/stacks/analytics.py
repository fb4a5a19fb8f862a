"""Analytics: a Glue database and table over the analytics event log, an Athena workgroup
with enforced settings and a bytes-scanned limit, and the named queries."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput, Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from backend.infra.analytics_queries import COLUMNS, PARTITION, QUERIES, TABLE
from backend.infra.settings import Settings
from backend.infra.stacks.storage import ATHENA_RESULTS_PREFIX
from backend.workflows.definitions import ANALYTICS_PREFIX


class AnalyticsStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: Settings,
        key: kms.IKey,
        analytics: s3.IBucket,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        database_name = f"{settings.prefix.lower()}_analytics"
        location = f"s3://{analytics.bucket_name}/{ANALYTICS_PREFIX}"
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=database_name, description="FileVault analytics events"
            ),
        )
        self.table = glue.CfnTable(
            self,
            "Events",
            catalog_id=Aws.ACCOUNT_ID,
            database_name=database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=TABLE,
                table_type="EXTERNAL_TABLE",
                description="One row per upload, download, share access and delete",
                parameters={
                    "classification": "json",
                    # Partition projection: no crawler, no MSCK REPAIR.
                    "projection.enabled": "true",
                    "projection.dt.type": "date",
                    "projection.dt.format": "yyyy-MM-dd",
                    "projection.dt.range": "2024-01-01,NOW",
                    "storage.location.template": location + "dt=${dt}/",
                },
                partition_keys=[glue.CfnTable.ColumnProperty(name=PARTITION[0], type=PARTITION[1])],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=location,
                    columns=[glue.CfnTable.ColumnProperty(name=n, type=t) for n, t in COLUMNS],
                    input_format="org.apache.hadoop.mapred.TextInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.openx.data.jsonserde.JsonSerDe"
                    ),
                ),
            ),
        )
        self.table.node.add_dependency(self.database)
        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=f"{settings.prefix.lower()}-analytics",
            description="FileVault analytics (enforced settings, bytes-scanned limit)",
            state="ENABLED",
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=settings.athena_bytes_scanned_cutoff,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{analytics.bucket_name}/{ATHENA_RESULTS_PREFIX}",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=key.key_arn
                    ),
                ),
            ),
        )
        self.queries = {}
        for name, (description, sql) in QUERIES.items():
            query = athena.CfnNamedQuery(
                self,
                f"Query{name.title().replace('-', '')}",
                name=name,
                description=description,
                database=database_name,
                query_string=sql,
                work_group=self.workgroup.ref,
            )
            query.node.add_dependency(self.database)
            self.queries[name] = query
        CfnOutput(self, "AthenaWorkGroup", value=self.workgroup.ref)
        CfnOutput(self, "GlueDatabase", value=database_name)

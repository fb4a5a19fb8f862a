"""API: one Lambda per route group, the HTTP API, and the share-link distribution.

The distribution lives here because the share-link base URL (a Lambda environment variable)
and the API origin refer to each other; across two stacks that would be a dependency cycle.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from backend import naming
from backend.api.routes import GROUPS, ROUTES
from backend.infra import names, outputs
from backend.infra.constructs.distribution import ShareDistribution
from backend.infra.constructs.fis import attach_fis_extension
from backend.infra.constructs.functions import BackendFunction
from backend.infra.constructs.grants import TargetArns, grant
from backend.infra.constructs.http_api import FileVaultHttpApi
from backend.infra.nag import acknowledge_object_wildcards
from backend.infra.permissions import ACCESS, Target
from backend.infra.settings import Settings
from backend.infra.stacks.storage import SHARED_PREFIX, USERS_PREFIX
from backend.infra.stacks.workflows import WorkflowsStack

LAMBDA_MODULE = "backend.api.lambdas"


class ApiStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: Settings,
        key: kms.IKey,
        table: ddb.ITable,
        uploads: s3.IBucket,
        processed: s3.IBucket,
        access_logs: s3.IBucket,
        user_pool: cognito.IUserPool,
        client: cognito.IUserPoolClient,
        analytics: s3.IBucket,
        topic: sns.ITopic,
        workflows: WorkflowsStack,
        web_acl_arn: str | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.http = FileVaultHttpApi(
            self,
            "Http",
            user_pool=user_pool,
            clients=[client],
            rate_limit=settings.api_rate_limit,
            burst_limit=settings.api_burst_limit,
        )
        # Imported, so that CloudFront's origin access control does not edit the Storage
        # stack's bucket policy (which already admits this account's distributions).
        shared = s3.Bucket.from_bucket_attributes(
            self,
            "SharedBucket",
            bucket_arn=processed.bucket_arn,
            bucket_regional_domain_name=processed.bucket_regional_domain_name,
        )
        self.edge = ShareDistribution(
            self,
            "Edge",
            api_endpoint=self.http.url,
            shared_bucket=shared,
            shared_path=SHARED_PREFIX,
            log_bucket=access_logs,
            web_acl_arn=web_acl_arn,
        )
        environment = {
            naming.ENV_TABLE: table.table_name,
            naming.ENV_UPLOAD_BUCKET: uploads.bucket_name,
            naming.ENV_PROCESSED_BUCKET: processed.bucket_name,
            naming.ENV_ANALYTICS_BUCKET: analytics.bucket_name,
            naming.ENV_NOTIFICATIONS_TOPIC_ARN: topic.topic_arn,
            naming.ENV_PUBLIC_BASE_URL: self.edge.base_url,
            naming.ENV_EPOCH: "aws",
            naming.ENV_DEFAULT_QUOTA: str(settings.default_quota_bytes),
        }
        if settings.transfer_acceleration:
            # Every API function: any request may ask for acceleration and must not get a 400.
            environment[naming.ENV_S3_ACCELERATE] = "1"
        arns = TargetArns(
            {
                Target.TABLE: [table.table_arn],
                Target.SHARE_INDEX: [f"{table.table_arn}/index/{naming.GSI_SHARE_TOKEN}"],
                Target.UPLOAD_OBJECTS: [
                    names.objects_arn(settings.prefix, names.UPLOADS, f"{USERS_PREFIX}*")
                ],
                Target.PROCESSED_OBJECTS: [
                    names.objects_arn(settings.prefix, names.PROCESSED, f"{USERS_PREFIX}*")
                ],
                Target.UPLOAD_VERSIONS: [names.bucket_arn(settings.prefix, names.UPLOADS)],
                Target.PROCESSED_VERSIONS: [names.bucket_arn(settings.prefix, names.PROCESSED)],
                Target.TOPIC: [topic.topic_arn],
                Target.USER_POOL: [user_pool.user_pool_arn],
            },
            key.key_arn,
        )
        if workflows.share_lifecycle_arn:
            environment[naming.ENV_SHARE_LIFECYCLE_ARN] = workflows.share_lifecycle_arn
            arns = arns.with_(Target.SHARE_LIFECYCLE, workflows.share_lifecycle_arn)
        if workflows.watermark_access_point_arn:
            environment[naming.ENV_WATERMARK_ACCESS_POINT] = workflows.watermark_access_point_arn
            arns = arns.with_(Target.WATERMARK, workflows.watermark_access_point_arn)
        self.functions: dict[str, BackendFunction] = {}
        for group in GROUPS:
            public = group == "public"
            access = {t: a for t, a in ACCESS[group].items() if t in arns.arns}
            env = dict(environment)
            if Target.USER_POOL in access:  # the admin API alone is told which pool it manages
                env[naming.ENV_USER_POOL_ID] = user_pool.user_pool_id
            fn = BackendFunction(
                self,
                f"{group.title()}Handler",
                handler=f"{LAMBDA_MODULE}.{group}",
                description=f"FileVault API: {group} routes",
                environment=env,
                service=f"filevault-{group}",
                powertools_layer_version=settings.powertools_layer_version,
                pillow_version=settings.pillow_version,
                reserved_concurrency=(
                    (settings.public_reserved_concurrency or None) if public else None
                ),
            )
            grant(fn.role, access, arns)
            if Target.WATERMARK in access:
                self._grant_watermark_chain(fn.role, workflows, settings.prefix)
            # The Audit stack's FIS experiment targets these functions.
            attach_fis_extension(fn, prefix=settings.prefix)
            self.functions[group] = fn
        handlers: dict[str, lambda_.IFunction] = {
            group: fn.function for group, fn in self.functions.items()
        }
        self.http.add_routes(ROUTES, handlers)
        CfnOutput(self, outputs.API_URL, value=self.http.url)
        CfnOutput(self, outputs.SHARE_BASE_URL, value=self.edge.base_url)
        CfnOutput(self, outputs.REGION, value=Aws.REGION)

    @staticmethod
    def _grant_watermark_chain(role: iam.IRole, workflows: WorkflowsStack, prefix: str) -> None:
        """A GET through the Object Lambda access point runs with the signer's rights: it
        needs the supporting access point's users/* objects and to invoke the function, the
        latter only when S3 Object Lambda makes the call."""
        assert workflows.watermark_function_arn
        objects = names.access_point_objects_arn(prefix, names.WATERMARK_SOURCE, f"{USERS_PREFIX}*")
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="WatermarkSupportingAccessPoint", actions=["s3:GetObject"], resources=[objects]
            )
        )
        acknowledge_object_wildcards(
            role,
            [objects],
            "Object ARNs through the watermark's supporting access point end in users/*.",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="WatermarkFunction",
                actions=["lambda:InvokeFunction"],
                resources=[workflows.watermark_function_arn],
                conditions={
                    "ForAnyValue:StringEquals": {
                        "aws:CalledVia": ["s3-object-lambda.amazonaws.com"]
                    }
                },
            )
        )

"""Edge: the WAF web ACL of the share distribution (CloudFront scope lives in us-east-1)."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from backend.infra.constructs.waf import CloudFrontWebAcl
from backend.infra.settings import Settings

WAF_REGION = "us-east-1"


class EdgeStack(Stack):
    def __init__(self, scope: Construct, id: str, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.web_acl = CloudFrontWebAcl(self, "WebAcl", rate_limit=settings.waf_rate_limit)
        CfnOutput(self, "WebAclArn", value=self.web_acl.arn)

"""CloudFront in front of share links (the API) and shared downloads (the processed bucket)."""

from __future__ import annotations

from aws_cdk import Fn
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from backend.infra.nag import acknowledge


class ShareDistribution(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        api_endpoint: str,
        shared_bucket: s3.IBucket,
        shared_path: str,
        log_bucket: s3.IBucket,
        web_acl_arn: str | None,
    ) -> None:
        super().__init__(scope, id)
        api_domain = Fn.select(2, Fn.split("/", api_endpoint))
        api_origin = origins.HttpOrigin(
            api_domain,
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
        )
        # The bucket's policy (Storage stack) already admits this account's distributions
        # to shared/*: importing the bucket keeps CloudFront from editing another stack's policy.
        bucket_origin = origins.S3BucketOrigin.with_origin_access_control(
            shared_bucket, origin_access_levels=[cloudfront.AccessLevel.READ]
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="FileVault share links and shared downloads",
            default_behavior=cloudfront.BehaviorOptions(
                origin=api_origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            ),
            additional_behaviors={
                f"/{shared_path}*": cloudfront.BehaviorOptions(
                    origin=bucket_origin,
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                    cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                )
            },
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=log_bucket,
            log_file_prefix="cloudfront/",
            web_acl_id=web_acl_arn,
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "Files are shared worldwide by their owners; no geographic restriction applies.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "The default *.cloudfront.net certificate allows older TLS to viewers; a custom "
            "domain and certificate (TLSv1.2_2021) is a deployment choice, not a default.",
        )
        if web_acl_arn is None:
            acknowledge(
                self.distribution,
                "AwsSolutions-CFR2",
                "The WAF web ACL is attached only when the app knows its region (see ADR 002).",
            )

    @property
    def base_url(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}"

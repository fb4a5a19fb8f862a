"""The HTTP API: every route of ``backend.api.routes.ROUTES``, JWT-authorized unless public."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import jsii
from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from backend.api.routes import Route
from backend.infra.nag import acknowledge

_ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "integrationLatency": "$context.integrationLatency",
        "integrationError": "$context.integrationErrorMessage",
        "authorizerError": "$context.authorizer.error",
        "userAgent": "$context.identity.userAgent",
    }
)


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(_ACCESS_LOG_FORMAT)


class FileVaultHttpApi(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        user_pool: cognito.IUserPool,
        clients: Sequence[cognito.IUserPoolClient],
        rate_limit: int,
        burst_limit: int,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
    ) -> None:
        super().__init__(scope, id)
        self.api = apigwv2.HttpApi(
            self, "Api", description="FileVault HTTP API", create_default_stage=False
        )
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=rate_limit, burst_limit=burst_limit),
            access_log_settings=_AccessLogSettings(self.access_logs),
            detailed_metrics_enabled=True,
        )
        self.authorizer = authorizers.HttpUserPoolAuthorizer(
            "Cognito",
            user_pool,
            user_pool_clients=list(clients),
            identity_source=["$request.header.Authorization"],
        )

    def add_routes(
        self, routes: Sequence[Route], handlers: Mapping[str, lambda_.IFunction]
    ) -> None:
        """Each route to its group's Lambda; the JWT authorizer on all but public routes."""
        by_group = {
            group: integrations.HttpLambdaIntegration(f"{group}-integration", fn)
            for group, fn in handlers.items()
        }
        public_routes: list[apigwv2.HttpRoute] = []
        for route in routes:
            added = self.api.add_routes(
                path=route.path,
                methods=[apigwv2.HttpMethod(route.method)],
                integration=by_group[route.group],
                authorizer=apigwv2.HttpNoneAuthorizer() if route.public else self.authorizer,
            )
            if route.public:
                public_routes.extend(added)
        for public in public_routes:
            acknowledge(
                public,
                "AwsSolutions-APIG4",
                "The share-link resolver is public by design: the unguessable token (and an "
                "optional password) is the credential; WAF and reserved concurrency limit abuse.",
            )

    @property
    def url(self) -> str:
        return self.api.api_endpoint

"""Auth: the Cognito user pool, the admins group and the desktop app client."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from backend import naming
from backend.infra import outputs
from backend.infra.nag import acknowledge
from backend.infra.settings import Settings


class AuthStack(Stack):
    def __init__(self, scope: Construct, id: str, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        threat = settings.threat_protection
        self.user_pool = cognito.UserPool(
            self,
            "Users",
            # Accounts are created by an admin (README: "creating the first admin user").
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS if threat else cognito.FeaturePlan.ESSENTIALS,
            standard_threat_protection_mode=(
                cognito.StandardThreatProtectionMode.FULL_FUNCTION if threat else None
            ),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG2",
            "MFA is optional by design (TOTP when a user enrols); the password policy is strong "
            "and threat protection blocks risky sign-ins.",
        )
        if not threat:
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG3",
                "Threat protection was turned off in settings (it needs the Plus feature plan).",
            )
        self.admins = cognito.CfnUserPoolGroup(
            self,
            "Admins",
            user_pool_id=self.user_pool.user_pool_id,
            group_name=naming.ADMINS_GROUP,
            description="FileVault administrators (admin window and admin API)",
        )
        self.desktop_client = self.user_pool.add_client(
            "Desktop",
            user_pool_client_name="filevault-desktop",
            # SRP only; refresh tokens are always allowed. No secret: a desktop app cannot keep one.
            auth_flows=cognito.AuthFlow(user_srp=True),
            generate_secret=False,
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
            auth_session_validity=Duration.minutes(3),
        )
        CfnOutput(self, outputs.USER_POOL_ID, value=self.user_pool.user_pool_id)
        CfnOutput(self, outputs.USER_POOL_CLIENT_ID, value=self.desktop_client.user_pool_client_id)

"""Sign-in with Amazon Cognito (SRP through pycognito); the one place that knows pycognito."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any, Protocol

import boto3
import requests
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from pycognito import Cognito
from pycognito.exceptions import TokenVerificationException

from filevault_desktop.auth.token_store import Tokens
from filevault_desktop.errors import AuthError, NetworkError
from filevault_desktop.profiles import Profile

_WRONG = {"NotAuthorizedException", "UserNotFoundException"}


class Authenticator(Protocol):
    def sign_in(self, username: str, password: str) -> Tokens: ...
    def refresh(self, tokens: Tokens) -> Tokens: ...
    def sign_out(self, tokens: Tokens) -> None: ...


class CognitoAuthenticator:
    def __init__(
        self,
        profile: Profile,
        *,
        clock: Callable[[], float] = time.time,
        http: requests.Session | None = None,
    ) -> None:
        self._profile = profile
        self._clock = clock
        self._http = http or requests.Session()
        self._jwks: dict[str, Any] | None = None

    def _cognito(self, username: str, **tokens: str) -> Cognito:
        cognito = Cognito(
            self._profile.user_pool_id,
            self._profile.client_id,
            user_pool_region=self._profile.region,
            username=username,
            **tokens,
        )
        if self._profile.aws_endpoint_url:
            # Only the transport moves to the local endpoint; the issuer pycognito checks
            # stays Cognito's, which is what the local stack's tokens carry.
            session = boto3.session.Session(region_name=self._profile.region)
            cognito.client = session.client(
                "cognito-idp",
                endpoint_url=self._profile.aws_endpoint_url,
                config=Config(
                    retries={"mode": "standard", "max_attempts": 3},
                    connect_timeout=5,
                    read_timeout=20,
                ),
            )
        cognito.pool_jwk = self._keys()
        return cognito

    def _keys(self) -> dict[str, Any]:
        if self._jwks is None:
            base = (
                self._profile.aws_endpoint_url
                or f"https://cognito-idp.{self._profile.region}.amazonaws.com"
            )
            url = f"{base}/{self._profile.user_pool_id}/.well-known/jwks.json"
            try:
                response = self._http.get(url, timeout=10)
                response.raise_for_status()
                self._jwks = response.json()
            except requests.RequestException as exc:
                raise NetworkError(f"cannot reach the sign-in service at {base}: {exc}") from exc
        return self._jwks

    def _tokens(self, cognito: Cognito, username: str) -> Tokens:
        claims = cognito.access_claims or {}
        return Tokens(
            username=str(claims.get("username", username)),
            id_token=cognito.id_token,
            access_token=cognito.access_token,
            refresh_token=cognito.refresh_token,
            expires_at=float(claims.get("exp", self._clock() + 300)),
        )

    def sign_in(self, username: str, password: str) -> Tokens:
        if not username or not password:
            raise AuthError("username and password are required")
        cognito = self._cognito(username)
        try:
            cognito.authenticate(password=password)
        except ClientError as exc:
            raise _auth_error(exc) from exc
        except (EndpointConnectionError, BotoCoreError) as exc:
            raise NetworkError(f"cannot reach the sign-in service: {exc}") from exc
        except TokenVerificationException as exc:
            raise AuthError(
                f"the sign-in service returned tokens that do not verify: {exc}"
            ) from exc
        return self._tokens(cognito, username)

    def refresh(self, tokens: Tokens) -> Tokens:
        cognito = self._cognito(
            tokens.username,
            id_token=tokens.id_token,
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
        )
        try:
            cognito.renew_access_token()
        except ClientError as exc:
            raise AuthError("your session has expired; sign in again") from exc
        except (EndpointConnectionError, BotoCoreError) as exc:
            raise NetworkError(f"cannot reach the sign-in service: {exc}") from exc
        except TokenVerificationException as exc:
            raise AuthError(f"refreshed tokens do not verify: {exc}") from exc
        return self._tokens(cognito, tokens.username)

    def sign_out(self, tokens: Tokens) -> None:
        cognito = self._cognito(tokens.username, access_token=tokens.access_token)
        # Signing out locally must work offline too.
        with contextlib.suppress(ClientError, BotoCoreError):
            cognito.logout()


def _auth_error(exc: ClientError) -> AuthError:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    message = str(exc.response.get("Error", {}).get("Message", ""))
    if code == "NotAuthorizedException" and "disabled" in message.lower():
        return AuthError("this account is disabled; ask a FileVault administrator to enable it")
    if code in _WRONG:
        return AuthError("wrong username or password")
    if code == "UserNotConfirmedException":
        return AuthError("this account is not confirmed yet")
    if code == "PasswordResetRequiredException":
        return AuthError("a password reset is required for this account")
    return AuthError(f"sign-in failed: {message or code}")

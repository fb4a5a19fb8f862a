"""The desktop side's one error hierarchy. The CLI maps each class to an exit code."""

from __future__ import annotations

from typing import Any


class FileVaultError(Exception):
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(FileVaultError):
    """Missing or invalid profile or settings."""

    exit_code = 3


class KeychainUnavailable(ConfigError):
    """No usable OS keychain for the tokens."""


class AuthError(FileVaultError):
    """Not signed in, wrong credentials, or a session that can no longer be refreshed."""

    exit_code = 4


class NetworkError(FileVaultError):
    """The server could not be reached."""

    exit_code = 5


class ApiError(FileVaultError):
    """The server refused a request; ``code`` is the API's error code."""

    exit_code = 6

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.details = details or {}


class NotFoundError(ApiError):
    exit_code = 7


class ConflictError(ApiError):
    exit_code = 8


class QuotaError(ApiError):
    exit_code = 9

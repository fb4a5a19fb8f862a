"""Deployment settings: defaults here, overridable with CDK context (``cdk -c key=value``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from backend.config import DEFAULT_TRASH_RETENTION_DAYS, GiB


@dataclass(frozen=True)
class Settings:
    """Everything a deployment may want to change; no value is looked up in AWS."""

    # Stack names are "<prefix>-<Part>"; two prefixes can live in one account.
    prefix: str = "FileVault"
    # The deployment environment. The CDK CLI sets CDK_DEFAULT_ACCOUNT/REGION from the
    # configured credentials; synthesis needs only the region (for the us-east-1 WAF reference).
    account: str | None = None
    region: str | None = None
    # Days before noncurrent versions, trashed blobs and old access logs expire.
    noncurrent_version_days: int = 30
    # The lifecycle rule's tagged-trash expiry and the scheduled trash purge (records + bytes).
    trash_retention_days: int = DEFAULT_TRASH_RETENTION_DAYS
    access_log_days: int = 365
    # Browser origins allowed to use pre-signed URLs (the desktop app sends no Origin).
    cors_allowed_origins: tuple[str, ...] = ("*",)
    # Public Powertools for AWS Lambda (Python) v3 layer (account 017000801446).
    powertools_layer_version: int = 27
    # Pillow in the layer of the functions whose code imports PIL (the version the tests use;
    # `cdk deploy` pip-installs it from PyPI).
    pillow_version: str = "13.0.0"
    # S3 Transfer Acceleration on the upload bucket; the API signs accelerate-endpoint URLs
    # for profiles that ask (`filevault profile import-cdk-outputs --accelerate`).
    transfer_acceleration: bool = True
    # Reserved concurrency of the unauthenticated share resolver (0: none); it keeps a flood
    # of public requests from starving the signed-in routes and the table.
    public_reserved_concurrency: int = 20
    api_rate_limit: int = 100
    api_burst_limit: int = 200
    # Requests per 5 minutes per client IP before the WAF blocks it.
    waf_rate_limit: int = 2000
    alarm_email: str | None = None
    athena_bytes_scanned_cutoff: int = 10 * GiB
    default_quota_bytes: int = 10 * GiB
    # Cognito threat protection needs the Plus feature plan (extra cost per MAU).
    threat_protection: bool = True

    @classmethod
    def from_context(
        cls,
        get: Callable[[str], Any],
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Settings from CDK context (``get`` is ``app.node.try_get_context``) and the env."""
        environ = os.environ if environ is None else environ
        settings = cls(
            account=environ.get("CDK_DEFAULT_ACCOUNT") or None,
            region=environ.get("CDK_DEFAULT_REGION") or environ.get("AWS_REGION") or None,
        )
        changes: dict[str, Any] = {}
        for field in fields(cls):
            raw = get(_camel(field.name))
            if raw is None:
                continue
            current = getattr(settings, field.name)
            changes[field.name] = _coerce(raw, current)
        return replace(settings, **changes)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _coerce(raw: Any, current: Any) -> Any:
    if isinstance(current, bool):
        return raw if isinstance(raw, bool) else str(raw).lower() in {"1", "true", "yes"}
    if isinstance(current, int):
        return int(raw)
    if isinstance(current, tuple):
        items = raw if isinstance(raw, list) else str(raw).split(",")
        return tuple(str(i).strip() for i in items if str(i).strip())
    return None if raw == "" else str(raw)

"""Administration of a running local stack from another process (``filevault stack add-user``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from backend import naming
from backend.local.persistence import read_json


class StackNotRunning(Exception):
    pass


class AdminError(Exception):
    pass


def service_credentials(data_dir: Path) -> dict[str, str]:
    identity = read_json(data_dir / "stack.json")
    profile = read_json(data_dir / "profile.json")
    if identity is None or profile is None or not (data_dir / "running.pid").exists():
        raise StackNotRunning(
            f"no local stack is running on {data_dir}; start it with 'filevault stack up'"
        )
    return {
        "aws_access_key_id": identity["access_key"],
        "aws_secret_access_key": identity["secret_key"],
        "region": identity["region"],
        "endpoint_url": profile["aws_endpoint_url"],
        "upload_bucket": profile["upload_bucket"],
    }


def service_client(data_dir: Path, service: str, **overrides: Any) -> Any:
    """A boto3 client for the running stack's AWS endpoint, with its service credential.

    ``overrides`` replace client arguments (e.g. another ``aws_secret_access_key``).
    """
    creds = service_credentials(data_dir)
    kwargs: dict[str, Any] = {
        "endpoint_url": creds["endpoint_url"],
        "region_name": creds["region"],
        "aws_access_key_id": creds["aws_access_key_id"],
        "aws_secret_access_key": creds["aws_secret_access_key"],
    }
    if service == "s3":  # loopback has no virtual-host bucket names
        kwargs["config"] = Config(s3={"addressing_style": "path"}, signature_version="s3v4")
    kwargs.update(overrides)
    return boto3.client(service, **kwargs)  # type: ignore[call-overload]


def add_user(
    data_dir: Path, username: str, password: str, *, admin: bool = False
) -> dict[str, Any]:
    creds = service_credentials(data_dir)
    profile = json.loads((data_dir / "profile.json").read_text("utf-8"))
    idp = service_client(data_dir, "cognito-idp")
    pool = profile["user_pool_id"]
    try:
        user = idp.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS")[
            "User"
        ]
        idp.admin_set_user_password(
            UserPoolId=pool, Username=username, Password=password, Permanent=True
        )
        if admin:
            idp.admin_add_user_to_group(
                UserPoolId=pool, Username=username, GroupName=naming.ADMINS_GROUP
            )
    except EndpointConnectionError as exc:
        raise StackNotRunning(
            f"the local stack at {creds['endpoint_url']} does not answer"
        ) from exc
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "UsernameExistsException":
            raise AdminError(f"user {username!r} already exists") from exc
        raise AdminError(f"{error.get('Code')}: {error.get('Message')}") from exc
    attrs = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
    return {"username": username, "sub": attrs.get("sub"), "admin": admin}

"""Lambda entry points, one per route group (``backend.api.lambdas.<group>``)."""

from __future__ import annotations

import boto3
from botocore.config import Config

from backend.api.app import make_handler
from backend.config import BackendConfig
from backend.data.blobs import BlobStore
from backend.data.metadata import MetadataStore
from backend.logic.context import Services


def services_from_env() -> Services:
    config = BackendConfig.from_env()
    session = boto3.session.Session(region_name=config.region)
    retries = Config(
        retries={"mode": "adaptive", "max_attempts": 5},
        s3={"addressing_style": "virtual"},
        signature_version="s3v4",
    )
    db = session.client("dynamodb", endpoint_url=config.aws_endpoint_url, config=retries)
    s3 = session.client("s3", endpoint_url=config.aws_endpoint_url, config=retries)
    return Services(
        config=config,
        store=MetadataStore(db, config.table_name, default_quota=config.default_quota_bytes),
        uploads=BlobStore(s3, config.upload_bucket),
    )


uploads = make_handler(services_from_env, "uploads")
files = make_handler(services_from_env, "files")
shares = make_handler(services_from_env, "shares")
public = make_handler(services_from_env, "public")
account = make_handler(services_from_env, "account")

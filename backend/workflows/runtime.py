"""How step and event handlers get their services: from the environment in Lambda, or
installed by the local stack (and tests) with :func:`install`."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from botocore.config import Config

from backend.config import BackendConfig
from backend.data.blobs import ACCELERATE_CONFIG, BlobStore
from backend.data.directory import CognitoDirectory
from backend.data.events import Events
from backend.data.metadata import MetadataStore
from backend.logic.context import Services

log = logging.getLogger("filevault.workflows")
StepFn = Callable[[Services, dict[str, Any]], dict[str, Any]]
Handler = Callable[[Mapping[str, Any], Any], Any]
_lock = threading.Lock()
_installed: list[Services] = []


def services_from_env() -> Services:
    config = BackendConfig.from_env()
    session = boto3.session.Session(region_name=config.region)
    retries = Config(
        retries={"mode": "adaptive", "max_attempts": 5},
        s3={"addressing_style": "virtual"},
        signature_version="s3v4",
    )
    endpoint = config.aws_endpoint_url
    db = session.client("dynamodb", endpoint_url=endpoint, config=retries)
    s3 = session.client("s3", endpoint_url=endpoint, config=retries)
    events = None
    if config.notifications_topic_arn:
        events = Events(
            session.client("sns", endpoint_url=endpoint, config=retries),
            config.notifications_topic_arn,
            session.client("stepfunctions", endpoint_url=endpoint, config=retries),
            config.share_lifecycle_arn,
        )
    accelerate = None
    if config.s3_accelerate:
        # Signs URLs only (no request leaves through it); AWS's own endpoint, never an override.
        accelerate = session.client("s3", config=ACCELERATE_CONFIG)
    directory = None
    if config.user_pool_id:  # the admin API's function only
        idp = session.client("cognito-idp", endpoint_url=endpoint, config=retries)
        directory = CognitoDirectory(idp, config.user_pool_id)
    return Services(
        config=config,
        store=MetadataStore(db, config.table_name, default_quota=config.default_quota_bytes),
        uploads=BlobStore(s3, config.upload_bucket, accelerate_client=accelerate),
        processed=BlobStore(s3, config.processed_bucket),
        events=events,
        directory=directory,
    )


def install(services: Services | None) -> None:
    """Use these services for every handler in this process (None: back to the environment)."""
    with _lock:
        _installed[:] = [services] if services is not None else []


def services() -> Services:
    with _lock:
        if not _installed:
            _installed.append(services_from_env())
        return _installed[0]


def step(fn: StepFn) -> Handler:
    """A Lambda handler for a workflow step: the payload is the job, the result the new job."""

    def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        job = json.loads(json.dumps(event))  # a plain, private copy
        return fn(services(), job)

    handler.__name__ = handler.__qualname__ = f"step_{fn.__name__}"
    return handler

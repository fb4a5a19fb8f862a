"""An S3App over a real loopback HTTP server, with a boto3 client for it (path-style, dummy
credentials): what the S3 protocol tests drive."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from backend.local.s3 import ObjectCreatedEvent, ObjectStore, S3App, make_s3_server

MIN_PART = 64 * 1024


def s3_client(endpoint: str, **config: Any) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIDLOCALTEST",
        aws_secret_access_key="local-secret",
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1, "mode": "standard"},
            **config,
        ),
    )


class Server:
    def __init__(self, root: Path) -> None:
        self.events: list[ObjectCreatedEvent] = []
        self.store = ObjectStore(root, min_part_size=MIN_PART, on_object_created=self.events.append)
        self.httpd = make_s3_server(S3App(self.store), "127.0.0.1", 0)
        self.port = self.httpd.server_port
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
        self.store.close()

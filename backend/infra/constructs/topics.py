"""SNS topics encrypted with the data key that refuse requests without TLS."""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct


class SecureTopic(sns.Topic):
    def __init__(self, scope: Construct, id: str, *, key: kms.IKey, display_name: str) -> None:
        super().__init__(
            scope,
            id,
            display_name=display_name,
            master_key=key,
            enforce_ssl=True,
        )

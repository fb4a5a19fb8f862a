"""Exact grants: permission targets (``backend.infra.permissions``) to resource ARNs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import Aws
from aws_cdk import aws_iam as iam

from backend.infra.nag import acknowledge_object_wildcards
from backend.infra.permissions import KMS_DATA_ACTIONS, TARGET_CONDITIONS, Target

_KMS_SERVICE = {"dynamodb": "dynamodb", "s3": "s3", "sns": "sns"}


@dataclass
class TargetArns:
    """Resource ARNs per target; a target missing here cannot be granted (KeyError)."""

    arns: dict[Target, list[str]]
    key_arn: str

    def with_(self, target: Target, *arns: str) -> TargetArns:
        return TargetArns({**self.arns, target: list(arns)}, self.key_arn)


def grant(role: iam.IRole, access: Mapping[Target, tuple[str, ...]], arns: TargetArns) -> None:
    """One statement per target with exactly its actions (and the target's conditions, see
    ``TARGET_CONDITIONS``); KMS only through the services used."""
    services: set[str] = set()
    for target, actions in access.items():
        if not actions:
            continue
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="".join(part.title() for part in target.value.split("_")),
                actions=list(actions),
                resources=arns.arns[target],
                conditions=_conditions(target),
            )
        )
        acknowledge_object_wildcards(
            role,
            arns.arns[target],
            f"Object ARNs end in a key-prefix wildcard ({target.value}): S3 grants per object; "
            "the prefix is the narrowest one the handler's keys allow.",
        )
        prefix = actions[0].split(":", 1)[0]
        if prefix in _KMS_SERVICE:
            services.add(f"{_KMS_SERVICE[prefix]}.{Aws.REGION}.amazonaws.com")
    if services:
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="DataKeyViaServices",
                actions=list(KMS_DATA_ACTIONS),
                resources=[arns.key_arn],
                conditions={"StringEquals": {"kms:ViaService": sorted(services)}},
            )
        )


def _conditions(target: Target) -> dict[str, Any] | None:
    found = TARGET_CONDITIONS.get(target)
    return None if found is None else {k: dict(v) for k, v in found.items()}

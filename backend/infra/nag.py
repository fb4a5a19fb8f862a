"""cdk-nag acknowledgements: every suppression names its rule and says why, in code."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding (``AwsSolutions-X`` or ``AwsSolutions-X[finding]``)."""
    if len(reason) < 20:
        raise ValueError(f"say why {rule} is acknowledged on {scope.node.path}")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


def flatten(node: Any) -> str:
    """A resolved CloudFormation value as cdk-nag's IAM5 finding names it."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(flatten(i) for i in items)
        if "Fn::Sub" in node:
            return flatten(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{flatten(resource)}.{flatten(attribute)}>"
        if "Fn::ImportValue" in node:
            return flatten(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{flatten(node['Ref'])}>"
    raise ValueError(f"cannot name {node!r} as cdk-nag does")


def acknowledge_object_wildcards(scope: IConstruct, resources: Iterable[str], reason: str) -> None:
    """IAM5 for object-key wildcards (``.../users/*``): the one wildcard S3 cannot avoid."""
    stack = Stack.of(scope)
    for resource in resources:
        flat = flatten(stack.resolve(resource))
        if "*" in flat:
            acknowledge(scope, f"AwsSolutions-IAM5[Resource::{flat}]", reason)

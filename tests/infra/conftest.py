"""One synthesis of the whole CDK app per test session (offline, no AWS credentials used)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

ACCOUNT = "123456789012"
REGION = "eu-west-1"
PARTS = (
    "Storage",
    "Auth",
    "Data",
    "Notifications",
    "Workflows",
    "Edge",
    "Api",
    "Audit",
    "Analytics",
)


@dataclass
class Synth:
    app: Any
    stacks: Any
    outdir: Path
    templates: dict[str, dict[str, Any]]  # by part ("Storage", ...)
    template_files: dict[str, Path]
    regions: dict[str, str]

    def resources(self, part: str, type_: str) -> dict[str, dict[str, Any]]:
        found = self.templates[part].get("Resources", {})
        return {k: v for k, v in found.items() if v["Type"] == type_}

    def all_resources(self, type_: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for part in PARTS:
            for logical_id, res in self.resources(part, type_).items():
                yield part, logical_id, res


@pytest.fixture(scope="session")
def synth() -> Synth:
    from aws_cdk import App

    from backend.infra.app import build
    from backend.infra.settings import Settings

    # No stack is bundled: the Pillow layer's asset (pip from PyPI) is staged, not built.
    app = App(context={"aws:cdk:bundling-stacks": []})
    stacks = build(app, Settings(account=ACCOUNT, region=REGION))
    assembly = app.synth()
    templates: dict[str, dict[str, Any]] = {}
    files: dict[str, Path] = {}
    regions: dict[str, str] = {}
    for stack in stacks.all():
        part = stack.stack_name.split("-", 1)[1]
        artifact = assembly.get_stack_artifact(stack.artifact_id)
        path = Path(assembly.directory) / artifact.template_file
        files[part] = path
        templates[part] = json.loads(path.read_text("utf-8"))
        regions[part] = stack.region
    return Synth(app, stacks, Path(assembly.directory), templates, files, regions)


def statements(policy_document: dict[str, Any]) -> list[dict[str, Any]]:
    found = policy_document.get("Statement", [])
    return found if isinstance(found, list) else [found]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def functions(synth: Synth, part: str) -> dict[str, dict[str, Any]]:
    """Our Lambda functions of a stack (CDK's own Node.js providers left out), by logical id."""
    return {
        lid: res["Properties"]
        for lid, res in synth.resources(part, "AWS::Lambda::Function").items()
        if str(res["Properties"].get("Handler", "")).startswith("backend.")
    }


def role_statements(synth: Synth, part: str, function: dict[str, Any]) -> list[dict[str, Any]]:
    """Every policy statement of the function's role."""
    role = function["Role"]["Fn::GetAtt"][0]
    found = []
    for res in synth.resources(part, "AWS::IAM::Policy").values():
        if {"Ref": role} in res["Properties"]["Roles"]:
            found += statements(res["Properties"]["PolicyDocument"])
    return found


def actions(statement: dict[str, Any]) -> set[str]:
    return set(as_list(statement["Action"]))

"""The offline checks: cdk-nag AwsSolutions and cfn-lint over every synthesized template."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import PARTS, Synth

CFN_LINT = Path(sys.executable).parent / "cfn-lint"


def test_every_stack_synthesizes_offline(synth: Synth) -> None:
    assert sorted(synth.templates) == sorted(PARTS)
    assert synth.regions["Edge"] == "us-east-1"  # CloudFront-scoped WAF lives there


def test_cdk_nag_aws_solutions_has_no_unacknowledged_findings(synth: Synth) -> None:
    from cdk_nag import AwsSolutionsChecks

    report = AwsSolutionsChecks().validate_scope(synth.app)
    findings = [
        f"{v.rule_name} at {r.construct_path}: {v.description[:100]}"
        for v in report.violations
        for r in v.violating_resources
    ]
    assert findings == []


def test_every_acknowledgement_gives_a_reason(synth: Synth) -> None:
    from aws_cdk import Validations

    key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    seen = 0
    for construct in synth.app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type != key:
                continue
            # {"Annotation::<rule id>": "<reason>", ...}
            # (CDK acknowledges some of its own template-validation warnings the same way.)
            for rule, reason in dict(entry.data).items():
                if rule.split("::", 1)[-1].startswith("AwsSolutions-"):
                    seen += 1
                    assert len(str(reason)) >= 20, (rule, reason)
    assert seen > 0


@pytest.fixture(scope="module")
def cfn_lint_results(synth: Synth) -> dict[str, list[dict[str, Any]]]:
    by_file = {str(path): part for part, path in synth.template_files.items()}
    out = subprocess.run(
        [
            str(CFN_LINT),
            *by_file,
            "--format",
            "json",
            "--regions",
            "eu-west-1",
            "us-east-1",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert out.stdout.strip(), out.stderr
    results: dict[str, list[dict[str, Any]]] = {part: [] for part in PARTS}
    for match in json.loads(out.stdout):
        results[by_file[match["Filename"]]].append(match)
    return results


@pytest.mark.parametrize("part", PARTS)
def test_cfn_lint_finds_no_errors(
    cfn_lint_results: dict[str, list[dict[str, Any]]], part: str
) -> None:
    errors = [
        f"{m['Rule']['Id']} {m['Location']['Path']}: {m['Message']}"
        for m in cfn_lint_results[part]
        if m["Level"] == "Error"
    ]
    assert errors == []

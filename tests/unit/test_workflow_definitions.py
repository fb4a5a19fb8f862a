"""The ASL definitions: valid for moto's parser, every Task retried and caught, placeholders
declared exactly, handlers importable."""

from __future__ import annotations

import importlib
import json

import pytest
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from backend.local.workflows import fast_timing
from backend.workflows import definitions as d


def _subs(spec: d.StateMachineSpec) -> dict[str, str]:
    return {
        p.name: (
            f"arn:aws:lambda:us-east-1:123456789012:function:{p.name}"
            if isinstance(p, d.LambdaPlaceholder)
            else f"arn:aws:sns:us-east-1:123456789012:{p.name}"
        )
        for p in spec.placeholders
    }


@pytest.mark.parametrize("spec", d.STATE_MACHINES, ids=lambda s: s.name)
def test_placeholders_match_the_spec(spec: d.StateMachineSpec) -> None:
    assert d.placeholders_in(d.load_definition(spec)) == {p.name for p in spec.placeholders}
    rendered = d.render(spec, _subs(spec))
    assert "${" not in rendered
    AmazonStateLanguageParser.parse(rendered)


@pytest.mark.parametrize("spec", d.STATE_MACHINES, ids=lambda s: s.name)
def test_every_task_retries_with_backoff_and_catches(spec: d.StateMachineSpec) -> None:
    states = d.parsed(spec, _subs(spec))["States"]
    tasks = {name: s for name, s in states.items() if s["Type"] == "Task"}
    assert tasks
    for name, task in tasks.items():
        retriers = [r for r in task["Retry"] if r.get("MaxAttempts", 3) > 0]
        assert retriers, name
        assert all(r["BackoffRate"] >= 2 for r in retriers), name
        catchers = task["Catch"]
        assert any("States.ALL" in c["ErrorEquals"] for c in catchers), name
        assert all(c["Next"] in states for c in catchers), name


def test_upload_failures_lead_to_mark_failed() -> None:
    states = d.parsed(d.UPLOAD_PROCESSING, _subs(d.UPLOAD_PROCESSING))["States"]
    for name in ("Validate", "ExtractMetadata", "MakePreviews", "RecordResult", "Quarantine"):
        catch_all = [c for c in states[name]["Catch"] if "States.ALL" in c["ErrorEquals"]]
        assert catch_all[0]["Next"] == "MarkFailed", name
    assert states["MarkFailed"]["Next"] == "NotifyFailure"
    assert states["NotifyFailure"]["Next"] == "ProcessingFailed"
    assert states["ProcessingFailed"]["Type"] == "Fail"


def test_handlers_are_importable() -> None:
    paths = [p.handler for s in d.STATE_MACHINES for p in s.lambdas]
    paths += [h.handler for h in d.EVENT_HANDLERS]
    for path in paths:
        module, _, name = path.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), path


def test_every_resource_has_an_environment_variable() -> None:
    assert set(d.RESOURCE_ENV) == set(d.Resource)


def test_render_refuses_missing_and_unknown_placeholders() -> None:
    subs = _subs(d.SHARE_LIFECYCLE)
    with pytest.raises(KeyError, match="NotificationsTopicArn"):
        d.render(d.SHARE_LIFECYCLE, {k: v for k, v in subs.items() if k != "NotificationsTopicArn"})
    with pytest.raises(ValueError, match="Bogus"):
        d.render(d.SHARE_LIFECYCLE, {**subs, "Bogus": "x"})


def test_fast_timing_keeps_non_retried_errors() -> None:
    definition = fast_timing(d.parsed(d.UPLOAD_PROCESSING, _subs(d.UPLOAD_PROCESSING)))
    retry = definition["States"]["Validate"]["Retry"]
    assert any(r["MaxAttempts"] == 0 for r in retry)
    assert all(
        r["IntervalSeconds"] == 1 and r["BackoffRate"] == 1.0 for r in retry if r["MaxAttempts"]
    )
    AmazonStateLanguageParser.parse(json.dumps(definition))

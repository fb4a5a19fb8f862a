"""Issue 8's last items in the templates: trash-expiry tagging rights, Transfer Acceleration for
the API, the Pillow layer on exactly the functions whose code imports PIL, and the AWS FIS
Lambda extension on the functions the experiment template targets."""

from __future__ import annotations

import itertools
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from backend import naming
from backend.infra.constructs.fis import (
    FIS_CONFIG_PREFIX,
    FIS_EXEC_WRAPPER,
    FIS_EXTENSION_PARAMETER,
)
from backend.infra.constructs.functions import RUNTIME
from backend.infra.constructs.pillow import pip_command
from backend.infra.imports import handler_module, imports_package
from backend.infra.nag import flatten
from backend.infra.settings import Settings
from tests.infra.conftest import (
    PARTS,
    Synth,
    actions,
    as_list,
    functions,
    role_statements,
    statements,
)

REPO = Path(__file__).resolve().parents[2]
TAGGING = {"s3:PutObjectTagging", "s3:DeleteObjectTagging"}


def _env(function: dict[str, Any]) -> dict[str, Any]:
    return dict(function["Environment"]["Variables"])


# ------------------------------------------------------------------ trash expiry
def test_only_the_trash_handler_may_tag_upload_objects_and_only_there(synth: Synth) -> None:
    taggers = {}
    for part in PARTS:
        for function in functions(synth, part).values():
            for statement in role_statements(synth, part, function):
                if actions(statement) & TAGGING:
                    taggers[function["Handler"]] = statement
    # Trash and restore are routes of the "files" group.
    assert set(taggers) == {"backend.api.lambdas.files"}
    statement = taggers["backend.api.lambdas.files"]
    assert actions(statement) >= TAGGING
    resources = [flatten(r) for r in as_list(statement["Resource"])]
    assert resources == [
        "arn:<AWS::Partition>:s3:::filevault-uploads-<AWS::AccountId>-<AWS::Region>/users/*"
    ]


# ---------------------------------------------------------------- acceleration
def test_api_functions_sign_accelerated_urls_and_the_bucket_accelerates(synth: Synth) -> None:
    api = functions(synth, "Api")
    assert len(api) == 7  # one per route group (admin included)
    for function in api.values():
        assert _env(function)[naming.ENV_S3_ACCELERATE] == "1", function["Handler"]
    for function in functions(synth, "Workflows").values():  # they sign no client URLs
        assert naming.ENV_S3_ACCELERATE not in _env(function)
    uploads = next(
        b for lid, b in synth.resources("Storage", "AWS::S3::Bucket").items() if "Uploads" in lid
    )
    assert uploads["Properties"]["AccelerateConfiguration"] == {"AccelerationStatus": "Enabled"}


def test_acceleration_can_be_turned_off_by_context() -> None:
    settings = Settings.from_context(
        lambda key: "false" if key == "transferAcceleration" else None, environ={}
    )
    assert settings.transfer_acceleration is False


# ---------------------------------------------------------------- Pillow layer
def _pillow_layers(synth: Synth, part: str) -> dict[str, dict[str, Any]]:
    return synth.resources(part, "AWS::Lambda::LayerVersion")


def test_the_pillow_layer_is_on_exactly_the_functions_that_import_pil(synth: Synth) -> None:
    with_layer, without = [], []
    for part in PARTS:
        layers = _pillow_layers(synth, part)
        for function in functions(synth, part).values():
            refs = {ref.get("Ref") for ref in function.get("Layers", []) if isinstance(ref, dict)}
            has = bool(refs & set(layers))
            assert has == imports_package(function["Handler"], "PIL"), function["Handler"]
            (with_layer if has else without).append(function["Handler"])
    # The workflow steps reach PIL through backend.workflows.imaging; the API handlers read
    # processing state through backend.logic.processing_info, which does not.
    assert "backend.workflows.steps.previews.handler" in with_layer
    assert "backend.workflows.steps.watermark.handler" in with_layer
    assert "backend.api.lambdas.files" in without
    assert not _pillow_layers(synth, "Api")  # no API function needs it: no layer is built
    for part in ("Workflows",):  # one layer per stack that needs it: no cross-stack export
        (layer,) = _pillow_layers(synth, part).values()
        props = layer["Properties"]
        assert props["CompatibleArchitectures"] == ["arm64"]
        assert props["CompatibleRuntimes"] == [RUNTIME.name]
        assert f"Pillow {Settings().pillow_version}" in props["Description"]
        assert props["Content"]["S3Key"].endswith(".zip")


def test_the_static_import_walk_tells_pil_users_apart(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    for name, text in {
        "__init__.py": "",
        "sub/__init__.py": "",
        "plain.py": "import json\nfrom pkg import helper\n",
        "helper.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import PIL\n",
        "images.py": "from .sub import lazy\n",
        "sub/lazy.py": "def thumb():\n    from PIL import Image\n    return Image\n",
    }.items():
        (pkg / name).write_text(text)
    assert not imports_package("pkg.plain.handler", "PIL", tmp_path)
    assert imports_package("pkg.images.handler", "PIL", tmp_path)  # relative + lazy import


def test_static_walk_covers_every_import_that_happens_at_load_time(synth: Synth) -> None:
    """The layer decision (static) must include every module a handler loads for real."""
    handlers = {f["Handler"] for part in PARTS for f in functions(synth, part).values()}
    modules = sorted({handler_module(h) for h in handlers})

    def loads_pil(module: str) -> bool:
        code = f"import sys, {module}; print('PIL' in sys.modules)"
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
        )
        return out.stdout.strip() == "True"

    with ThreadPoolExecutor(max_workers=4) as pool:
        loaded = dict(zip(modules, pool.map(loads_pil, modules), strict=True))
    for module, pil in loaded.items():
        if pil:
            assert imports_package(f"{module}.handler", "PIL"), module


def test_pip_builds_the_arm64_wheel_for_the_runtime_python() -> None:
    command = pip_command("pillow==13.0.0", "3.13", "/out/python")
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    assert "--only-binary=:all:" in command
    pairs = set(itertools.pairwise(command))
    assert ("--platform", "manylinux2014_aarch64") in pairs
    assert ("--implementation", "cp") in pairs
    assert ("--python-version", "3.13") in pairs
    assert ("--target", "/out/python") in pairs
    assert command[-1] == "pillow==13.0.0"


def test_the_pinned_pillow_satisfies_the_backend_requirement() -> None:
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    (pillow,) = [
        Requirement(r)
        for r in project["optional-dependencies"]["backend"]
        if r.lower().startswith("pillow")
    ]
    assert pillow.specifier.contains(Settings().pillow_version)


# ---------------------------------------------------------- FIS Lambda extension
def _fis_layer_parameter(synth: Synth) -> str:
    params = synth.templates["Api"]["Parameters"]
    (name,) = [
        key
        for key, p in params.items()
        if p.get("Type") == "AWS::SSM::Parameter::Value<String>"
        and p.get("Default") == FIS_EXTENSION_PARAMETER
    ]
    return name


def test_fis_targets_carry_the_extension_its_settings_and_read_access(synth: Synth) -> None:
    layer_param = _fis_layer_parameter(synth)
    template = next(iter(synth.resources("Audit", "AWS::FIS::ExperimentTemplate").values()))
    targets = template["Properties"]["Targets"]["functions"]["ResourceArns"]
    assert len(targets) == 7  # one per API route group (cross-stack imports of their ARNs)
    api = functions(synth, "Api")
    for function in api.values():
        assert {"Ref": layer_param} in function["Layers"], function["Handler"]
        env = _env(function)
        assert env["AWS_LAMBDA_EXEC_WRAPPER"] == FIS_EXEC_WRAPPER
        location = flatten(env["AWS_FIS_CONFIGURATION_LOCATION"])
        bucket = "filevault-fis-<AWS::AccountId>-<AWS::Region>"
        assert location == f"arn:<AWS::Partition>:s3:::{bucket}/{FIS_CONFIG_PREFIX}"
        found = role_statements(synth, "Api", function)
        listing = [s for s in found if actions(s) == {"s3:ListBucket"}]
        reading = [s for s in found if s.get("Sid") == "FisConfigRead"]
        assert [flatten(s["Resource"]) for s in listing] == [f"arn:<AWS::Partition>:s3:::{bucket}"]
        assert listing[0]["Condition"] == {"StringLike": {"s3:prefix": [f"{FIS_CONFIG_PREFIX}*"]}}
        assert [flatten(s["Resource"]) for s in reading] == [
            f"arn:<AWS::Partition>:s3:::{bucket}/{FIS_CONFIG_PREFIX}*"
        ]
        assert actions(reading[0]) == {"s3:GetObject"}
    # Functions the template does not target stay without it.
    for function in functions(synth, "Workflows").values():
        assert "AWS_LAMBDA_EXEC_WRAPPER" not in _env(function)


def test_the_experiment_role_writes_the_fault_files_where_the_extension_reads(
    synth: Synth,
) -> None:
    policies = synth.resources("Audit", "AWS::IAM::Policy").values()
    writes = [
        s
        for p in policies
        for s in statements(p["Properties"]["PolicyDocument"])
        if s.get("Sid") == "WriteFaultConfig"
    ]
    assert len(writes) == 1
    assert actions(writes[0]) == {"s3:PutObject", "s3:DeleteObject"}
    assert [flatten(r) for r in as_list(writes[0]["Resource"])] == [
        f"arn:<AWS::Partition>:s3:::filevault-fis-<AWS::AccountId>-<AWS::Region>/"
        f"{FIS_CONFIG_PREFIX}*"
    ]


def test_the_fis_config_bucket_is_private_encrypted_tls_only_and_expires(synth: Synth) -> None:
    (bucket,) = [
        b["Properties"]
        for lid, b in synth.resources("Storage", "AWS::S3::Bucket").items()
        if lid.startswith("FisConfigs")
    ]
    assert flatten(bucket["BucketName"]) == "filevault-fis-<AWS::AccountId>-<AWS::Region>"
    encryption = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert bucket["LoggingConfiguration"]["LogFilePrefix"] == "s3/FisConfigs/"
    assert any(r.get("ExpirationInDays") for r in bucket["LifecycleConfiguration"]["Rules"])


@pytest.mark.parametrize("part", ["Api"])
def test_at_most_five_layers_per_function(synth: Synth, part: str) -> None:
    for function in functions(synth, part).values():
        assert len(function["Layers"]) <= 5  # Lambda's limit

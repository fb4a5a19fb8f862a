"""A Lambda layer with Pillow for arm64 Python, built by ``pip`` on this machine (no Docker).

CDK bundles the asset with :class:`PipInstall` (local bundling): ``pip install`` of the
manylinux aarch64 wheel for the Lambda runtime's Python into ``<output>/python``. That needs pip
and access to PyPI at ``cdk synth``/``cdk deploy`` time; the Docker fallback is never used (a
failure raises and says what is missing). Tests skip bundling (context
``aws:cdk:bundling-stacks = []``), so synthesis in tests stays offline.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

# The Lambda runtime runs Amazon Linux 2023 (glibc 2.34): wheels tagged manylinux_2_28 or older
# run there. Newer Pillow releases publish aarch64 wheels as manylinux_2_28 only.
PLATFORMS = ("manylinux_2_28_aarch64", "manylinux2014_aarch64")
# Never pulled: local bundling either succeeds or raises (see PipInstall.try_bundle).
_UNUSED_IMAGE = "public.ecr.aws/docker/library/busybox:latest"


def pip_command(requirement: str, python_version: str, target: str) -> list[str]:
    """The ``pip install`` that puts ``requirement``'s arm64 wheel under ``target``."""
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
        "--no-compile",
        "--only-binary=:all:",
        *platforms,
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--target",
        target,
        requirement,
    ]


@jsii.implements(ILocalBundling)
class PipInstall:
    """Local bundling: ``pip install`` into ``<output dir>/python`` (a layer's Python path)."""

    def __init__(self, requirement: str, python_version: str) -> None:
        self.requirement = requirement
        self.python_version = python_version

    def try_bundle(self, output_dir: str, *_options: Any, **_kw_options: Any) -> bool:
        # jsii passes the bundling options positionally; pip needs none of them.
        command = pip_command(
            self.requirement, self.python_version, str(Path(output_dir) / "python")
        )
        try:
            subprocess.run(  # noqa: S603 - our own fixed argument list
                command, check=True, capture_output=True, text=True, timeout=600
            )
        except (OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", None) or str(exc)
            raise RuntimeError(
                f"Building the Pillow layer failed: `{' '.join(command)}` did not succeed "
                f"({str(detail).strip()[-500:]}). `cdk synth`/`cdk deploy` need pip in this "
                "Python environment (`python -m ensurepip` or your OS's python3-pip) and "
                "network access to PyPI; Docker is not used."
            ) from exc
        return True


def _source_dir(requirement: str) -> str:
    """A small stable input directory for the asset (the layer's content is pip's output)."""
    root = Path(tempfile.gettempdir()) / "filevault-layer-src"
    root.mkdir(parents=True, exist_ok=True)
    (root / "requirements.txt").write_text(requirement + "\n", "utf-8")
    return str(root)


class PillowLayer(Construct):
    """One per stack (:meth:`of`): Pillow for arm64 functions of the Lambda runtime."""

    def __init__(
        self, scope: Construct, id: str, *, version: str, runtime: lambda_.Runtime
    ) -> None:
        super().__init__(scope, id)
        requirement = f"pillow=={version}"
        python_version = runtime.name.removeprefix("python")  # python3.13 -> 3.13
        asset_hash = hashlib.sha256(
            f"{requirement}|{python_version}|{'|'.join(PLATFORMS)}".encode()
        ).hexdigest()
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            description=f"Pillow {version} for {runtime.name} arm64 (pip, manylinux wheels)",
            compatible_runtimes=[runtime],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            code=lambda_.Code.from_asset(
                _source_dir(requirement),
                # The same pinned requirement gives the same layer: no rebuild on every synth.
                asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=asset_hash,
                bundling=BundlingOptions(
                    image=DockerImage.from_registry(_UNUSED_IMAGE),
                    local=PipInstall(requirement, python_version),
                ),
            ),
        )

    @staticmethod
    def of(scope: Construct, *, version: str, runtime: lambda_.Runtime) -> lambda_.ILayerVersion:
        """The stack's Pillow layer, created on first use (no cross-stack reference)."""
        stack = Stack.of(scope)
        found = stack.node.try_find_child("PillowLayer")
        if isinstance(found, PillowLayer):
            return found.layer
        return PillowLayer(stack, "PillowLayer", version=version, runtime=runtime).layer
